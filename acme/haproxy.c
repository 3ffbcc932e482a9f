#include "haproxy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "../preflight/clock.h"

#define REPLY_MAX_BYTES (64L * 1024) /* `show` prints a few kB */

static long ms_left(long long end)
{
	long long left = end - sg_now_ms();

	return left > 0 ? (long)left : 0;
}

/* Waits for events on fd until end; false on timeout or error. */
static bool wait_fd(int fd, short events, long long end)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	do
		rc = poll(&p, 1, (int)ms_left(end));
	while (rc < 0 && errno == EINTR);
	return rc > 0;
}

static sg_result cli_send(int fd, const char *path, const char *cmd,
			  long long end)
{
	size_t len = strlen(cmd), done = 0;

	while (done < len) {
		ssize_t n = send(fd, cmd + done, len - done, MSG_NOSIGNAL);

		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return sg_err(SG_ESYS, "%s: write: %s", path,
				      strerror(errno));
		else if (!wait_fd(fd, POLLOUT, end))
			return sg_err(SG_ESYS, "%s: timed out writing", path);
	}
	return sg_ok();
}

/* HAProxy's non-interactive mode: it answers the one command, then
 * closes; the answer is everything up to the close. */
static sg_result cli_read(int fd, const char *path, long long end, char **out)
{
	size_t used = 0;
	char *buf = malloc(REPLY_MAX_BYTES + 1);

	if (buf == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = recv(fd, buf + used, REPLY_MAX_BYTES - used, 0);

		if (n == 0)
			break;
		if (n > 0) {
			used += (size_t)n;
			if (used == REPLY_MAX_BYTES)
				break; /* enough to judge; the rest is noise */
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			free(buf);
			return sg_err(SG_ESYS, "%s: read: %s", path,
				      strerror(errno));
		}
		if (!wait_fd(fd, POLLIN, end)) {
			free(buf);
			return sg_err(SG_ESYS,
				      "%s: timed out waiting for HAProxy",
				      path);
		}
	}
	buf[used] = '\0';
	*out = buf;
	return sg_ok();
}

/* One command on the stats socket; *reply is malloc'd. */
static sg_result cli_command(const char *path, const char *cmd, long timeout_ms,
			     char **reply)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	long long end = sg_now_ms() + timeout_ms;
	int fd;
	sg_result r;

	*reply = NULL;
	if (strlen(path) >= sizeof(a.sun_path))
		return sg_err(SG_EINPUT, "%s: socket path too long", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sg_err(SG_ESYS, "%s: socket: %s", path, strerror(errno));
	/* A unix socket connects at once or not at all (EAGAIN: its
	 * backlog is full, HAProxy is not keeping up). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		r = sg_err(SG_ESYS, "%s: cannot connect: %s", path,
			   strerror(errno));
		close(fd);
		return r;
	}
	r = cli_send(fd, path, cmd, end);
	if (!r.code)
		r = cli_read(fd, path, end, reply);
	close(fd);
	return r;
}

/* The first line of HAProxy's answer, for an error message. */
static void first_line(const char *reply, char *out, size_t size)
{
	size_t n = strcspn(reply, "\r\n");

	while (n == 0 && *reply) {
		reply++;
		n = strcspn(reply, "\r\n");
	}
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), reply);
}

/* HAProxy keys its OCSP entries by the DER of the SHA-1 CertID of the
 * certificate, in hex. */
static bool certid_key(OCSP_CERTID *id, char *out, size_t size)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_CERTID(id, &der);

	if (n <= 0 || (size_t)n * 2 + 1 > size) {
		OPENSSL_free(der);
		return false;
	}
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", der[i]);
	OPENSSL_free(der);
	return true;
}

/* "<label>: <time>" as OCSP_RESPONSE_print writes it, which is what
 * HAProxy's `show ssl ocsp-response <id>` prints. */
static bool print_time(const char *label, const ASN1_GENERALIZEDTIME *t,
		       char *out, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	bool ok = false;

	if (b && t && ASN1_GENERALIZEDTIME_print(b, t) > 0) {
		n = BIO_get_mem_data(b, &p);
		snprintf(out, size, "%s: %.*s", label, (int)n, p);
		ok = true;
	}
	BIO_free(b);
	return ok;
}

/* The three lines that tell one response for id from another. */
static bool response_lines(const unsigned char *der, size_t len,
			   OCSP_CERTID *id, char lines[3][96])
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
	int status, reason;
	bool ok =
		bs &&
		OCSP_resp_find_status(bs, id, &status, &reason, NULL, &thisupd,
				      &nextupd) == 1 &&
		print_time("Produced At", OCSP_resp_get0_produced_at(bs),
			   lines[0], sizeof(lines[0])) &&
		print_time("This Update", thisupd, lines[1],
			   sizeof(lines[1])) &&
		print_time("Next Update", nextupd, lines[2], sizeof(lines[2]));

	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ok;
}

sg_result sg_haproxy_holds(const char *socket_path, const unsigned char *der,
			   size_t len, X509 *leaf, X509 *issuer,
			   long timeout_ms, bool *holds)
{
	OCSP_CERTID *id =
		issuer ? OCSP_cert_to_id(EVP_sha1(), leaf, issuer) : NULL;
	char key[512], cmd[600], lines[3][96], *reply = NULL;
	sg_result r = sg_ok();

	*holds = false;
	if (id == NULL || !certid_key(id, key, sizeof(key)))
		r = sg_err(SG_EINPUT, "%s: no CertID for the certificate",
			   socket_path);
	else if (!response_lines(der, len, id, lines))
		r = sg_err(SG_EINPUT,
			   "%s: the staple has no response for the "
			   "certificate",
			   socket_path);
	if (!r.code) {
		snprintf(cmd, sizeof(cmd), "show ssl ocsp-response %s\n", key);
		r = cli_command(socket_path, cmd, timeout_ms, &reply);
	}
	if (!r.code)
		*holds = strstr(reply, lines[0]) && strstr(reply, lines[1]) &&
			 strstr(reply, lines[2]);
	free(reply);
	OCSP_CERTID_free(id);
	return r;
}

static char *set_command(const unsigned char *der, size_t len)
{
	static const char verb[] = "set ssl ocsp-response ";
	size_t b64 = 4 * ((len + 2) / 3);
	char *cmd = malloc(sizeof(verb) + b64 + 2);

	if (cmd == NULL)
		return NULL;
	memcpy(cmd, verb, sizeof(verb) - 1);
	EVP_EncodeBlock((unsigned char *)cmd + sizeof(verb) - 1, der, (int)len);
	strcpy(cmd + sizeof(verb) - 1 + b64, "\n");
	return cmd;
}

sg_result sg_haproxy_push(const char *socket_path, const unsigned char *der,
			  size_t len, X509 *leaf, X509 *issuer,
			  const struct sg_policy *policy, long timeout_ms)
{
	struct sg_staple st;
	char *cmd, *reply = NULL, line[256];
	bool holds = false;
	long long start = sg_now_ms();
	sg_result r;

	/* The one gate in front of the socket: whatever the caller has,
	 * only a response that verifies now goes to HAProxy. */
	sg_staple_verify(der, len, leaf, issuer, policy, time(NULL), &st);
	if (!st.valid)
		return sg_err(SG_EINPUT, "%s: staple not pushed: %s",
			      socket_path, st.reason);
	cmd = set_command(der, len);
	if (cmd == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	r = cli_command(socket_path, cmd, timeout_ms, &reply);
	free(cmd);
	if (!r.code && strstr(reply, "does not match")) {
		r = sg_err(SG_EINPUT,
			   "%s: HAProxy has no OCSP entry for the certificate "
			   "(2.6 makes one only from <crt>.ocsp at load)",
			   socket_path);
	} else if (!r.code && !strstr(reply, "OCSP Response updated")) {
		first_line(reply, line, sizeof(line));
		r = sg_err(SG_EINPUT, "%s: HAProxy refused the staple: %s",
			   socket_path, line[0] ? line : "no answer");
	}
	free(reply);
	if (!r.code)
		r = sg_haproxy_holds(socket_path, der, len, leaf, issuer,
				     timeout_ms - (long)(sg_now_ms() - start),
				     &holds);
	if (!r.code && !holds)
		r = sg_err(SG_EINPUT,
			   "%s: HAProxy took the staple but shows another "
			   "response for the certificate",
			   socket_path);
	return r;
}

#include "target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

#define DEFAULT_PORT 443

static bool port_parse(const char *s, unsigned short *port)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s) || strlen(s) > 5)
		return false;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return false;
	*port = (unsigned short)v;
	return true;
}

/* Letters, digits, '-', '.' and '_' (seen in internal names): enough
 * to refuse spaces, schemes and paths that operators paste by mistake. */
static bool hostname_ok(const char *h)
{
	if (*h == '\0' || *h == '.' || *h == '-')
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr("-._", *h))
			return false;
	return true;
}

static sg_result bad(const char *text, const char *why)
{
	return sg_err(SG_EINPUT, "invalid target '%s': %s", text, why);
}

/* Points t's strings into one new block holding exactly them, then
 * drops the old one (the arguments may point into it). */
static sg_result set_text(struct sg_target *t, const char *spec,
			  const char *host, const char *servername,
			  const char *unresolved)
{
	const char *parts[4] = {spec, host, servername, unresolved};
	const char **fields[4] = {&t->spec, &t->host, &t->servername,
				  &t->unresolved};
	size_t len[4], total = 0;
	char *block, *at;

	for (int i = 0; i < 4; i++)
		total += (len[i] = strlen(parts[i])) + 1;
	block = malloc(total);
	if (block == NULL)
		return sg_err(SG_ENOMEM, "out of memory");
	at = block;
	for (int i = 0; i < 4; i++) {
		memcpy(at, parts[i], len[i] + 1);
		*fields[i] = at;
		at += len[i] + 1;
	}
	free(t->text);
	t->text = block;
	return sg_ok();
}

static void clear(struct sg_target *t)
{
	memset(t, 0, sizeof(*t));
	t->spec = t->host = t->servername = t->unresolved = "";
}

sg_result sg_target_parse(const char *text, struct sg_target *t)
{
	const char *host = text, *port = NULL;
	char hostbuf[SG_HOST_MAX];
	size_t hostlen;
	unsigned char addr[16];
	bool is_ip = false;
	unsigned short portnum = DEFAULT_PORT;
	sg_result r;

	clear(t);
	if (strlen(text) >= SG_SPEC_MAX)
		return bad(text, "too long");
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL)
			return bad(text, "missing ']' after IPv6 address");
		host = text + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return bad(text, "expected ':PORT' after ']'");
	} else {
		const char *colon = strchr(text, ':');

		if (colon && strchr(colon + 1, ':'))
			return bad(text, "IPv6 addresses need brackets: "
					 "[ADDR]:PORT");
		hostlen = colon ? (size_t)(colon - text) : strlen(text);
		if (colon)
			port = colon + 1;
	}
	if (hostlen == 0 || hostlen >= sizeof(hostbuf))
		return bad(text, "empty or overlong host");
	memcpy(hostbuf, host, hostlen);
	hostbuf[hostlen] = '\0';
	if (port && !port_parse(port, &portnum))
		return bad(text, "port must be a number from 1 to 65535");
	if (text[0] == '[') {
		if (inet_pton(AF_INET6, hostbuf, addr) != 1)
			return bad(text, "not an IPv6 address");
		is_ip = true;
	} else if (inet_pton(AF_INET, hostbuf, addr) == 1) {
		is_ip = true;
	} else if (!hostname_ok(hostbuf)) {
		return bad(text, "not a host name or IP address");
	}
	r = set_text(t, text, hostbuf, "", "");
	if (r.code)
		return r;
	t->port = portnum;
	t->host_is_ip = is_ip;
	return sg_ok();
}

sg_result sg_target_copy(struct sg_target *dst, const struct sg_target *src,
			 const char *servername)
{
	sg_result r;

	*dst = *src;
	dst->text = NULL;
	r = set_text(dst, src->spec, src->host,
		     servername ? servername : src->servername,
		     src->unresolved);
	if (r.code)
		clear(dst);
	return r;
}

void sg_target_free(struct sg_target *t)
{
	free(t->text);
	clear(t);
}

void sg_targets_free(struct sg_target *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].text);
	free(v);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

sg_result sg_targets_file(const char *path, struct sg_target **v, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = *n;
	int lineno = 0;
	sg_result r = sg_ok();

	if (f == NULL)
		return sg_err(SG_EINPUT, "%s: %s", path, strerror(errno));
	while (!r.code && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *text;

		lineno++;
		if (hash)
			*hash = '\0';
		text = trim(line);
		if (*text == '\0')
			continue;
		if (*n == cap) {
			struct sg_target *grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(*v, cap * sizeof(**v));
			if (grown == NULL) {
				r = sg_err(SG_ENOMEM, "out of memory");
				break;
			}
			*v = grown;
		}
		r = sg_target_parse(text, &(*v)[*n]);
		if (r.code)
			r = sg_err(SG_EINPUT, "%s:%d: %s", path, lineno,
				   r.reason);
		else
			(*n)++;
	}
	fclose(f);
	return r;
}

sg_result sg_targets_resolve(struct sg_target *t, size_t n,
			     long long deadline_ms)
{
	const char **hosts = calloc(n ? n : 1, sizeof(*hosts));
	struct sg_resolved *got = calloc(n ? n : 1, sizeof(*got));
	sg_result r = sg_ok();

	if (hosts == NULL || got == NULL)
		r = sg_err(SG_ENOMEM, "out of memory");
	for (size_t i = 0; !r.code && i < n; i++)
		hosts[i] = t[i].host;
	if (!r.code)
		r = sg_resolve(hosts, n, deadline_ms, got);
	for (size_t i = 0; !r.code && i < n; i++) {
		union sg_addr *a = &t[i].addr;

		t[i].addrlen = 0;
		if (strcmp(got[i].error, t[i].unresolved) != 0)
			r = set_text(&t[i], t[i].spec, t[i].host,
				     t[i].servername, got[i].error);
		if (r.code || got[i].addrlen == 0 ||
		    got[i].addrlen > sizeof(*a) ||
		    (got[i].addr.ss_family != AF_INET &&
		     got[i].addr.ss_family != AF_INET6))
			continue;
		memset(a, 0, sizeof(*a));
		memcpy(a, &got[i].addr, got[i].addrlen);
		t[i].addrlen = got[i].addrlen;
		if (a->sa.sa_family == AF_INET6)
			a->in6.sin6_port = htons(t[i].port);
		else
			a->in.sin_port = htons(t[i].port);
	}
	free(hosts);
	free(got);
	return r;
}

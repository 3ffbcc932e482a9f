/* mkseeds DIR: seed corpora for the fuzz targets, from the test PKI. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ocsp.h>

#include "../fixture.h"

static void put(const char *dir, const char *target, const char *name,
		const void *data, size_t len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	fx_write_bytes(path, data, len);
}

static void put_staple(const char *dir, struct fx_pki *p, const char *name,
		       const struct fx_staple_opts *o, X509 *signer,
		       EVP_PKEY *key)
{
	size_t len;
	unsigned char *der = fx_staple(p->leaf_ms, p->ca, signer, key, o, &len);
	unsigned char *resp;

	put(dir, "staple", name, der, len);
	resp = OPENSSL_malloc(len + 1);
	resp[0] = 0; /* HTTP 200 */
	memcpy(resp + 1, der, len);
	put(dir, "responder", name, resp, len + 1);
	OPENSSL_free(resp);
	OPENSSL_free(der);
}

static void put_cert(const char *dir, const char *name, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	put(dir, "tlsfeature", name, der, (size_t)n);
	OPENSSL_free(der);
}

/* A prober's answer for one target (the first byte: n - 1), as
 * preflight/prober.c writes it: a certificate record, the result, the
 * end. */
static const char answer[] =
	"\x00"
	"{\"t\":\"cert\",\"id\":0,\"info\":{\"subject\":\"CN=shop.example\","
	"\"serial\":\"1002\",\"sha256\":"
	"\"ca46aef32a4467603fb27fe87667af79e854a2"
	"0b12b339cee42af4a7f1816fdd\",\"dns_names\":[\"shop.example\"],"
	"\"ocsp_urls\":[\"http://127.0.0.1:9/ocsp\"],\"not_before\":1,"
	"\"not_after\":2000000000,\"key_type\":408,\"features\":{\"present\":"
	"true,\"must_staple\":true,\"values\":[5]},\"feature_error\":{\"code\":"
	"0,\"reason\":\"\"},\"issuer_features\":{\"present\":false,"
	"\"must_staple\":false,\"values\":[]},\"issuer_feature_error\":{"
	"\"code\":0,\"reason\":\"\"}},\"v\":1}\n"
	"{\"t\":\"probe\",\"i\":0,\"address\":\"127.0.0.1:8443\","
	"\"servername\":"
	"\"shop.example\",\"connected\":true,\"handshake_ok\":true,"
	"\"chain_valid\":true,\"tls_version\":\"TLSv1.3\",\"cert\":0,"
	"\"chain_reason\":\"ok\",\"staple\":{\"present\":true,\"valid\":true,"
	"\"fresh\":true,\"status\":1,\"this_update\":1,\"next_update\":"
	"2000000000,\"seconds_left\":600000,\"capped\":false,\"revoked_at\":0,"
	"\"revoke_reason\":-1,\"signer_known\":true,\"signer_delegated\":"
	"false,\"signer_subject\":\"CN=CA\",\"signer_not_after\":2000000000,"
	"\"reason\":\"fresh staple\"},\"attempts\":3,\"stapled\":3,\"streak\":"
	"3,\"confirmed\":true,\"elapsed_ms\":12,\"error\":\"\",\"key_note\":"
	"\"\",\"v\":1}\n"
	"{\"t\":\"end\",\"code\":0,\"reason\":\"\",\"v\":1}\n";

int main(int argc, char **argv)
{
	static const char *const strings[] = {
		"shop.example", "10.0.0.7:8443", "[::1]:443", "[2001:db8::5]",
		"30s",		"15m",		 "12h",	      "2d",
		"3600",		"host:65535"};
	static const unsigned char feature[] = {0x30, 0x06, 0x02, 0x01,
						0x05, 0x02, 0x01, 0x11};
	struct fx_pki p;
	struct fx_staple_opts good = fx_staple_good(), rev = good,
			      embedded = good;
	char name[32];
	FILE *f;
	char cfg[8192];
	size_t n;

	if (argc != 2 || fx_pki_create(&p, NULL))
		return 2;
	mkdir(argv[1], 0755);
	rev.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	embedded.include_signer = true;
	put_staple(argv[1], &p, "good", &good, p.ca, p.ca_key);
	put_staple(argv[1], &p, "revoked", &rev, p.ca, p.ca_key);
	put_staple(argv[1], &p, "delegated", &embedded, p.responder,
		   p.resp_key);
	put_cert(argv[1], "leaf-ms", p.leaf_ms);
	put_cert(argv[1], "leaf-v2", p.leaf_v2);
	put_cert(argv[1], "ca", p.ca);
	put(argv[1], "tlsfeature", "raw", feature, sizeof(feature));
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		put(argv[1], "strings", name, strings[i], strlen(strings[i]));
	}
	f = fopen("contrib/config.example.json", "r");
	n = f ? fread(cfg, 1, sizeof(cfg), f) : 0;
	if (f)
		fclose(f);
	put(argv[1], "config", "example", cfg, n);
	put(argv[1], "answer", "one-target", answer, sizeof(answer) - 1);
	fx_pki_free(&p);
	return 0;
}

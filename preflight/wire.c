#include "wire.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "strset.h"

/* ASN.1 times run from 1950 (UTCTime) to 9999 (GeneralizedTime). */
#define TIME_MIN (-631152000LL)
#define TIME_MAX 253402300799LL

void sg_wire_begin(struct sg_wire *w, json_t *obj, const char *what)
{
	w->obj = obj;
	w->used = 0;
	w->what = what;
	w->err = json_is_object(obj) ? sg_ok()
				     : sg_err(SG_EINPUT,
					      "prober: %s: not an "
					      "object",
					      what);
}

static json_t *field(struct sg_wire *w, const char *key)
{
	json_t *v;

	if (w->err.code)
		return NULL;
	v = json_object_get(w->obj, key);
	if (v == NULL)
		w->err = sg_err(SG_EINPUT, "prober: %s: no field %s", w->what,
				key);
	else
		w->used++;
	return v;
}

static void bad(struct sg_wire *w, const char *key)
{
	if (!w->err.code)
		w->err = sg_err(SG_EINPUT, "prober: %s: bad field %s", w->what,
				key);
}

const char *sg_wire_str(struct sg_wire *w, const char *key, size_t max)
{
	json_t *v = field(w, key);

	if (v == NULL)
		return NULL;
	/* no NUL inside: the text must be the whole string */
	if (!json_is_string(v) || json_string_length(v) >= max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		bad(w, key);
		return NULL;
	}
	return json_string_value(v);
}

void sg_wire_copy(struct sg_wire *w, const char *key, char *buf, size_t size)
{
	const char *s = sg_wire_str(w, key, size);

	snprintf(buf, size, "%s", s ? s : "");
}

bool sg_wire_bool(struct sg_wire *w, const char *key)
{
	json_t *v = field(w, key);

	if (v && !json_is_boolean(v))
		bad(w, key);
	return json_is_true(v);
}

long long sg_wire_int(struct sg_wire *w, const char *key, long long min,
		      long long max)
{
	json_t *v = field(w, key);

	if (v == NULL)
		return min;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		bad(w, key);
		return min;
	}
	return json_integer_value(v);
}

static time_t get_time(struct sg_wire *w, const char *key)
{
	long long t = sg_wire_int(w, key, TIME_MIN, TIME_MAX);

	return w->err.code ? 0 : (time_t)t;
}

/* An array of at most max elements, or NULL (error set). */
static json_t *get_array(struct sg_wire *w, const char *key, size_t max)
{
	json_t *v = field(w, key);

	if (v && (!json_is_array(v) || json_array_size(v) > max)) {
		bad(w, key);
		return NULL;
	}
	return v;
}

static json_t *get_object(struct sg_wire *w, const char *key)
{
	json_t *v = field(w, key);

	if (v && !json_is_object(v)) {
		bad(w, key);
		return NULL;
	}
	return v;
}

unsigned char *sg_wire_bytes(struct sg_wire *w, const char *key, size_t max,
			     size_t *len)
{
	const char *s = sg_wire_str(w, key, (max + 2) / 3 * 4 + 1);
	size_t n = s ? strlen(s) : 0, pad = 0;
	unsigned char *out;
	int got;

	*len = 0;
	if (n == 0)
		return NULL;
	out = malloc(n / 4 * 3 + 3);
	got = n % 4 == 0 && out
		      ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)
		      : -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	if (got < 0 || (size_t)got < pad || (size_t)got - pad > max) {
		free(out);
		bad(w, key);
		return NULL;
	}
	*len = (size_t)got - pad;
	return out;
}

json_t *sg_wire_put_bytes(const unsigned char *der, size_t len)
{
	char *b64;
	json_t *v;

	if (len == 0 || len > INT_MAX / 2)
		return json_string("");
	b64 = malloc((len + 2) / 3 * 4 + 1);
	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	v = json_string(b64);
	free(b64);
	return v;
}

sg_result sg_wire_end(struct sg_wire *w)
{
	if (!w->err.code && w->used != json_object_size(w->obj))
		w->err =
			sg_err(SG_EINPUT, "prober: %s: unknown field", w->what);
	return w->err;
}

/* Decodes a nested object with fn, folding its error into w's. */
static void nested(struct sg_wire *w, const char *key,
		   void (*fn)(struct sg_wire *in, void *arg), void *arg)
{
	json_t *o = get_object(w, key);
	struct sg_wire in;

	if (o == NULL)
		return;
	sg_wire_begin(&in, o, key);
	fn(&in, arg);
	if (sg_wire_end(&in).code && !w->err.code)
		w->err = in.err;
}

static json_t *put_result(sg_result r)
{
	return json_pack("{s:i, s:s}", "code", (int)r.code, "reason", r.reason);
}

static void take_result(struct sg_wire *w, void *arg)
{
	sg_result *r = arg;
	int code = (int)sg_wire_int(w, "code", SG_OK, SG_ENOMEM);
	const char *reason = sg_wire_str(w, "reason", SG_REASON_MAX);

	*r = code && reason ? sg_err((enum sg_code)code, "%s", reason)
			    : sg_ok();
}

static sg_result get_result(struct sg_wire *w, const char *key)
{
	sg_result r = sg_ok();

	nested(w, key, take_result, &r);
	return r;
}

json_t *sg_wire_put_staple(const struct sg_staple *s)
{
	return json_pack("{s:b, s:b, s:b, s:i, s:I, s:I, s:I, s:b, s:I, s:i, "
			 "s:b, s:b, s:s, s:I, s:s}",
			 "present", s->present, "valid", s->valid, "fresh",
			 s->fresh, "status", (int)s->status, "this_update",
			 (json_int_t)s->this_update, "next_update",
			 (json_int_t)s->next_update, "seconds_left",
			 (json_int_t)s->seconds_left, "capped", s->capped,
			 "revoked_at", (json_int_t)s->revoked_at,
			 "revoke_reason", s->revoke_reason, "signer_known",
			 s->signer_known, "signer_delegated",
			 s->signer_delegated, "signer_subject",
			 s->signer_subject, "signer_not_after",
			 (json_int_t)s->signer_not_after, "reason", s->reason);
}

/* A staple's text, kept as staple texts are (sg_text), "" on error. */
static const char *text(struct sg_wire *w, const char *key, size_t max)
{
	const char *s = sg_wire_str(w, key, max);

	return s && *s ? sg_text(s) : ""; /* "" as sg_staple_init has it */
}

static void take_staple(struct sg_wire *w, void *arg)
{
	struct sg_staple *s = arg;

	s->present = sg_wire_bool(w, "present");
	s->valid = sg_wire_bool(w, "valid");
	s->fresh = sg_wire_bool(w, "fresh");
	s->status = (enum sg_cert_status)sg_wire_int(
		w, "status", SG_STATUS_NONE, SG_STATUS_UNKNOWN);
	s->this_update = get_time(w, "this_update");
	s->next_update = get_time(w, "next_update");
	s->seconds_left =
		(long)sg_wire_int(w, "seconds_left", -TIME_MAX, TIME_MAX);
	s->capped = sg_wire_bool(w, "capped");
	s->revoked_at = get_time(w, "revoked_at");
	s->revoke_reason = (int)sg_wire_int(w, "revoke_reason", -1, 10);
	s->signer_known = sg_wire_bool(w, "signer_known");
	s->signer_delegated = sg_wire_bool(w, "signer_delegated");
	s->signer_subject = text(w, "signer_subject", 512);
	s->signer_not_after = get_time(w, "signer_not_after");
	s->reason = text(w, "reason", SG_REASON_MAX);
	/* what the verdict relies on must hang together */
	if (!w->err.code &&
	    ((s->fresh && !s->valid) ||
	     (s->valid && (!s->present || s->status != SG_STATUS_GOOD))))
		bad(w, "valid");
}

void sg_wire_take_staple(struct sg_wire *w, const char *key,
			 struct sg_staple *s)
{
	sg_staple_init(s);
	nested(w, key, take_staple, s);
	if (w->err.code)
		sg_staple_init(s); /* never half a staple */
}

static json_t *put_strlist(const struct sg_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *put_features(const struct sg_tlsfeature *f)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < f->n; i++)
		json_array_append_new(a, json_integer(f->values[i]));
	return json_pack("{s:b, s:b, s:o*}", "present", f->present,
			 "must_staple", f->must_staple, "values", a);
}

json_t *sg_wire_put_certinfo(const struct sg_certinfo *c)
{
	return json_pack("{s:s, s:s, s:s, s:o*, s:o*, s:I, s:I, s:i, s:o*, "
			 "s:o*, s:o*, s:o*}",
			 "subject", c->subject, "serial", c->serial, "sha256",
			 c->sha256, "dns_names", put_strlist(&c->dns_names),
			 "ocsp_urls", put_strlist(&c->ocsp_urls), "not_before",
			 (json_int_t)c->not_before, "not_after",
			 (json_int_t)c->not_after, "key_type", c->key_type,
			 "features", put_features(&c->features),
			 "feature_error", put_result(c->feature_error),
			 "issuer_features", put_features(&c->issuer_features),
			 "issuer_feature_error",
			 put_result(c->issuer_feature_error));
}

/* Names and URLs: at most this many, each shorter than a line. */
#define STRLIST_MAX 1000
#define STR_MAX	    4096

static void take_strlist(struct sg_wire *w, const char *key,
			 struct sg_strlist *l)
{
	json_t *a = get_array(w, key, STRLIST_MAX), *v;
	size_t i;

	json_array_foreach (a, i, v) {
		if (!json_is_string(v) || json_string_length(v) >= STR_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			bad(w, key);
			return;
		}
		if (sg_strlist_add(l, json_string_value(v)).code &&
		    !w->err.code)
			w->err = sg_err(SG_ENOMEM, "out of memory");
	}
}

static void take_features(struct sg_wire *w, void *arg)
{
	struct sg_tlsfeature *f = arg;
	json_t *a, *v;
	size_t i;

	f->present = sg_wire_bool(w, "present");
	f->must_staple = sg_wire_bool(w, "must_staple");
	a = get_array(w, "values", SG_FEATURES_MAX);
	json_array_foreach (a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535) {
			bad(w, "values");
			return;
		}
		f->values[f->n++] = (int)json_integer_value(v);
	}
}

static void take_certinfo(struct sg_wire *w, void *arg)
{
	struct sg_certinfo *c = arg;

	sg_wire_copy(w, "subject", c->subject, sizeof(c->subject));
	sg_wire_copy(w, "serial", c->serial, sizeof(c->serial));
	sg_wire_copy(w, "sha256", c->sha256, sizeof(c->sha256));
	take_strlist(w, "dns_names", &c->dns_names);
	take_strlist(w, "ocsp_urls", &c->ocsp_urls);
	c->not_before = get_time(w, "not_before");
	c->not_after = get_time(w, "not_after");
	c->key_type = (int)sg_wire_int(w, "key_type", 0, INT_MAX);
	nested(w, "features", take_features, &c->features);
	c->feature_error = get_result(w, "feature_error");
	nested(w, "issuer_features", take_features, &c->issuer_features);
	c->issuer_feature_error = get_result(w, "issuer_feature_error");
}

void sg_wire_take_certinfo(struct sg_wire *w, const char *key,
			   struct sg_certinfo *c)
{
	memset(c, 0, sizeof(*c));
	nested(w, key, take_certinfo, c);
}

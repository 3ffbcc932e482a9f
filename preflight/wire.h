/* The prober's answer, field by field (see sandbox.h): encoders for the
 * prober, and a strict decoder for the parent that treats every line as
 * hostile: each field present with its type, strings and numbers within
 * bounds, no field it does not know. The first error sticks. */
#ifndef SG_WIRE_H
#define SG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "certinfo.h"
#include "result.h"
#include "staple.h"

struct sg_wire {
	json_t *obj;
	size_t used; /* fields read: all of them, or one was unknown */
	const char *what;
	sg_result err;
};

void sg_wire_begin(struct sg_wire *w, json_t *obj, const char *what);

/* NULL (error set) unless a string shorter than max bytes. */
const char *sg_wire_str(struct sg_wire *w, const char *key, size_t max);
/* Copies the string into buf[size] ("" on error). */
void sg_wire_copy(struct sg_wire *w, const char *key, char *buf, size_t size);
bool sg_wire_bool(struct sg_wire *w, const char *key);
long long sg_wire_int(struct sg_wire *w, const char *key, long long min,
		      long long max);
/* Bytes sent in base64 (at most max of them), malloc'd; NULL and
 * *len 0 for "" or on error. */
unsigned char *sg_wire_bytes(struct sg_wire *w, const char *key, size_t max,
			     size_t *len);

/* Ends the object: an error when a field was not read. Returns w->err. */
sg_result sg_wire_end(struct sg_wire *w);

json_t *sg_wire_put_bytes(const unsigned char *der, size_t len);

json_t *sg_wire_put_staple(const struct sg_staple *s);
void sg_wire_take_staple(struct sg_wire *w, const char *key,
			 struct sg_staple *s);

json_t *sg_wire_put_certinfo(const struct sg_certinfo *c);
/* Fills c (sg_certinfo_free it, also on error). */
void sg_wire_take_certinfo(struct sg_wire *w, const char *key,
			   struct sg_certinfo *c);

#endif

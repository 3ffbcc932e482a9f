/* One result type for every fallible call in preflight/: a code and a
 * human reason, so callers propagate failures without guessing (curl's
 * CURLcode discipline). */
#ifndef SG_RESULT_H
#define SG_RESULT_H

enum sg_code {
	SG_OK = 0,
	SG_EINPUT, /* bad flag, file or string given by the operator */
	SG_ESYS,   /* the operating system said no */
	SG_ENOMEM,
};

#define SG_REASON_MAX 256

typedef struct sg_result {
	enum sg_code code;
	char reason[SG_REASON_MAX];
} sg_result;

sg_result sg_ok(void);
sg_result sg_err(enum sg_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

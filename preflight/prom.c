#include "prom.h"

#include <stdlib.h>
#include <string.h>

#include "atomic.h"

struct sg_prom {
	char *buf;
	size_t len;
	FILE *f;
};

struct sg_prom *sg_prom_new(void)
{
	struct sg_prom *p = calloc(1, sizeof(*p));

	if (p && (p->f = open_memstream(&p->buf, &p->len)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void sg_prom_family(struct sg_prom *p, const char *name, const char *help)
{
	fprintf(p->f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Label values escape backslash, double quote and newline (the
 * exposition format's only escapes). */
static void label(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=\"", key);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', f);
		if (*c == '\n')
			fputs("\\n", f);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

void sg_prom_sample(struct sg_prom *p, const char *name, const char *target,
		    const char *servername, double value)
{
	fputs(name, p->f);
	if (target) {
		fputc('{', p->f);
		label(p->f, "target", target);
		fputc(',', p->f);
		label(p->f, "servername", servername ? servername : "");
		fputc('}', p->f);
	}
	fprintf(p->f, " %.17g\n", value);
}

sg_result sg_prom_write(struct sg_prom *p, const char *path)
{
	if (fflush(p->f) != 0)
		return sg_err(SG_ENOMEM, "metrics: out of memory");
	return sg_write_atomic(path, p->buf, p->len, 0644);
}

void sg_prom_free(struct sg_prom *p)
{
	if (p == NULL)
		return;
	fclose(p->f);
	free(p->buf);
	free(p);
}

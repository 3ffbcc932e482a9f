#include "report.h"

#include <stdlib.h>
#include <string.h>

const char *sg_report_mode_name(enum sg_report_mode m)
{
	return m == SG_MODE_PROBE ? "probe" : "check";
}

const struct sg_certinfo *sg_report_cert(const struct sg_report *rep)
{
	if (rep->mode == SG_MODE_PROBE)
		return rep->probes[0].served;
	return &rep->cert;
}

void sg_report_free(struct sg_report *rep)
{
	sg_certinfo_free(&rep->cert);
	if (rep->probes)
		sg_probe_free(rep->probes, rep->n);
	free(rep->probes);
	free(rep->scores);
	memset(rep, 0, sizeof(*rep));
}

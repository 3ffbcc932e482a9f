/* The new certificate's issuer when the ACME client gave none: lego's
 * `--no-bundle` exports the leaf alone and (before v4.17) no issuer path.
 * Looked for, in this order, in <name>.issuer.crt beside the certificate
 * (lego writes it there), in the CA file, and at the certificate's AIA
 * caIssuers URL (sg_http: bounded). Whatever is found must have signed
 * the leaf (sg_issuer_find), so a wrong file or a hostile download is
 * never taken for the issuer. */
#ifndef SG_ISSUER_H
#define SG_ISSUER_H

#include <stdbool.h>

#include "../preflight/check.h"
#include "clients.h"

#define SG_AIA_MAX_BYTES (64L * 1024) /* a certificate, not a bundle */

/* Adds the issuer to m->issuers when m has none that signed its leaf;
 * the AIA URL is fetched only with fetch, within timeout_ms. Returns an
 * error naming every place looked at when none was found. */
sg_result sg_issuer_complete(const struct sg_newcert *nc, struct sg_material *m,
			     bool fetch, long timeout_ms);

#endif

/* `staplegate adopt`: first use of the store. Servers pointed at
 * <state_dir>/live/<lineage>/ cannot start before the store holds
 * anything, and the next renewal is the first to pass the gate: adopt
 * puts the certificate deployed today into the store as its first
 * version (and, with a staple file configured, a verified staple from
 * the CA's responder beside it), without deploying anything. */
#ifndef SG_ADOPT_H
#define SG_ADOPT_H

#include <stddef.h>

#include "config.h"
#include "../preflight/result.h"
#include "gate.h"

/* Uses cfg and o's cert, chain, key, cafile, lineage and
 * staple_out (the client environment when no --cert). Refuses a lineage
 * the store already holds. msg says what was adopted. */
sg_result sg_adopt_run(const struct sg_config *cfg,
		       const struct sg_gate_opts *o, char *msg, size_t size);

#endif

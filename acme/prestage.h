/* Staple pre-staging: servers that staple from a file (nginx
 * ssl_stapling_file, HAProxy's <crt>.ocsp) get the verified response for
 * the new certificate before the reload, and a fresh one later. The hook
 * remembers each file in <state_dir>/staples/<lineage>.json; resume
 * refreshes it when less than half of its validity window is left
 * (certmagic's policy), never replacing it with a response that fails
 * verification. */
#ifndef SG_PRESTAGE_H
#define SG_PRESTAGE_H

#include "../preflight/certinfo.h"
#include "../preflight/staple.h"

/* haproxy_socket (NULL: none): the HAProxy stats socket that gets each
 * refreshed response too. */
sg_result sg_prestage_remember(const char *state_dir, const char *lineage,
			       const char *staple_path, const char *cert_path,
			       const char *chain_path,
			       const char *haproxy_socket);

/* The staple file remembered for lineage, "" when none. */
sg_result sg_prestage_path(const char *state_dir, const char *lineage,
			   char *out, size_t size);

/* Checks every remembered file; one line per file in messages. Returns
 * an error only when the state directory cannot be read; *failed counts
 * files that needed a refresh and did not get one. */
sg_result sg_prestage_refresh(const char *state_dir, const char *cafile,
			      long timeout_ms, const struct sg_policy *policy,
			      struct sg_strlist *messages, int *failed);

#endif

/* A deployment scene for hook tests: a certbot-style lineage holding a
 * new certificate, an OCSP responder on loopback that vouches for it, a
 * TLS server that serves the old certificate until the deploy command
 * runs, deploy and rollback scripts, and the score log read back. */
#ifndef SG_SCENE_H
#define SG_SCENE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "runcli.h"
#include "tresponder.h"
#include "tserver.h"

struct scene {
	char dir[512];
	struct tresponder resp;
	struct tserver srv;
	X509 *newcert;
	unsigned char *old_staple, *new_staple;
	size_t old_len, new_len;
	char lineage[600], config[600], record[600], deployed[600],
		deploy_sh[600], rollback_sh[600], state[600];
};

void scene_begin(struct scene *s, bool must_staple, int resp_status);
void scene_start_server(struct scene *s);
/* certbot renews: files numbered N in archive/, live/ links moved. */
void scene_renew(struct scene *s, X509 *cert, int n);
/* After the deploy script runs, the server serves cert with a fresh good
 * staple (the scene's new_staple, replaced). */
void scene_serve_after_reload(struct scene *s, X509 *cert);
void scene_end(struct scene *s);
/* A config with the server as the only target of shop.example; extra is
 * spliced into "defaults". */
void scene_config(struct scene *s, const char *extra);
/* Runs the hook as certbot would: RENEWED_LINEAGE and RENEWED_DOMAINS. */
void hook_certbot(struct scene *s, struct cli_run *r, const char *const *args);
/* The environment hook_certbot uses, for cli_spawn (static storage). */
const char *const *certbot_env(const struct scene *s);

void write_text(const char *file, const char *text, mode_t mode);
/* A Must-Staple hook whose deploy command is slow gets sig (after at
 * most poll_rounds × 25 ms for the command to start): passed on to the
 * command (SIGHUP as SIGTERM), the run ends with status 1 and an
 * "interrupted" outcome line. */
void scene_signal_during_deploy(int sig, int poll_rounds);
/* <state_dir>/rel of the scene's config. */
void scene_state_path(const struct scene *s, const char *rel, char *out,
		      size_t size);
/* The SHA-256 of the first certificate in a PEM file, "" when none. */
void pem_file_sha256(const char *path, char out[65]);
bool exists(const char *file);
/* Up to size bytes of a file into buf: how many (0 when unreadable). */
size_t slurp_bytes(const char *path, unsigned char *buf, size_t size);
/* Every line of the score log, parsed; each must be one JSON object. */
json_t *read_log(const char *file);
const char *field(json_t *rec, const char *key);
/* The settle result of the first target in a run's outcome line (the
 * log's second line, after the decision line); borrowed from log. */
json_t *log_settle(json_t *log);

#define assert_contains(hay, needle)                                           \
	ck_assert_msg(strstr(hay, needle) != NULL, "'%s' lacks '%s'", hay,     \
		      needle)

#endif

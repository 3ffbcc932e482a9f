/* The deploy gate's steps, for gate.c (the run and its records), which
 * calls them: gate_decide.c (may it deploy?), gate_act.c (deploy,
 * settle, roll back, or hold the certificate back) and gate_haproxy.c.
 * They share gate_state.h and call nothing in gate.c. Private to acme/. */
#ifndef SG_GATE_INTERNAL_H
#define SG_GATE_INTERNAL_H

#include "gate_state.h"

/* gate_decide.c: reads the new certificate (once; false when it cannot
 * be read, which refuses with status 2). */
bool sg_gate_load(struct gate *g);
/* Fills allow and reason (and the pre-flight report). */
void sg_gate_decide(struct gate *g);
/* --wait: decides again until the gate opens or the wait ends. */
void sg_gate_wait(struct gate *g);

/* gate_act.c: deploys, settles, rolls back, or holds back; fills out. */
void sg_gate_act(struct gate *g);

/* gate_haproxy.c: after the deploy command, the verified staple into a
 * running HAProxy (haproxy_socket), read back; failures noted. */
void sg_gate_haproxy(struct gate *g);

#endif

/* SIGTERM, SIGINT and SIGHUP as a flag: long phases (probing, settle, a deploy
 * command) check it and wind down cleanly, so the record can still say
 * what happened instead of the process dying mid-write. */
#ifndef SG_INTERRUPT_H
#define SG_INTERRUPT_H

/* Installs the handlers (without SA_RESTART, so blocking calls return). */
void sg_interrupt_install(void);

/* The signal received, or 0. */
int sg_interrupted(void);

#endif

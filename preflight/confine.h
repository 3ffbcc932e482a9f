/* The prober's confinement, applied by the child to itself before it
 * touches the network (see sandbox.h): switch user, no_new_privs,
 * Landlock, seccomp, in that order. */
#ifndef SG_CONFINE_H
#define SG_CONFINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "result.h"

struct sg_confinement {
	bool switch_user; /* started as root: become uid/gid */
	uid_t uid;
	gid_t gid;
	pid_t parent; /* the prober dies with it */
};

/* Confines the calling process for good. Any step that fails is an
 * error (the caller exits): a prober half confined must not run. A
 * kernel without Landlock is not a failure; *landlock says whether it
 * applied. */
sg_result sg_confine(const struct sg_confinement *c, bool *landlock);

#endif

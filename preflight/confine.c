#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

/* What probing reads after the sandbox is up: the resolver's files and
 * NSS modules (getaddrinfo), OpenSSL's default trust store (hashed
 * directory lookups happen during chain validation), nothing else. CA
 * files given by the operator are read before the fork. */
static const char *const readable[] = {
	"/etc/hosts",
	"/etc/resolv.conf",
	"/etc/nsswitch.conf",
	"/etc/host.conf",
	"/etc/gai.conf",
	"/etc/ld.so.cache",
	"/etc/ssl",
	"/usr/lib",
	"/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates",
};

static sg_result switch_user(const struct sg_confinement *c)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sgid;

	if (!c->switch_user)
		return sg_ok();
	if (setgroups(0, NULL) != 0 || setresgid(c->gid, c->gid, c->gid) != 0 ||
	    setresuid(c->uid, c->uid, c->uid) != 0)
		return sg_err(SG_ESYS, "switching to uid %u: %s",
			      (unsigned)c->uid, strerror(errno));
	/* Checked, not assumed: a half-done switch keeps a way back. */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sgid) != 0 ||
	    ru != c->uid || eu != c->uid || su != c->uid || rg != c->gid ||
	    eg != c->gid || sgid != c->gid || getgroups(0, NULL) != 0 ||
	    setuid(0) == 0)
		return sg_err(SG_ESYS, "uid %u: privileges still held",
			      (unsigned)c->uid);
	return sg_ok();
}

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#define ACCESS_FS_TRUNCATE  (1ULL << 14) /* ABI 3 */
#define ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

/* Every file-system right the kernel's Landlock knows, so all of them
 * are denied unless a rule grants them. */
static uint64_t handled_rights(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_MAKE_SYM * 2 - 1; /* ABI 1 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= ACCESS_FS_IOCTL_DEV;
	return r;
}

static void allow_read(int ruleset, const char *path)
{
	struct landlock_path_beneath_attr pb = {0};
	struct stat st;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return; /* not on this system: nothing to read there */
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (fstat(pb.parent_fd, &st) == 0 && S_ISDIR(st.st_mode))
		pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
	syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb,
		0);
	close(pb.parent_fd);
}

static sg_result landlock(bool *applied)
{
	struct landlock_ruleset_attr attr = {0};
	const char *env[] = {getenv("SSL_CERT_DIR"), getenv("SSL_CERT_FILE")};
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);
	int fd;

	*applied = false;
	if (abi < 1)
		return sg_ok(); /* kernel without Landlock: seccomp still holds
				 */
	attr.handled_access_fs = handled_rights(abi);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return sg_err(SG_ESYS, "landlock: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(readable) / sizeof(*readable); i++)
		allow_read(fd, readable[i]);
	for (size_t i = 0; i < 2; i++)
		if (env[i] && *env[i])
			allow_read(fd, env[i]);
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		int e = errno;

		close(fd);
		return sg_err(SG_ESYS, "landlock: %s", strerror(e));
	}
	close(fd);
	*applied = true;
	return sg_ok();
}

/* The system calls probing makes (glibc, OpenSSL, libcurl, the resolver
 * threads), besides those allowed with conditions in seccomp(). */
static const char *const plain_calls[] = {
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"close",
	"fstat",
	"newfstatat",
	"statx",
	"lseek",
	"mmap",
	"munmap",
	"mprotect",
	"mremap",
	"brk",
	"madvise",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"restart_syscall",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"connect",
	"bind",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"getsockopt",
	"setsockopt",
	"getsockname",
	"getpeername",
	"shutdown",
	"socketpair",
	"pipe2",
	"eventfd2",
	"fcntl",
	"dup",
	"clock_gettime",
	"clock_getres",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"time",
	"getpid",
	"gettid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getrandom",
	"futex",
	"set_robust_list",
	"rseq",
	"set_tid_address",
	"exit",
	"exit_group",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"readlinkat",
	"getdents64",
	"uname",
	"sysinfo",
	"sched_getaffinity",
	"sched_yield",
	"getcwd",
	"getrlimit",
	"membarrier",
};

static int allow(scmp_filter_ctx f, const char *name, unsigned n,
		 const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a system call of this architecture */
	return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, cmp);
}

/* Opening read-only only: no write access, no creation, no truncation. */
#define OPEN_WRITE_BITS                                                        \
	(O_ACCMODE | O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY))

/* Allowed when argument arg compares true: op (a) for SCMP_CMP_EQ,
 * (arg & a) == b for SCMP_CMP_MASKED_EQ. */
static int allow_if(scmp_filter_ctx f, const char *name, unsigned arg,
		    enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = {
		.arg = arg, .op = op, .datum_a = a, .datum_b = b};

	return allow(f, name, 1, &c);
}

static int conditional_rules(scmp_filter_ctx f)
{
	static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};
	static const unsigned long ioctls[] = {FIONREAD, FIONBIO, TCGETS};
	int rc = 0;

	rc |= allow_if(f, "openat", 2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_BITS, 0);
	rc |= allow_if(f, "open", 1, SCMP_CMP_MASKED_EQ, OPEN_WRITE_BITS, 0);
	for (size_t i = 0; i < 4; i++)
		rc |= allow_if(f, "socket", 0, SCMP_CMP_EQ,
			       (scmp_datum_t)families[i], 0);
	for (size_t i = 0; i < 3; i++)
		rc |= allow_if(f, "ioctl", 1, SCMP_CMP_EQ, ioctls[i], 0);
	/* Threads (the resolver's), never a new process. clone3 passes its
	 * flags in memory a filter cannot read: glibc falls back to clone. */
	rc |= allow_if(f, "clone", 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
		       CLONE_THREAD);
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Reading limits only (glibc's getrlimit is prlimit64 with no new
	 * value); signals only to this process (abort, raise). */
	rc |= allow_if(f, "prlimit64", 2, SCMP_CMP_EQ, 0, 0);
	rc |= allow_if(f, "tgkill", 0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	return rc;
}

static sg_result seccomp(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (f == NULL)
		return sg_err(SG_ENOMEM, "seccomp: out of memory");
	for (size_t i = 0; i < sizeof(plain_calls) / sizeof(*plain_calls); i++)
		rc |= allow(f, plain_calls[i], 0, NULL);
	rc |= conditional_rules(f);
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc != 0)
		return sg_err(SG_ESYS, "seccomp: %s", strerror(-rc));
	return sg_ok();
}

sg_result sg_confine(const struct sg_confinement *c, bool *landlocked)
{
	sg_result r = switch_user(c);

	*landlocked = false;
	/* After the switch, which clears it; a parent already gone means
	 * nobody reads the answer. */
	if (!r.code &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != c->parent))
		r = sg_err(SG_ESYS, "its parent is gone");
	if (!r.code && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		r = sg_err(SG_ESYS, "no_new_privs: %s", strerror(errno));
	if (!r.code)
		r = landlock(landlocked);
	if (!r.code)
		r = seccomp();
	return r;
}

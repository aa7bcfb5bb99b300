/* The hooks that copy and close descriptors: dup, dup2, dup3,
 * fcntl(F_DUPFD, F_DUPFD_CLOEXEC), close, close_range and closefrom keep
 * the descriptor table (fdtable.c) in step with the kernel's, and keep the
 * library's own descriptors (lease sockets, device descriptors) out of the
 * program's way: a dup2 onto one moves it first, a close of one leaves it
 * open, a close_range over them closes around them. Async-signal-safe
 * (internal.h). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif


PUBLIC int dup(int fd)
{
	NEED(dup, -1);
	int r = real(fd);
	if (r >= 0)
		fd_dup(fd, r);
	return r;
}

/* The program takes a number the library's lease socket has: move the
 * socket first (not in a vfork child: its descriptors are its own, our
 * memory is its parent's). */
static void lease_make_room(int fd, int fd2)
{
	if (fd != fd2 && lease_fd_ours(fd2) && own_process())
		lease_relocate(fd2);
}

PUBLIC int dup2(int fd, int fd2)
{
	NEED(dup2, -1);
	lease_make_room(fd, fd2);
	int r = real(fd, fd2);
	if (r >= 0)
		fd_dup(fd, r);
	return r;
}

PUBLIC int dup3(int fd, int fd2, int flags)
{
	NEED(dup3, -1);
	lease_make_room(fd, fd2);
	int r = real(fd, fd2, flags);
	if (r >= 0)
		fd_dup(fd, r);
	return r;
}

#define FCNTL(name)                                                                                                    \
	PUBLIC int name(int fd, int cmd, ...)                                                                          \
	{                                                                                                              \
		va_list ap;                                                                                            \
		va_start(ap, cmd);                                                                                     \
		void *arg = va_arg(ap, void *);                                                                        \
		va_end(ap);                                                                                            \
		NEED(name, -1);                                                                                        \
		int r = real(fd, cmd, arg);                                                                            \
		if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))                                              \
			fd_dup(fd, r);                                                                                 \
		return r;                                                                                              \
	}
FCNTL(fcntl)
FCNTL(fcntl64)

PUBLIC int close(int fd)
{
	/* A lease socket: the program closes a descriptor it never opened
	 * (closing "everything"); the lease must outlive that. As if closed. */
	if (fd >= fd_base && lease_fd_ours(fd) && own_process()) {
		dbg("close(%d): the library's lease socket: kept", fd);
		return 0;
	}
	fd_forget(fd); /* before the number can be reused */
	NEED(close, -1);
	return real(fd);
}

/* The library's own descriptors (one or two device descriptors per mount,
 * one lease socket per file held, far above the program's) survive a
 * close_range or closefrom over them: the program does not know them, a
 * lease must last as long as its mappings, and the next grant needs the
 * device descriptor. Ranges around them are closed as asked. */
static int close_range_keep(int (*cr)(unsigned, unsigned, int), unsigned lo, unsigned hi, int flags)
{
	int mine[129], n = mount_internal_fds(mine, 128);
	if (debug_fd != 2)
		mine[n++] = debug_fd;
	for (int i = 1; i < n; i++) /* sort (a handful) */
		for (int j = i; j > 0 && mine[j - 1] > mine[j]; j--) {
			int t = mine[j];
			mine[j] = mine[j - 1], mine[j - 1] = t;
		}
	int leases = own_process(); /* a vfork child's descriptors are its own */
	unsigned at = lo;
	int rc = 0, i = 0;
	for (;;) {
		while (i < n && (unsigned)mine[i] < at)
			i++;
		long k = i < n ? mine[i] : -1;
		int lf = leases ? lease_next_fd(at) : -1;
		if (lf >= 0 && (k < 0 || lf < k))
			k = lf;
		if (k < 0 || (unsigned long)k > hi)
			break;
		unsigned f = (unsigned)k;
		if (f > at && cr(at, f - 1, flags) < 0)
			rc = -1;
		if (f == hi)
			return rc;
		at = f + 1;
	}
	if (cr(at, hi, flags) < 0)
		rc = -1;
	return rc;
}

PUBLIC int close_range(unsigned lo, unsigned hi, int flags)
{
	NEED(close_range, -1);
	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	if (flags & CLOSE_RANGE_CLOEXEC)
		return real(lo, hi, flags);
	fd_forget_range(lo, hi);
	return close_range_keep(real, lo, hi, flags);
}

PUBLIC void closefrom(int lo)
{
	if (lo < 0)
		lo = 0;
	fd_forget_range((unsigned)lo, ~0U);
	__typeof__(real_close_range) cr = R(close_range);
	if (cr && close_range_keep(cr, (unsigned)lo, ~0U, 0) == 0)
		return;
	__typeof__(real_closefrom) cf = R(closefrom);
	if (cf)
		cf(lo);
}


/* A unit test of the preload library's mapping records (preload/lease.c,
 * included whole, with the descriptor table it uses, preload/fdtab.c):
 * random adds and forgets over a small address space, checked after each
 * step against a page-by-page model: which lease each page holds, the
 * records sorted and disjoint, and every lease's reference count (one of
 * the test's own + one per record). At the end the records
 * are forgotten and the leases' sockets must be closed. Prints "ok". */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../../preload/fdtab.c"
#include "../../preload/lease.c"

int famfs_debug;
void dbg(const char *fmt, ...) { (void)fmt; }
void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
int sys_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }
int sys_close(int fd) { return (int)syscall(SYS_close, fd); }
long sys_fcntl(int fd, int cmd, long arg) { return syscall(SYS_fcntl, fd, cmd, arg); }
int high_dup(int fd) { return (int)sys_fcntl(fd, F_DUPFD_CLOEXEC, 100); }

#define PAGES 600
#define NLEASE 5
#define PG 4096u

static int model[PAGES]; /* lease index (0..NLEASE-1) or -1 */
static int ids[NLEASE], socks[NLEASE], peers[NLEASE];

static void die(const char *what, long a, long b)
{
	printf("FAIL %s: %ld %ld\n", what, a, b);
	exit(1);
}

static uintptr_t A(int page) { return 0x10000000u + (uintptr_t)page * PG; }

static void check(int step)
{
	int count[NLEASE] = {0};
	for (size_t i = 0; i < nrec; i++) {
		if (recs[i].lo >= recs[i].hi || (i > 0 && recs[i - 1].hi > recs[i].lo))
			die("records not sorted and disjoint", step, (long)i);
		int k = -1;
		for (int j = 0; j < NLEASE; j++)
			if (ids[j] == recs[i].lease)
				k = j;
		if (k < 0)
			die("a record of an unknown lease", step, recs[i].lease);
		count[k]++;
	}
	for (int p = 0; p < PAGES; p++) {
		int got = maps_lease_at(A(p) + 7), want = model[p] < 0 ? -1 : ids[model[p]];
		if (got != want)
			die("page's lease", step, p);
	}
	for (int j = 0; j < NLEASE; j++)
		if (atomic_load(&lease_entry((uint32_t)ids[j])->refs) != (uint32_t)(1 + count[j]))
			die("reference count", step, j);
	if (maps_any() != (nrec != 0))
		die("maps_any", step, (long)nrec);
}

int main(void)
{
	srand(7);
	for (int j = 0; j < NLEASE; j++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
			die("socketpair", errno, 0);
		socks[j] = high_dup(sv[0]);
		close(sv[0]);
		peers[j] = sv[1];
		if ((ids[j] = lease_new(socks[j], 100 + j)) < 0)
			die("lease_new", j, 0);
		if (!lease_fd_ours(socks[j]))
			die("lease_fd_ours", j, socks[j]);
	}
	for (int p = 0; p < PAGES; p++)
		model[p] = -1;
	maps_lock();
	for (int step = 0; step < 20000; step++) {
		int lo = rand() % PAGES, n = 1 + rand() % (rand() % 4 ? 8 : 200);
		int hi = lo + n > PAGES ? PAGES : lo + n;
		if (rand() % 3) {
			int k = rand() % NLEASE;
			if (maps_add(A(lo), A(hi), ids[k]) != 0)
				die("maps_add", step, 0);
			for (int p = lo; p < hi; p++)
				model[p] = k;
		} else {
			maps_forget(A(lo), A(hi));
			for (int p = lo; p < hi; p++)
				model[p] = -1;
		}
		check(step);
	}
	maps_forget(A(0), A(PAGES));
	for (int p = 0; p < PAGES; p++)
		model[p] = -1;
	check(-1);
	maps_unlock();
	/* relocation keeps the lease, the old number goes */
	lease_relocate(socks[0]);
	int nfd = atomic_load(&lease_entry((uint32_t)ids[0])->fd);
	if (nfd == socks[0] || !lease_fd_ours(nfd) || lease_fd_ours(socks[0]))
		die("relocate", nfd, socks[0]);
	close(socks[0]);
	socks[0] = nfd;
	for (int j = 0; j < NLEASE; j++)
		if (lease_next_fd((unsigned)socks[j]) != socks[j])
			die("lease_next_fd", lease_next_fd((unsigned)socks[j]), socks[j]);
	for (int j = 0; j < NLEASE; j++) {
		lease_put(ids[j]);
		char c;
		if (recv(peers[j], &c, 1, MSG_DONTWAIT) != 0) /* 0: the peer sees the end */
			die("the lease's socket is still open", j, errno);
	}
	if (lease_count() != 0 || lease_next_fd(0) != -1)
		die("leases left", lease_count(), 0);
	printf("ok\n");
	return 0;
}

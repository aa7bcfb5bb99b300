/* Leases: what keeps a granted file held by the mount's daemon.
 *
 * A grant is a lease (internal/control/grant.go, protocol version 2): the daemon
 * holds the file (its space is not given to another file after a delete)
 * until the connection the grant was made on closes. The library keeps that
 * connection open for as long as the process holds the file through it:
 * any descriptor of the open file description the grant was made for (the
 * ffile holds one reference), and any part of a mapping the library made
 * from the grant (each recorded range holds one). When the last reference
 * goes the socket is closed and the daemon ends its hold.
 *
 * The socket is close-on-exec and lives above the program's descriptors
 * (fd_base): exec drops the mappings and the kernel closes the socket; at
 * death (kill -9 included) the kernel closes it. A forked child inherits
 * the socket and the records with the mappings: the daemon sees the end of
 * the connection only once parent and child have both let go, which is
 * right, since both map the file.
 *
 * The mapping records are ranges of addresses, sorted and disjoint, each
 * naming its lease. munmap, mremap and mmap(MAP_FIXED) over a recorded
 * range cut it (a part of a mapping unmapped leaves the rest recorded), so
 * the lease ends only when nothing of its mappings is left. Whatever the
 * library cannot see (a raw munmap system call) or cannot record at once (a
 * busy table) errs on the side of keeping the lease longer, never shorter.
 * The records change under a small lock, never held across anything slow;
 * a call that cannot take it in a bounded wait (a signal handler that
 * interrupted the holder) leaves the records as they are.
 *
 * Leases live in a pool like the ffile entries (type-stable, never freed).
 * A per-descriptor table (fdtab.c: any number) names the lease behind each lease socket, so that
 * close, close_range, closefrom and dup2 of the program leave the sockets
 * alone (a program that closes every descriptor it does not know would end
 * its own leases otherwise). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct lease {
	_Atomic uint32_t refs; /* 1 for the ffile + 1 per recorded range; 0 = free */
	uint32_t idx;
	_Atomic uint32_t next; /* free list link (index + 1) */
	_Atomic int fd;        /* the socket; -1 once closed */
	dev_t sock_dev;        /* identity of the socket (sockfs) */
	ino_t sock_ino;
	uint64_t file_ino; /* for the debug output */
};

/* ---- the pool (as fdtable.c's) ---- */
#define LB_BITS 8
#define LB (1u << LB_BITS)
#define LBLOCKS 4096u

static _Atomic(struct lease *) lblocks[LBLOCKS];
static _Atomic uint32_t lnblocks;
static _Atomic uint64_t lhead;
static _Atomic uint32_t nlive;

static struct lease *lease_entry(uint32_t idx)
{
	struct lease *b = atomic_load_explicit(&lblocks[idx >> LB_BITS], memory_order_acquire);
	return &b[idx & (LB - 1)];
}

static void lpush(struct lease *l)
{
	uint64_t h = atomic_load(&lhead), nh;
	do {
		atomic_store_explicit(&l->next, (uint32_t)h, memory_order_relaxed);
		nh = (((h >> 32) + 1) << 32) | (uint64_t)(l->idx + 1);
	} while (!atomic_compare_exchange_weak(&lhead, &h, nh));
}

static struct lease *lpop(void)
{
	for (;;) {
		uint64_t h = atomic_load(&lhead);
		uint32_t top = (uint32_t)h;
		if (top == 0) {
			uint32_t b = atomic_fetch_add(&lnblocks, 1);
			if (b >= LBLOCKS)
				return NULL;
			struct lease *blk = sys_mmap(NULL, LB * sizeof(struct lease), PROT_READ | PROT_WRITE,
						     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (blk == MAP_FAILED)
				return NULL;
			for (uint32_t i = 0; i < LB; i++)
				blk[i].idx = (b << LB_BITS) | i;
			atomic_store_explicit(&lblocks[b], blk, memory_order_release);
			for (uint32_t i = 0; i < LB; i++)
				lpush(&blk[i]);
			continue;
		}
		struct lease *l = lease_entry(top - 1);
		uint64_t nh = (((h >> 32) + 1) << 32) | atomic_load_explicit(&l->next, memory_order_relaxed);
		if (atomic_compare_exchange_weak(&lhead, &h, nh))
			return l;
	}
}

/* ---- descriptor -> lease (index + 1), any descriptor number (fdtab.c) ---- */
static struct fdtab marks;

static fdt_slot *mark_of(int fd, int create) { return fdtab_slot(&marks, fd, create); }

static void unmark(int fd, uint32_t id)
{
	fdt_slot *m = mark_of(fd, 0);
	uintptr_t expect = (uintptr_t)id + 1;
	if (m)
		atomic_compare_exchange_strong(m, &expect, 0);
}

static int sock_is(int fd, const struct lease *l)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->sock_dev && st.st_ino == l->sock_ino;
}

int lease_new(int sock, uint64_t file_ino)
{
	struct stat st;
	if (fstat(sock, &st) != 0)
		return -1;
	fdt_slot *m = mark_of(sock, 1);
	struct lease *l = m ? lpop() : NULL;
	if (!l)
		return -1;
	l->sock_dev = st.st_dev, l->sock_ino = st.st_ino;
	l->file_ino = file_ino;
	atomic_store(&l->fd, sock);
	atomic_store_explicit(&l->refs, 1, memory_order_release);
	atomic_store(m, l->idx + 1);
	atomic_fetch_add(&nlive, 1);
	return (int)l->idx;
}

void lease_get(int id)
{
	atomic_fetch_add_explicit(&lease_entry((uint32_t)id)->refs, 1, memory_order_relaxed);
}

void lease_put(int id)
{
	struct lease *l = lease_entry((uint32_t)id);
	if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	int e = errno;
	int fd = atomic_exchange(&l->fd, -1);
	if (fd >= 0) {
		unmark(fd, l->idx); /* before the number can be reused */
		if (sock_is(fd, l))
			sys_close(fd);
		else
			dbg("the lease socket %d of inode %llu was closed behind the library's back", fd,
			    (unsigned long long)l->file_ino);
	}
	atomic_fetch_sub(&nlive, 1);
	dbg("inode %llu: lease ended (no descriptor or mapping of it left)", (unsigned long long)l->file_ino);
	lpush(l);
	errno = e;
}

unsigned lease_count(void) { return atomic_load(&nlive); }

/* the live lease whose socket fd is, or NULL */
static struct lease *lease_by_fd(int fd)
{
	fdt_slot *m = mark_of(fd, 0);
	uintptr_t v = m ? atomic_load_explicit(m, memory_order_acquire) : 0;
	if (!v)
		return NULL;
	struct lease *l = lease_entry((uint32_t)(v - 1));
	if (atomic_load(&l->fd) != fd || atomic_load(&l->refs) == 0 || !sock_is(fd, l))
		return NULL;
	return l;
}

int lease_fd_ours(int fd)
{
	return lease_by_fd(fd) != NULL;
}

void lease_relocate(int fd)
{
	struct lease *l = lease_by_fd(fd);
	if (!l)
		return;
	int e = errno;
	int nfd = high_dup(fd);
	fdt_slot *m = nfd >= 0 ? mark_of(nfd, 1) : NULL;
	if (!m) {
		if (nfd >= 0)
			sys_close(nfd);
		dbg("the program puts another file at descriptor %d, the lease of inode %llu, and there is no "
		    "descriptor to move it to: the lease ends early",
		    fd, (unsigned long long)l->file_ino);
		errno = e;
		return;
	}
	atomic_store(m, l->idx + 1);
	int expect = fd;
	if (atomic_compare_exchange_strong(&l->fd, &expect, nfd)) {
		unmark(fd, l->idx);
		dbg("the lease of inode %llu moves from descriptor %d to %d (the program takes %d)",
		    (unsigned long long)l->file_ino, fd, nfd, fd);
	} else { /* it ended meanwhile */
		unmark(nfd, l->idx);
		sys_close(nfd);
	}
	errno = e;
}

int lease_next_fd(unsigned from)
{
	if (!atomic_load(&nlive))
		return -1;
	for (int fd = fdtab_next(&marks, from, ~0u); fd >= 0; fd = fdtab_next(&marks, (unsigned)fd + 1, ~0u))
		if (lease_fd_ours(fd))
			return fd;
	return -1;
}

/* ---- mapping records ---- */
struct mrec {
	uintptr_t lo, hi;
	int lease;
};

static struct mrec *recs;
static size_t nrec, caprec;
static _Atomic size_t nrec_pub; /* nrec, for the lock-free "any?" of every munmap */
static _Atomic int maplock;

int maps_lock(void)
{
	for (int i = 0; i < 100000; i++) {
		int z = 0;
		if (atomic_compare_exchange_weak(&maplock, &z, 1))
			return 1;
		if (i > 100)
			sched_yield();
	}
	return 0;
}

void maps_unlock(void) { atomic_store(&maplock, 0); }

int maps_any(void) { return atomic_load_explicit(&nrec_pub, memory_order_relaxed) != 0; }

int maps_reserve(size_t extra)
{
	if (nrec + extra <= caprec)
		return 0;
	size_t cap = caprec ? caprec : 256;
	while (cap < nrec + extra)
		cap *= 2;
	struct mrec *n = sys_mmap(NULL, cap * sizeof(struct mrec), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				  -1, 0);
	if (n == MAP_FAILED)
		return -1;
	if (recs) {
		memcpy(n, recs, nrec * sizeof(struct mrec));
		sys_munmap(recs, caprec * sizeof(struct mrec));
	}
	recs = n, caprec = cap;
	return 0;
}

/* first record whose end is past a */
static size_t rec_find(uintptr_t a)
{
	size_t lo = 0, hi = nrec;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (recs[mid].hi <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void maps_forget(uintptr_t lo, uintptr_t hi)
{
	if (lo >= hi || !nrec)
		return;
	size_t i = rec_find(lo);
	if (i == nrec || recs[i].lo >= hi)
		return;
	if (recs[i].lo < lo && recs[i].hi > hi) { /* a hole in the middle: two parts remain */
		if (maps_reserve(1) != 0) {
			dbg("no memory to split a mapping record: its lease stays until the rest goes");
			return;
		}
		memmove(&recs[i + 2], &recs[i + 1], (nrec - i - 1) * sizeof(struct mrec));
		recs[i + 1] = (struct mrec){hi, recs[i].hi, recs[i].lease};
		lease_get(recs[i].lease);
		recs[i].hi = lo;
		nrec++;
		atomic_store(&nrec_pub, nrec);
		return;
	}
	if (recs[i].lo < lo) { /* its tail goes */
		recs[i].hi = lo;
		i++;
	}
	size_t j = i;
	while (j < nrec && recs[j].hi <= hi) /* wholly inside: gone */
		lease_put(recs[j++].lease);
	if (j < nrec && recs[j].lo < hi) /* its head goes */
		recs[j].lo = hi;
	if (j > i) {
		memmove(&recs[i], &recs[j], (nrec - j) * sizeof(struct mrec));
		nrec -= j - i;
		atomic_store(&nrec_pub, nrec);
	}
}

int maps_add(uintptr_t lo, uintptr_t hi, int lease)
{
	if (lo >= hi)
		return 0;
	if (maps_reserve(2) != 0)
		return -1;
	lease_get(lease); /* first: the forget below may drop this lease's last other reference */
	maps_forget(lo, hi);
	size_t i = rec_find(lo);
	memmove(&recs[i + 1], &recs[i], (nrec - i) * sizeof(struct mrec));
	recs[i] = (struct mrec){lo, hi, lease};
	nrec++;
	atomic_store(&nrec_pub, nrec);
	return 0;
}

int maps_lease_at(uintptr_t a)
{
	size_t i = rec_find(a);
	return i < nrec && recs[i].lo <= a ? recs[i].lease : -1;
}

/* fork: the child gets a consistent copy of the records (no thread is
 * halfway through changing them) */
static int fork_locked;

void lease_atfork_prepare(void) { fork_locked = maps_lock(); }

void lease_atfork_parent(void)
{
	if (fork_locked)
		maps_unlock();
}

void lease_atfork_child(void) { atomic_store(&maplock, 0); }

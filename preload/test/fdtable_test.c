/* A unit test of the preload library's descriptor table (preload/fdtab.c)
 * and open-file entries (preload/fdtable.c), linked with them alone.
 *
 * Single-threaded: descriptors of every size (0, the chunk boundaries,
 * past 2^20, RLIMIT_NOFILE - 1, INT_MAX) are published, looked up, dup'ed,
 * forgotten one by one, by range and by mount; fdtab_next walks them.
 * Threaded (run under ThreadSanitizer too): threads publish, look up,
 * dup and forget over one set of descriptors at once, checking that an
 * entry they hold stays whole; at the end every entry must have been
 * released exactly once (its lease put once), none leaked.
 *
 * Usage: fdtable_test [threads [iterations]]. Prints "ok". */
#include "../internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAXLEASE (1 << 20)
static _Atomic uint32_t released[MAXLEASE]; /* lease id -> times put */
static _Atomic int next_lease;

/* the entries' leases: fdtable.c puts one when an entry goes */
void lease_put(int id)
{
	if (id < 0 || id >= MAXLEASE) {
		printf("FAIL lease_put of a bad id %d\n", id);
		exit(1);
	}
	atomic_fetch_add(&released[id], 1);
}

static void fail(const char *what, long a, long b)
{
	printf("FAIL %s: %ld %ld\n", what, a, b);
	fflush(stdout);
	exit(1);
}

static struct mnt mnt_a, mnt_b;

/* an entry as recognise.c makes one: one reference, for the slot */
static struct ffile *entry(struct mnt *m)
{
	struct ffile *e = pool_get();
	if (!e)
		fail("pool_get", 0, 0);
	int id = atomic_fetch_add(&next_lease, 1);
	if (id >= MAXLEASE)
		fail("too many leases for the test", id, 0);
	e->mnt = m;
	e->ino = (ino_t)id;
	e->segs = e->inl, e->segs_len = 0, e->nseg = 0;
	atomic_store_explicit(&e->data, NULL, memory_order_relaxed);
	e->lease = id;
	atomic_store_explicit(&e->refs, 1, memory_order_release);
	return e;
}

static uint32_t refs(struct ffile *e) { return atomic_load(&e->refs); }

static void single(void)
{
	if (fd_acquire(-1) || fd_acquire(0) || fd_acquire(INT_MAX) || fd_acquire(INT_MIN))
		fail("an empty table holds something", 0, 0);
	struct rlimit rl;
	long top = 1 << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < INT_MAX)
		top = (long)rl.rlim_max;
	const int fds[] = {0,       1,           2,           1023,          1024,      1025,        4095,
			   65535,   65536,       (1 << 20) - 1, 1 << 20,   (1 << 20) + 1, (int)top - 1,
			   1 << 30, INT_MAX - 1, INT_MAX};
	const int n = (int)(sizeof(fds) / sizeof(fds[0]));
	struct ffile *es[sizeof(fds) / sizeof(fds[0])];
	for (int i = 0; i < n; i++) {
		es[i] = entry(i % 2 ? &mnt_b : &mnt_a);
		fd_publish(fds[i], es[i]);
	}
	for (int i = 0; i < n; i++) {
		struct ffile *e = fd_acquire(fds[i]);
		if (e != es[i] || refs(e) != 2)
			fail("lookup", fds[i], e ? (long)refs(e) : -1);
		ffile_put(e);
	}
	const int others[] = {3, 1022, 1026, 65534, (1 << 20) + 2, 1 << 29, INT_MAX - 2};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i] != (int)top - 1 && fd_acquire(others[i]))
			fail("a descriptor never published holds an entry", others[i], 0);

	/* dup: two slots, one entry */
	fd_dup(1024, 7);
	if (fd_acquire(7) != es[4] || refs(es[4]) != 3)
		fail("dup", refs(es[4]), 0);
	ffile_put(es[4]);
	fd_dup(5, 7); /* a descriptor of no famfs file: 7 is forgotten */
	if (fd_acquire(7) || refs(es[4]) != 1)
		fail("dup of nothing", refs(es[4]), 0);
	fd_dup(INT_MAX, INT_MAX); /* itself: nothing changes */
	if (refs(es[n - 1]) != 1)
		fail("dup onto itself", refs(es[n - 1]), 0);

	/* forget_if leaves another entry alone */
	fd_forget_if(0, es[1]);
	if (fd_acquire(0) != es[0])
		fail("forget_if of another entry", 0, 0);
	ffile_put(es[0]);

	/* publishing over an entry releases the old one */
	int id0 = es[0]->lease;
	struct ffile *repl = entry(&mnt_a);
	fd_publish(0, repl);
	if (atomic_load(&released[id0]) != 1 || fd_acquire(0) != repl)
		fail("publish over an entry", atomic_load(&released[id0]), 0);
	ffile_put(repl);

	/* a range: [1024, 2^20] goes, the rest stays */
	fd_forget_range(1024, 1 << 20);
	for (int i = 0; i < n; i++) {
		struct ffile *e = fd_acquire(fds[i]);
		int gone = fds[i] >= 1024 && fds[i] <= 1 << 20;
		if (gone != (e == NULL))
			fail("forget_range", fds[i], gone);
		if (e)
			ffile_put(e);
	}
	/* by mount: b's go */
	mount_drop_grants(&mnt_b);
	for (int i = 0; i < n; i++) {
		struct ffile *e = fd_acquire(fds[i]);
		if (e && e->mnt == &mnt_b)
			fail("mount_drop_grants left one", fds[i], 0);
		if (e)
			ffile_put(e);
	}
	/* everything, up to the largest number there is */
	fd_forget_range(0, ~0u);
	for (int i = 0; i < n; i++)
		if (fd_acquire(fds[i]))
			fail("forget_range(0, ~0)", fds[i], 0);
	for (int id = 0; id < atomic_load(&next_lease); id++)
		if (atomic_load(&released[id]) != 1)
			fail("an entry released other than once", id, atomic_load(&released[id]));

	/* fdtab_next on a table of its own: the numbers in order, each once */
	static struct fdtab t;
	int sorted[sizeof(fds) / sizeof(fds[0])], ns = 0;
	for (int i = 0; i < n; i++) {
		atomic_store(fdtab_slot(&t, fds[i], 1), 1);
		int j = ns;
		while (j > 0 && sorted[j - 1] > fds[i])
			j--;
		if (j > 0 && sorted[j - 1] == fds[i])
			continue;
		memmove(&sorted[j + 1], &sorted[j], (size_t)(ns - j) * sizeof(int));
		sorted[j] = fds[i], ns++;
	}
	int at = 0;
	for (int fd = fdtab_next(&t, 0, ~0u); fd >= 0; fd = fdtab_next(&t, (unsigned)fd + 1, ~0u), at++)
		if (at >= ns || fd != sorted[at])
			fail("fdtab_next", fd, at < ns ? sorted[at] : -1);
	if (at != ns)
		fail("fdtab_next stopped early", at, ns);
	if (fdtab_next(&t, 3, 1022) != -1 || fdtab_next(&t, 3, 1023) != 1023 || fdtab_next(&t, 1026, 4094) != -1 ||
	    fdtab_next(&t, (1u << 20) + 2, (unsigned)top - 2) != -1 || fdtab_next(&t, 5, 2) != -1 ||
	    fdtab_next(&t, 1u << 31, ~0u) != -1)
		fail("fdtab_next bounds", 0, 0);
	if (fdtab_slot(&t, -1, 1) || fdtab_slot(&t, 123456, 0))
		fail("fdtab_slot of a bad or unmade descriptor", 0, 0);
}

/* ---- threads ---- */

static int tfds[96];
static int ntfds;
static long iters = 20000;

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void *worker(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg * 7919u + 1;
	for (long i = 0; i < iters; i++) {
		int fd = tfds[rnd(&s) % (unsigned)ntfds];
		unsigned op = rnd(&s) % 100;
		if (op < 20) {
			fd_publish(fd, entry(rnd(&s) % 2 ? &mnt_a : &mnt_b));
		} else if (op < 70) {
			struct ffile *e = fd_acquire(fd);
			if (e) {
				/* held: whole, and not released under us */
				int id = e->lease;
				if (id < 0 || (ino_t)id != e->ino || refs(e) < 1 || atomic_load(&released[id]) != 0)
					fail("an entry held changed under the holder", id, (long)e->ino);
				ffile_put(e);
			}
		} else if (op < 82) {
			fd_dup(fd, tfds[rnd(&s) % (unsigned)ntfds]);
		} else if (op < 92) {
			fd_forget(fd);
		} else if (op < 96) {
			struct ffile *e = fd_acquire(fd);
			if (e) {
				fd_forget_if(fd, e);
				ffile_put(e);
			}
		} else if (op < 99) {
			fd_forget_range((unsigned)fd, (unsigned)fd + 2048);
		} else {
			mount_drop_grants(rnd(&s) % 2 ? &mnt_a : &mnt_b);
		}
	}
	return NULL;
}

static void threaded(int nthreads)
{
	int before = atomic_load(&next_lease);
	for (int i = 0; i < 32; i++) /* the first chunk, a few in others, far ones */
		tfds[ntfds++] = i * 3;
	for (int i = 0; i < 32; i++)
		tfds[ntfds++] = 1000 + i * 2; /* across the first leaf boundary */
	for (int i = 0; i < 16; i++)
		tfds[ntfds++] = (1 << 20) - 8 + i; /* across a mid boundary */
	for (int i = 0; i < 16; i++)
		tfds[ntfds++] = INT_MAX - i;
	pthread_t th[64];
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			fail("pthread_create", i, 0);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	fd_forget_range(0, ~0u);
	int made = atomic_load(&next_lease);
	for (int id = before; id < made; id++)
		if (atomic_load(&released[id]) != 1)
			fail("threads: an entry released other than once", id, atomic_load(&released[id]));
	printf("threads: %d threads, %ld operations each, %d entries made and released once\n", nthreads, iters,
	       made - before);
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2)
		iters = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64 || iters < 1)
		fail("usage: fdtable_test [threads (1-64) [iterations]]", nthreads, iters);
	single();
	threaded(nthreads);
	printf("ok\n");
	return 0;
}

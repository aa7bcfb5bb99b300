/* The open famfs files: the pool of entries (struct ffile) and the
 * descriptor table that names the entry behind each descriptor.
 *
 * The table is an fdtab (fdtab.c): any descriptor number, 0 to INT_MAX, is
 * tracked, whatever RLIMIT_NOFILE is. A lookup for a descriptor that is
 * not a famfs file is a few loads and no system call. A slot holds one
 * reference on its entry; readers take their own with a compare-and-swap
 * on a live count and check that the slot still holds the entry
 * (fd_acquire). Nothing here takes a lock or allocates with malloc: fork,
 * signal handlers and threads are all safe. */
#include "internal.h"

#include <sys/mman.h>

static struct fdtab files; /* descriptor -> struct ffile * */

/* ---- the pool: blocks of entries, never unmapped; a free list (Treiber
 * stack of indexes) whose head carries a tag against ABA ---- */
#define PB_BITS 8
#define PB (1u << PB_BITS)
#define PBLOCKS 4096u

static _Atomic(struct ffile *) pblocks[PBLOCKS];
static _Atomic uint32_t pnblocks;
static _Atomic uint64_t phead; /* tag << 32 | (index + 1); low half 0 = empty */

static struct ffile *pool_entry(uint32_t idx)
{
	struct ffile *b = atomic_load_explicit(&pblocks[idx >> PB_BITS], memory_order_acquire);
	return &b[idx & (PB - 1)];
}

static void pool_push(struct ffile *e)
{
	uint64_t h = atomic_load(&phead), nh;
	do {
		atomic_store_explicit(&e->next, (uint32_t)h, memory_order_relaxed);
		nh = (((h >> 32) + 1) << 32) | (uint64_t)(e->idx + 1);
	} while (!atomic_compare_exchange_weak(&phead, &h, nh));
}

static int pool_grow(void)
{
	uint32_t b = atomic_fetch_add(&pnblocks, 1);
	if (b >= PBLOCKS)
		return -1;
	struct ffile *blk = sys_mmap(NULL, PB * sizeof(struct ffile), PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (blk == MAP_FAILED)
		return -1;
	for (uint32_t i = 0; i < PB; i++)
		blk[i].idx = (b << PB_BITS) | i;
	atomic_store_explicit(&pblocks[b], blk, memory_order_release);
	for (uint32_t i = 0; i < PB; i++)
		pool_push(&blk[i]);
	return 0;
}

struct ffile *pool_get(void)
{
	for (;;) {
		uint64_t h = atomic_load(&phead);
		uint32_t top = (uint32_t)h;
		if (top == 0) {
			if (pool_grow() < 0)
				return NULL;
			continue;
		}
		struct ffile *e = pool_entry(top - 1);
		uint64_t nh = (((h >> 32) + 1) << 32) | atomic_load_explicit(&e->next, memory_order_relaxed);
		if (atomic_compare_exchange_weak(&phead, &h, nh))
			return e;
	}
}

static void ffile_release(struct ffile *e)
{
	uint8_t *d = atomic_exchange(&e->data, NULL);
	if (d)
		sys_munmap(d, e->data_len);
	if (e->segs_len)
		sys_munmap(e->segs, e->segs_len);
	e->segs = NULL;
	e->segs_len = 0;
	if (e->lease >= 0)
		lease_put(e->lease); /* after the data mapping: the lease outlives what it holds */
	e->lease = -1;
	pool_push(e);
}

void ffile_put(struct ffile *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
		ffile_release(e);
}

static int ffile_tryget(struct ffile *e)
{
	uint32_t r = atomic_load_explicit(&e->refs, memory_order_relaxed);
	do {
		if (r == 0)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&e->refs, &r, r + 1, memory_order_acquire,
							memory_order_relaxed));
	return 1;
}

/* ---- the table ---- */

struct ffile *fd_acquire(int fd)
{
	fdt_slot *s = fdtab_slot(&files, fd, 0);
	if (!s)
		return NULL;
	for (int tries = 0; tries < 4; tries++) {
		struct ffile *e = (struct ffile *)atomic_load_explicit(s, memory_order_acquire);
		if (!e)
			return NULL;
		if (!ffile_tryget(e))
			continue;
		if (atomic_load_explicit(s, memory_order_acquire) == (uintptr_t)e)
			return e;
		ffile_put(e);
	}
	return NULL; /* the slot keeps changing under us: let the mount serve this call */
}

void fd_publish(int fd, struct ffile *e)
{
	fdt_slot *s = fdtab_slot(&files, fd, 1);
	if (!s) {
		ffile_put(e);
		return;
	}
	struct ffile *old = (struct ffile *)atomic_exchange(s, (uintptr_t)e);
	if (old)
		ffile_put(old);
}

static void slot_clear(fdt_slot *s)
{
	if (!atomic_load_explicit(s, memory_order_relaxed))
		return;
	struct ffile *old = (struct ffile *)atomic_exchange(s, 0);
	if (old)
		ffile_put(old);
}

void fd_forget(int fd)
{
	fdt_slot *s = fdtab_slot(&files, fd, 0);
	if (s)
		slot_clear(s);
}

void fd_forget_if(int fd, struct ffile *e)
{
	fdt_slot *s = fdtab_slot(&files, fd, 0);
	uintptr_t expect = (uintptr_t)e;
	if (s && atomic_compare_exchange_strong(s, &expect, 0))
		ffile_put(e);
}

void fd_forget_range(unsigned lo, unsigned hi)
{
	for (int fd = fdtab_next(&files, lo, hi); fd >= 0; fd = fdtab_next(&files, (unsigned)fd + 1, hi))
		slot_clear(fdtab_slot(&files, fd, 0));
}

void fd_dup(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	struct ffile *e = fd_acquire(oldfd);
	if (e)
		fd_publish(newfd, e); /* the new slot keeps our reference */
	else
		fd_forget(newfd);
}

void mount_drop_grants(struct mnt *m)
{
	for (int fd = fdtab_next(&files, 0, ~0u); fd >= 0; fd = fdtab_next(&files, (unsigned)fd + 1, ~0u)) {
		fdt_slot *s = fdtab_slot(&files, fd, 0);
		struct ffile *e = (struct ffile *)atomic_load(s);
		if (!e || !ffile_tryget(e))
			continue;
		if (e->mnt == m) {
			uintptr_t expect = (uintptr_t)e;
			if (atomic_compare_exchange_strong(s, &expect, 0))
				ffile_put(e); /* the slot's reference */
		}
		ffile_put(e);
	}
}

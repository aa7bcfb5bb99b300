/* A table with one word per descriptor number, for every number a process
 * can have: 0 to INT_MAX (Linux's RLIMIT_NOFILE is at most fs.nr_open,
 * itself below INT_MAX), inherited or opened, whatever the limit is now or
 * becomes. Used for the open famfs files (fdtable.c) and the lease sockets
 * (lease.c).
 *
 * Three levels, 11 + 10 + 10 bits of the number: a static top array, then
 * nodes of 1024 pointers and leaves of 1024 words, each 8 KiB, mapped on
 * first use (mmap: async-signal-safe, unlike malloc) and never unmapped. A
 * node is installed with a compare-and-swap, so two threads making the
 * same one at once keep one. A read is three dependent loads and takes no
 * lock; a descriptor whose leaf was never made reads as 0 and costs no
 * memory. The words themselves are the callers' (atomics). */
#include "internal.h"

#include <sys/mman.h>

#define LEAF (1u << FDT_LEAF_BITS)
#define MID (1u << FDT_MID_BITS)

static void *node_new(size_t size)
{
	void *p = sys_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

fdt_slot *fdtab_slot(struct fdtab *t, int fd, int create)
{
	if (fd < 0)
		return NULL;
	unsigned u = (unsigned)fd;
	fdt_midp *top = &t->top[u >> (FDT_LEAF_BITS + FDT_MID_BITS)];
	fdt_leafp *mid = atomic_load_explicit(top, memory_order_acquire);
	if (!mid) {
		if (!create || !(mid = node_new(MID * sizeof(fdt_leafp))))
			return NULL;
		fdt_leafp *expect = NULL;
		if (!atomic_compare_exchange_strong(top, &expect, mid)) {
			sys_munmap(mid, MID * sizeof(fdt_leafp)); /* another thread made it first */
			mid = expect;
		}
	}
	fdt_leafp *lp = &mid[(u >> FDT_LEAF_BITS) & (MID - 1)];
	fdt_slot *leaf = atomic_load_explicit(lp, memory_order_acquire);
	if (!leaf) {
		if (!create || !(leaf = node_new(LEAF * sizeof(fdt_slot))))
			return NULL;
		fdt_slot *expect = NULL;
		if (!atomic_compare_exchange_strong(lp, &expect, leaf)) {
			sys_munmap(leaf, LEAF * sizeof(fdt_slot));
			leaf = expect;
		}
	}
	return &leaf[u & (LEAF - 1)];
}

int fdtab_next(struct fdtab *t, unsigned from, unsigned hi)
{
	if (hi > (unsigned)INT32_MAX)
		hi = INT32_MAX;
	for (uint64_t fd = from; fd <= hi;) {
		fdt_leafp *mid = atomic_load_explicit(&t->top[fd >> (FDT_LEAF_BITS + FDT_MID_BITS)], memory_order_acquire);
		if (!mid) { /* the next top entry */
			fd = ((fd >> (FDT_LEAF_BITS + FDT_MID_BITS)) + 1) << (FDT_LEAF_BITS + FDT_MID_BITS);
			continue;
		}
		fdt_slot *leaf = atomic_load_explicit(&mid[(fd >> FDT_LEAF_BITS) & (MID - 1)], memory_order_acquire);
		if (!leaf) { /* the next leaf */
			fd = ((fd >> FDT_LEAF_BITS) + 1) << FDT_LEAF_BITS;
			continue;
		}
		for (unsigned i = (unsigned)fd & (LEAF - 1); i < LEAF && fd <= hi; i++, fd++)
			if (atomic_load_explicit(&leaf[i], memory_order_relaxed))
				return (int)fd;
	}
	return -1;
}

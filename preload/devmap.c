/* Mapping a famfs file's bytes straight from the device: the file's
 * segments (extents, or interleave chunks) laid side by side in one range
 * of addresses, device-contiguous runs in one mmap each, aligned so that
 * device pages line up for huge-page faults. data_map makes the mapping
 * read and write copy from (once per open file); serve_mmap makes the
 * program's own mmap of the file, and records it for its lease (lease.c).
 * Called from the hooks: async-signal-safe (internal.h). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#define ST_VALID_ 0x0020 /* Linux's statfs f_flags: the flags are set (linux/statfs.h) */
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

/* first segment whose end is past off */
static uint32_t seg_find(const struct ffile *e, uint64_t off)
{
	uint32_t lo = 0, hi = e->nseg;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->segs[mid].file_off + e->segs[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Map file range [off, end) of e at base (already reserved), MAP_FIXED,
 * device-contiguous segments in one call. On devdax every piece must be a
 * multiple of the device alignment. Returns 0 or an errno. */
static int map_pieces(struct ffile *e, int devfd, uint8_t *base, uint64_t off, uint64_t end, int prot, int flags)
{
	int devdax = (e->gflags & GRANT_DEVDAX) != 0;
	for (uint32_t i = seg_find(e, off); i < e->nseg && e->segs[i].file_off < end;) {
		uint64_t lo = e->segs[i].file_off > off ? e->segs[i].file_off : off;
		uint64_t doff = e->segs[i].dev_off + (lo - e->segs[i].file_off);
		uint64_t hi = e->segs[i].file_off + e->segs[i].len;
		for (i++; i < e->nseg && hi < end && e->segs[i].dev_off == doff + (hi - lo); i++)
			hi = e->segs[i].file_off + e->segs[i].len;
		if (hi > end)
			hi = end;
		if (devdax && ((doff | (hi - lo) | (uint64_t)(uintptr_t)(base + (lo - off))) & (e->dev_align - 1)))
			return EINVAL;
		void *p = sys_mmap(base + (lo - off), hi - lo, prot, flags | MAP_FIXED, devfd, (off_t)doff);
		if (p == MAP_FAILED)
			return errno;
	}
	return 0;
}

/* A PROT_NONE range of len bytes whose address is congruent to cong modulo
 * align (so that device pages line up for huge-page faults). */
static uint8_t *reserve_aligned(size_t len, uint64_t cong, uint64_t align)
{
	if (align < (uint64_t)pagesz)
		align = pagesz;
	if (len + align < len)
		return NULL;
	uint8_t *r = sys_mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	uint8_t *s = r + ((cong - (uint64_t)(uintptr_t)r) & (align - 1));
	if (s > r)
		sys_munmap(r, (size_t)(s - r));
	if (r + len + align > s + len)
		sys_munmap(s + len, (size_t)(r + len + align - (s + len)));
	return s;
}

/* the whole file (its segments) mapped once, for read and write */
uint8_t *data_map(struct ffile *e)
{
	uint8_t *d = atomic_load_explicit(&e->data, memory_order_acquire);
	if (d)
		return d;
	int devfd = dev_fd(e);
	if (devfd < 0)
		return NULL;
	uint64_t align = e->dev_align > e->alloc_unit ? e->dev_align : e->alloc_unit;
	uint8_t *base = reserve_aligned(e->span, 0, align);
	if (!base) {
		dbg("no address space for a %llu-byte file", (unsigned long long)e->span);
		return NULL;
	}
	int err = map_pieces(e, devfd, base, 0, e->span, PROT_READ | (e->mode ? PROT_WRITE : 0), MAP_SHARED);
	if (err) {
		dbg("mapping the file from the device: %s", err_name(err));
		sys_munmap(base, e->span);
		return NULL;
	}
	uint8_t *expect = NULL;
	e->data_len = e->span;
	if (!atomic_compare_exchange_strong(&e->data, &expect, base)) {
		sys_munmap(base, e->span); /* another thread made it first */
		return expect;
	}
	return base;
}

/* ---- the program's mmap ---- */

#define MAP_KNOWN                                                                                                      \
	(MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE |             \
	 MAP_NONBLOCK | MAP_NORESERVE | MAP_LOCKED | MAP_DENYWRITE | MAP_EXECUTABLE)
#define MAP_PASS (MAP_POPULATE | MAP_NONBLOCK | MAP_NORESERVE | MAP_LOCKED)

/* Returns 1 with *res set (MAP_FAILED and errno on error) when served, 0 to
 * let the kernel map the file through the mount. */
int serve_mmap(struct ffile *e, int fd, void *addr, size_t len, int prot, int flags, off_t off, void **res)
{
	int type = flags & 0x0f;
	int shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	if ((!shared && type != MAP_PRIVATE) || (flags & ~MAP_KNOWN) || off < 0)
		return 0; /* whatever the kernel makes of it */
	if (len == 0 || (off & (pagesz - 1))) {
		errno = EINVAL;
		*res = MAP_FAILED;
		return 1;
	}
	size_t L = (len + (size_t)pagesz - 1) & ~(size_t)(pagesz - 1);
	if (L < len || (uint64_t)off + L < (uint64_t)off)
		return 0;
	int fl = (int)sys_fcntl(fd, F_GETFL, 0);
	if (fl < 0)
		return 0;
	if (shared && (prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR) {
		errno = EACCES; /* as the kernel: a shared writable mapping needs a writable descriptor */
		*res = MAP_FAILED;
		return 1;
	}
	if (shared && (prot & PROT_WRITE) && !e->mode) {
		dbg("fd %d: a writable shared mapping, but the grant is read-only: the mount maps it", fd);
		return 0;
	}
	int devdax = (e->gflags & GRANT_DEVDAX) != 0;
	if (!shared && devdax) {
		dbg("fd %d: a private mapping of a devdax device is not possible: the mount maps it", fd);
		return 0;
	}
	if (prot & PROT_EXEC) {
		/* fstatfs, not fstatvfs: glibc's may read /proc/mounts with stdio
		 * (not async-signal-safe); the kernel's flags say the same since
		 * Linux 2.6.36 (ST_VALID) */
		struct statfs sf;
		if (fstatfs(fd, &sf) == 0 && (sf.f_flags & ST_VALID_) && (sf.f_flags & ST_NOEXEC)) {
			errno = EPERM;
			*res = MAP_FAILED;
			return 1;
		}
	}
	uint64_t g = devdax ? e->dev_align : (uint64_t)pagesz;
	int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	if (devdax && (((uint64_t)off | L) & (g - 1) || (fixed && ((uintptr_t)addr & (g - 1))))) {
		dbg("fd %d: a devdax mapping must be aligned to %llu bytes: the mount maps it", fd, (unsigned long long)g);
		return 0;
	}
	int devfd = dev_fd(e);
	if (devfd < 0)
		return 0;

	/* Device bytes as far as the page holding EOF (devdax: the allocation
	 * unit holding it, the device's mapping granule); past that, accesses
	 * raise SIGBUS as for a regular file. */
	uint64_t limit = devdax ? e->span : ((e->size + (uint64_t)pagesz - 1) & ~(uint64_t)(pagesz - 1));
	uint64_t end = (uint64_t)off + L;
	uint64_t data_end = end < limit ? end : (limit > (uint64_t)off ? limit : (uint64_t)off);

	uint8_t *base;
	if (fixed || addr) {
		base = sys_mmap(addr, L, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
		if (base == MAP_FAILED) {
			*res = MAP_FAILED;
			return 1;
		}
		if (devdax && ((uintptr_t)base & (g - 1))) { /* a hint the device cannot honour */
			sys_munmap(base, L);
			base = NULL;
		}
	} else
		base = NULL;
	if (!base) {
		uint64_t align = e->dev_align > e->alloc_unit ? e->dev_align : e->alloc_unit;
		base = reserve_aligned(L, (uint64_t)off, align);
		if (!base) {
			errno = ENOMEM;
			*res = MAP_FAILED;
			return 1;
		}
	}
	int mflags = (shared ? type : MAP_PRIVATE) | (flags & MAP_PASS);
	int err = data_end > (uint64_t)off ? map_pieces(e, devfd, base, (uint64_t)off, data_end, prot, mflags) : 0;
	if (!err && data_end < end) {
		/* past EOF: a mapping of an empty memfd, so that an access raises
		 * SIGBUS as the kernel does for pages beyond a file's end */
		int mfd = memfd_create("famfs-past-eof", MFD_CLOEXEC);
		void *p = mfd >= 0 ? sys_mmap(base + (data_end - (uint64_t)off), end - data_end, prot,
					      (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, mfd, 0)
				   : MAP_FAILED;
		if (p == MAP_FAILED)
			dbg("fd %d: past-EOF pages left inaccessible (SIGSEGV, not SIGBUS): %s", fd, err_name(errno));
		if (mfd >= 0)
			sys_close(mfd);
	}
	if (err) {
		sys_munmap(base, L);
		dbg("fd %d: mapping from the device failed: %s", fd, err_name(err));
		errno = err;
		*res = MAP_FAILED;
		return 1;
	}
	/* The mapping holds the lease until the last of it is unmapped. */
	int rec = -1;
	if (maps_lock()) {
		rec = maps_add((uintptr_t)base, (uintptr_t)base + L, e->lease);
		maps_unlock();
	}
	if (rec != 0) {
		sys_munmap(base, L);
		dbg("fd %d: cannot record the mapping for its lease (table busy or no memory): the mount maps it", fd);
		return 0;
	}
	COUNT(n_mmaps, 1);
	*res = base;
	return 1;
}

/* the end of the pages [addr, addr+len) covers */
uintptr_t range_end(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, L = ((uintptr_t)len + (uintptr_t)pagesz - 1) & ~(uintptr_t)(pagesz - 1);
	return L < len || a + L < a ? UINTPTR_MAX : a + L;
}


/* The hooks of the address space: mmap and mmap64 of a famfs file
 * descriptor map the file from the device (devmap.c); munmap, mremap and
 * mmap(MAP_FIXED) keep the records of the library's mappings (lease.c), so
 * that a lease lasts exactly as long as some part of its mappings. Every
 * other mapping goes to libc as it is. Async-signal-safe (internal.h). */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static void *do_mmap(void *(*real)(void *, size_t, int, int, int, off_t), void *addr, size_t len, int prot,
		     int flags, int fd, off_t off)
{
	struct ffile *e;
	if (!(flags & MAP_ANONYMOUS) && (e = famfs_get(fd))) {
		void *res;
		int served = serve_mmap(e, fd, addr, len, prot, flags, off, &res);
		ffile_put(e);
		if (served)
			return res;
		COUNT(n_mount, 1);
	}
	if (!real) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	if (!(flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE) || !maps_any())
		return real(addr, len, prot, flags, fd, off);
	/* MAP_FIXED replaces what was there: a mapping of ours no longer holds
	 * its lease there */
	int locked = maps_lock();
	void *r = real(addr, len, prot, flags, fd, off);
	if (locked) {
		if (r != MAP_FAILED) {
			int e = errno;
			maps_forget((uintptr_t)r, range_end(r, len));
			errno = e;
		}
		maps_unlock();
	}
	return r;
}

PUBLIC void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(R(mmap), addr, len, prot, flags, fd, off);
}

PUBLIC void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(R(mmap64), addr, len, prot, flags, fd, off);
}

/* munmap and mremap keep the records of the library's mappings (lease.c):
 * what is unmapped no longer holds its lease; what remains does. The
 * system call and the change of the records happen under one lock, so that
 * another thread's new mapping at the same addresses is never forgotten. */
PUBLIC int munmap(void *addr, size_t len)
{
	NEED(munmap, -1);
	if (!maps_any())
		return real(addr, len);
	int locked = maps_lock();
	int r = real(addr, len);
	if (locked) {
		if (r == 0) {
			int e = errno;
			maps_forget((uintptr_t)addr, range_end(addr, len));
			errno = e;
		}
		maps_unlock();
	} else if (r == 0)
		dbg("munmap %p: the mapping table is busy: a lease may stay open longer", addr);
	return r;
}

PUBLIC void *mremap(void *old, size_t oldsz, size_t newsz, int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	NEED(mremap, MAP_FAILED);
	if (!maps_any())
		return real(old, oldsz, newsz, flags, want);
	int locked = maps_lock();
	if (locked)
		maps_reserve(4);
	void *r = real(old, oldsz, newsz, flags, want);
	if (!locked)
		return r;
	if (r != MAP_FAILED) {
		int e = errno;
		/* the pages move, shrink or grow: the new range holds the lease
		 * the old one held (a temporary reference bridges the two) */
		int id = maps_lease_at((uintptr_t)old);
		if (id >= 0)
			lease_get(id);
		if (!(flags & MREMAP_DONTUNMAP))
			maps_forget((uintptr_t)old, range_end(old, oldsz));
		if (id >= 0) {
			if (maps_add((uintptr_t)r, range_end(r, newsz), id) != 0)
				dbg("mremap %p: no memory for the record: its lease may end early", old);
			lease_put(id);
		} else
			maps_forget((uintptr_t)r, range_end(r, newsz));
		errno = e;
	}
	maps_unlock();
	return r;
}


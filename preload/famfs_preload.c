/* libfamfs-preload: zero copy for unmodified, dynamically linked programs.
 *
 * Loaded with LD_PRELOAD (or `famfs run -- CMD ARGS...`), it recognises files
 * of famfs mounts when they are opened, asks the mount's daemon for a grant
 * (the file's map and a descriptor of the device, see grant.c) and then serves
 *
 *   - mmap/mmap64 by mapping the file's extents (or interleave chunks)
 *     straight from the device into one range, and
 *   - read/pread/readv/preadv(2) and write/pwrite/writev/pwritev(2) by
 *     copying from or to such a mapping made once per open file,
 *
 * keeping the file offset in the kernel's open file description. Each grant
 * is a lease (lease.c): the grant's connection stays open, and the daemon
 * holds the file, while the process has a descriptor the library serves
 * for it or any part of a mapping the library made of it. Whatever
 * cannot be served this way (a refused grant, an unusual flag, a descriptor
 * that is no longer the file the library saw) goes to the mount, unchanged:
 * the library never makes a call fail that the mount would have served.
 * FAMFS_PRELOAD_DEBUG=1 says on stderr why a file is not served directly and
 * prints the counters at exit.
 *
 * What it does not reach: stdio's reads and writes (glibc's FILE functions
 * call libc's internal read/write, not the interposable symbols; fopen is
 * interposed so that mmap(fileno(f)) is served), statically linked programs,
 * Go programs (raw system calls; they have the famfs library's Map), and
 * calls made with syscall(2). sendfile, splice and copy_file_range go
 * through the mount. A lease socket takes a descriptor in the library's
 * range (above fd_base): a process holds at most that many files through
 * the library at once; the mount serves the others. */
#include "internal.h"
#include "cacheflush.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

int famfs_debug;
static int debug_fd = 2; /* a copy of stderr: programs close theirs before exit */
static long pagesz = 4096;
static int fd_base = 512; /* where the library's own descriptors go */
static int lib_pid;       /* this process (a vfork child is another one, sharing our memory) */

/* Not a vfork child (nor a clone(2) without fork's handlers): the
 * descriptors the library's tables describe are this process's. */
static int own_process(void)
{
	return lib_pid == 0 || (int)getpid() == lib_pid;
}

/* counters, kept only when debugging */
static _Atomic uint64_t n_grants, n_refused, n_mmaps, n_reads, n_read_bytes, n_writes, n_write_bytes, n_mount;
#define COUNT(c, v)                                                                                                    \
	do {                                                                                                           \
		if (famfs_debug)                                                                                       \
			atomic_fetch_add_explicit(&(c), (v), memory_order_relaxed);                                   \
	} while (0)

void dbg(const char *fmt, ...)
{
	if (!famfs_debug)
		return;
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "famfs-preload[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + ((size_t)m < sizeof(buf) - (size_t)n - 1 ? (size_t)m : sizeof(buf) - (size_t)n - 2);
	buf[len++] = '\n';
	int e = errno;
	ssize_t w = syscall(SYS_write, debug_fd, buf, len);
	(void)w;
	errno = e;
}

/* ---- system calls the library makes for itself (never through the hooks) ---- */
void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
int sys_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }
int sys_close(int fd) { return (int)syscall(SYS_close, fd); }
long sys_fcntl(int fd, int cmd, long arg) { return syscall(SYS_fcntl, fd, cmd, arg); }

/* ---- the real libc functions ---- */
#define REAL(ret, name, params) static ret(*real_##name) params;
REAL(int, open, (const char *, int, ...))
REAL(int, open64, (const char *, int, ...))
REAL(int, openat, (int, const char *, int, ...))
REAL(int, openat64, (int, const char *, int, ...))
REAL(int, __open_2, (const char *, int))
REAL(int, __open64_2, (const char *, int))
REAL(int, __openat_2, (int, const char *, int))
REAL(int, __openat64_2, (int, const char *, int))
REAL(FILE *, fopen, (const char *, const char *))
REAL(FILE *, fopen64, (const char *, const char *))
REAL(FILE *, freopen, (const char *, const char *, FILE *))
REAL(FILE *, freopen64, (const char *, const char *, FILE *))
REAL(int, fclose, (FILE *))
REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
REAL(void *, mmap64, (void *, size_t, int, int, int, off_t))
REAL(int, munmap, (void *, size_t))
REAL(void *, mremap, (void *, size_t, size_t, int, ...))
REAL(ssize_t, read, (int, void *, size_t))
REAL(ssize_t, __read_chk, (int, void *, size_t, size_t))
REAL(ssize_t, pread, (int, void *, size_t, off_t))
REAL(ssize_t, pread64, (int, void *, size_t, off_t))
REAL(ssize_t, __pread_chk, (int, void *, size_t, off_t, size_t))
REAL(ssize_t, __pread64_chk, (int, void *, size_t, off_t, size_t))
REAL(ssize_t, readv, (int, const struct iovec *, int))
REAL(ssize_t, preadv, (int, const struct iovec *, int, off_t))
REAL(ssize_t, preadv64, (int, const struct iovec *, int, off_t))
REAL(ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))
REAL(ssize_t, preadv64v2, (int, const struct iovec *, int, off_t, int))
REAL(ssize_t, write, (int, const void *, size_t))
REAL(ssize_t, pwrite, (int, const void *, size_t, off_t))
REAL(ssize_t, pwrite64, (int, const void *, size_t, off_t))
REAL(ssize_t, writev, (int, const struct iovec *, int))
REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
REAL(ssize_t, pwritev64, (int, const struct iovec *, int, off_t))
REAL(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))
REAL(ssize_t, pwritev64v2, (int, const struct iovec *, int, off_t, int))
REAL(int, dup, (int))
REAL(int, dup2, (int, int))
REAL(int, dup3, (int, int, int))
REAL(int, fcntl, (int, int, ...))
REAL(int, fcntl64, (int, int, ...))
REAL(int, close, (int))
REAL(int, close_range, (unsigned, unsigned, int))
REAL(void, closefrom, (int))

/* R(name) is the real function, looked up on first use (a hook may run
 * before the library's constructor, from another library's). */
#define R(name) (real_##name ? real_##name : (real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)))
#define NEED(name, fail)                                                                                               \
	do {                                                                                                           \
		if (!R(name)) {                                                                                        \
			errno = ENOSYS;                                                                                \
			return fail;                                                                                   \
		}                                                                                                      \
	} while (0)

/* ============================== recognising famfs files ============================== */

static int dev_identity(int fd, dev_t *d, ino_t *i, dev_t *r)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	*d = st.st_dev, *i = st.st_ino, *r = st.st_rdev;
	return 0;
}

/* a device descriptor the library still holds: its identity is the device's */
static int devfd_valid(int fd, dev_t d, ino_t i, dev_t r)
{
	dev_t d2, r2;
	ino_t i2;
	return fd >= 0 && dev_identity(fd, &d2, &i2, &r2) == 0 && d2 == d && i2 == i && r2 == r;
}

int high_dup(int fd)
{
	int h = (int)sys_fcntl(fd, F_DUPFD_CLOEXEC, fd_base);
	return h < 0 ? -1 : h;
}

static int move_high(int fd)
{
	int h = high_dup(fd);
	if (h < 0)
		return fd;
	sys_close(fd);
	return h;
}

static int sb_matches(const volatile uint8_t *sb, const uint8_t uuid[16], uint32_t gflags)
{
	if (gflags & GRANT_NONCOHERENT)
		cache_invalidate((const void *)sb, CACHE_LINE);
	uint64_t magic = 0;
	for (int i = 7; i >= 0; i--)
		magic = magic << 8 | sb[i];
	if (magic != FAMFS_SB_MAGIC)
		return 0;
	for (int i = 0; i < 16; i++)
		if (sb[FAMFS_SB_UUID_OFF + i] != uuid[i])
			return 0;
	return 1;
}

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES (not trusted with the device)";
	case EBADF: return "EBADF (not a file of this mount)";
	case EIO: return "EIO (the file system was re-made, or the daemon was evicted)";
	case ENOENT: return "ENOENT (the file was deleted)";
	case EDQUOT: return "EDQUOT (this user holds too many leases of the mount)";
	case EINVAL: return "EINVAL (malformed request)";
	case EISDIR: return "EISDIR";
	case E2BIG: return "E2BIG (too many segments)";
	default: return strerror(e);
	}
}

/* Called after the mount's daemon answered a grant for a file of mount m.
 * Installs the device descriptor and checks the file system; returns the
 * superblock mapping, or NULL if the grant cannot be used. */
static const volatile uint8_t *adopt_grant(struct mnt *m, struct grant *g, dev_t *pdd, ino_t *pdi, dev_t *pdr)
{
	int mode = (g->flags & GRANT_WRITABLE) ? 1 : 0;
	dev_t dd, dr;
	ino_t di;
	if (dev_identity(g->devfd, &dd, &di, &dr) != 0) {
		dbg("cannot stat the device descriptor: %s", strerror(errno));
		return NULL;
	}
	if (!mount_lock()) {
		dbg("mount table busy: the mount serves this file");
		return NULL;
	}
	if (m->have_uuid && memcmp(m->uuid, g->uuid, 16) != 0) {
		dbg("the file system on the device changed: dropping the grants of the old one");
		mount_drop_grants(m);
	}
	memcpy(m->uuid, g->uuid, 16);
	m->have_uuid = 1;
	if (m->have_dev && (m->dev_dev != dd || m->dev_ino != di || m->dev_rdev != dr)) {
		/* another device behind this mount number: forget the old one's
		 * descriptors (closing only what still is ours) and superblock */
		for (int k = 0; k < 2; k++) {
			int old = atomic_exchange(&m->devfd[k], -1);
			if (devfd_valid(old, m->dev_dev, m->dev_ino, m->dev_rdev))
				sys_close(old);
		}
		atomic_store(&m->sb, NULL); /* the old mapping stays: a reader may hold it */
		m->have_dev = 0;
	}
	if (!m->have_dev) {
		m->dev_dev = dd, m->dev_ino = di, m->dev_rdev = dr;
		m->have_dev = 1;
	}
	int cur = atomic_load(&m->devfd[mode]);
	if (devfd_valid(cur, dd, di, dr)) {
		sys_close(g->devfd); /* one descriptor per mount and mode is enough */
	} else {
		atomic_store(&m->devfd[mode], move_high(g->devfd));
	}
	g->devfd = -1;
	*pdd = dd, *pdi = di, *pdr = dr;
	const volatile uint8_t *sb = atomic_load(&m->sb);
	if (!sb) {
		size_t len = (g->flags & GRANT_DEVDAX) ? g->dev_align : (size_t)pagesz;
		void *p = sys_mmap(NULL, len, PROT_READ, MAP_SHARED, atomic_load(&m->devfd[mode]), 0);
		if (p != MAP_FAILED) {
			sb = p;
			atomic_store(&m->sb, sb);
		} else
			dbg("cannot map the device's superblock: %s", strerror(errno));
	}
	mount_unlock();
	if (sb && !sb_matches(sb, g->uuid, g->flags)) {
		dbg("the device's superblock is not the file system of the grant");
		return NULL;
	}
	return sb;
}

static void recognise_fd(int fd, int flags, const char *path)
{
	if (flags & O_PATH)
		return;
	struct statfs sfs;
	if (fstatfs(fd, &sfs) != 0 || sfs.f_type != FUSE_SUPER_MAGIC_)
		return;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	char sock[256];
	snprintf(sock, sizeof(sock), GRANT_LINK_FMT, major(st.st_dev), minor(st.st_dev));
	if (access(sock, F_OK) != 0)
		return; /* a FUSE file, not famfs: no famfs daemon named its grant socket */
	const char *name = path ? path : "";
	int acc = flags & O_ACCMODE;
	if (acc != O_RDONLY && acc != O_RDWR) {
		dbg("fd %d %s: opened write-only: the mount serves it", fd, name);
		return;
	}
	int want = acc == O_RDWR;
	if (!mount_lock()) {
		dbg("fd %d %s: mount table busy: the mount serves it", fd, name);
		return;
	}
	struct mnt *m = mount_slot(st.st_dev);
	int refused = m ? atomic_load(&m->refused[want]) : 0;
	mount_unlock();
	if (!m) {
		dbg("fd %d %s: too many famfs mounts: the mount serves it", fd, name);
		return;
	}
	if (refused) {
		COUNT(n_refused, 1);
		return; /* the daemon said EACCES before for this mode */
	}
	struct grant g;
	grant_request(fd, sock, 1, &g);
	if (g.status != 0) {
		COUNT(n_refused, 1);
		if (g.status == EACCES && !g.why) {
			atomic_store(&m->refused[want], 1);
		} else if (g.status == EIO) {
			if (mount_lock()) {
				mount_drop_grants(m);
				m->have_uuid = 0;
				mount_unlock();
			}
		}
		if (g.why)
			dbg("fd %d %s: no grant: %s (%s): the mount serves it", fd, name, g.why, strerror(g.status));
		else
			dbg("fd %d %s: the daemon answered %s: the mount serves it", fd, name, errname(g.status));
		return;
	}
	struct ffile *e = NULL;
	int lease = -1;
	if (g.ino != (uint64_t)st.st_ino) {
		dbg("fd %d %s: grant for inode %llu, the descriptor is inode %llu", fd, name,
		    (unsigned long long)g.ino, (unsigned long long)st.st_ino);
		goto drop;
	}
	if ((g.flags & GRANT_WRITABLE) && acc != O_RDWR) {
		dbg("fd %d %s: a writable grant for a read-only descriptor: not used", fd, name);
		goto drop;
	}
	dev_t dd, dr;
	ino_t di;
	const volatile uint8_t *sb = adopt_grant(m, &g, &dd, &di, &dr);
	if (!sb)
		goto drop;
	lease = lease_new(g.lease, g.ino);
	if (lease < 0) {
		dbg("fd %d %s: out of lease entries", fd, name);
		goto drop;
	}
	g.lease = -1; /* the lease owns the socket now */
	e = pool_get();
	if (!e) {
		dbg("fd %d %s: out of entries", fd, name);
		goto drop;
	}
	e->mode = (g.flags & GRANT_WRITABLE) ? 1 : 0;
	e->mnt = m;
	e->dev = st.st_dev, e->ino = st.st_ino;
	e->dev_dev = dd, e->dev_ino = di, e->dev_rdev = dr;
	e->gflags = g.flags;
	e->size = g.size, e->alloc_unit = g.alloc_unit, e->dev_align = g.dev_align;
	e->span = g.segs[g.nseg - 1].file_off + g.segs[g.nseg - 1].len;
	memcpy(e->uuid, g.uuid, 16);
	e->sb = sb;
	e->nseg = g.nseg;
	if (g.nseg <= SEG_INLINE) {
		memcpy(e->inl, g.segs, g.nseg * sizeof(struct seg));
		e->segs = e->inl, e->segs_len = 0;
		grant_free_segs(&g);
	} else {
		e->segs = g.segs, e->segs_len = g.segs_len;
		g.segs = NULL, g.segs_len = 0;
	}
	atomic_store_explicit(&e->data, NULL, memory_order_relaxed);
	e->data_len = 0;
	e->lease = lease; /* the entry takes the lease's reference */
	atomic_store_explicit(&e->refs, 1, memory_order_release);
	fd_publish(fd, e);
	COUNT(n_grants, 1);
	dbg("fd %d %s: served from the device (%u segment%s, %s%s)", fd, name, g.nseg, g.nseg == 1 ? "" : "s",
	    e->mode ? "writable" : "read-only", (g.flags & GRANT_NONCOHERENT) ? ", non-coherent" : "");
	return;
drop:
	if (lease >= 0)
		lease_put(lease); /* closes the lease: the daemon lets go */
	if (g.lease >= 0)
		sys_close(g.lease);
	if (g.devfd >= 0)
		sys_close(g.devfd);
	grant_free_segs(&g);
}

/* after a successful open: is it a famfs file? (errno is kept) A number
 * the kernel just handed out belongs to no open file the library knew: an
 * entry left in its slot (closed where the library could not see it) goes. */
static void recognise(int fd, int flags, const char *path)
{
	if (fd < 0)
		return;
	fd_forget(fd);
	int e = errno;
	recognise_fd(fd, flags, path);
	errno = e;
}

static void recognise_stream(FILE *f, const char *path)
{
	if (!f)
		return;
	int e = errno;
	int fd = fileno(f);
	if (fd >= 0) {
		fd_forget(fd);
		int fl = (int)sys_fcntl(fd, F_GETFL, 0);
		if (fl >= 0)
			recognise_fd(fd, fl, path);
	}
	errno = e;
}

/* ============================== serving a descriptor ============================== */

static int same_file(struct ffile *e, int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &sx) != 0)
		return 0;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) == e->dev && sx.stx_ino == (uint64_t)e->ino;
}

/* The entry for fd with a reference, if fd still is the file the library
 * recognised and its file system is still the one on the device. */
static struct ffile *famfs_get(int fd)
{
	struct ffile *e = fd_acquire(fd);
	if (!e)
		return NULL;
	if (!same_file(e, fd)) {
		dbg("fd %d is no longer the famfs file it was (closed unseen, reused): forgotten", fd);
		fd_forget_if(fd, e);
		ffile_put(e);
		return NULL;
	}
	if (!sb_matches(e->sb, e->uuid, e->gflags)) {
		dbg("fd %d: the file system on the device was re-made: the mount serves its files now", fd);
		if (mount_lock()) {
			mount_drop_grants(e->mnt);
			mount_unlock();
		} else
			fd_forget_if(fd, e);
		ffile_put(e);
		return NULL;
	}
	return e;
}

static int dev_fd(struct ffile *e)
{
	int fd = atomic_load(&e->mnt->devfd[e->mode]);
	if (!devfd_valid(fd, e->dev_dev, e->dev_ino, e->dev_rdev)) {
		dbg("the device descriptor %d was closed or replaced behind the library's back", fd);
		return -1;
	}
	return fd;
}

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
static uint8_t *data_map(struct ffile *e)
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
		dbg("mapping the file from the device: %s", strerror(err));
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

/* ------------------------------------ mmap ------------------------------------ */

#define MAP_KNOWN                                                                                                      \
	(MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE |            \
	 MAP_NONBLOCK | MAP_NORESERVE | MAP_LOCKED | MAP_DENYWRITE | MAP_EXECUTABLE)
#define MAP_PASS (MAP_POPULATE | MAP_NONBLOCK | MAP_NORESERVE | MAP_LOCKED)

/* Returns 1 with *res set (MAP_FAILED and errno on error) when served, 0 to
 * let the kernel map the file through the mount. */
static int serve_mmap(struct ffile *e, int fd, void *addr, size_t len, int prot, int flags, off_t off, void **res)
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
		struct statvfs sv;
		if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC)) {
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
			dbg("fd %d: past-EOF pages left inaccessible (SIGSEGV, not SIGBUS): %s", fd, strerror(errno));
		if (mfd >= 0)
			sys_close(mfd);
	}
	if (err) {
		sys_munmap(base, L);
		dbg("fd %d: mapping from the device failed: %s", fd, strerror(err));
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
static uintptr_t range_end(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, L = ((uintptr_t)len + (uintptr_t)pagesz - 1) & ~(uintptr_t)(pagesz - 1);
	return L < len || a + L < a ? UINTPTR_MAX : a + L;
}

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
		return real_munmap(addr, len);
	int locked = maps_lock();
	int r = real_munmap(addr, len);
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
		return real_mremap(old, oldsz, newsz, flags, want);
	int locked = maps_lock();
	if (locked)
		maps_reserve(4);
	void *r = real_mremap(old, oldsz, newsz, flags, want);
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

/* ----------------------------- read and write ----------------------------- */

/* Serves a read or write of iov at off (pos: at the descriptor's offset).
 * Returns 1 with *ret set (and errno when -1), 0 for the mount to serve it. */
static int serve_rw(struct ffile *e, int fd, const struct iovec *iov, int iovcnt, off_t off, int pos, int wr,
		    ssize_t *ret)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return 0;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return 0;
		total += iov[i].iov_len;
	}
	if (wr) {
		int fl = (int)sys_fcntl(fd, F_GETFL, 0);
		if (fl < 0 || (fl & O_ACCMODE) != O_RDWR || !e->mode)
			return 0; /* the kernel or the mount answers (EBADF, EROFS) */
		if (pos && (fl & O_APPEND) && total > 0) {
			*ret = -1; /* an append starts at the end: famfs files never grow */
			errno = EFBIG;
			return 1;
		}
	}
	if (!pos && off < 0) {
		*ret = -1;
		errno = EINVAL;
		return 1;
	}
	if (total == 0) {
		*ret = 0;
		return 1;
	}
	uint8_t *d = data_map(e);
	if (!d)
		return 0;
	uint64_t size = e->size, p, got;
	if (pos) {
		/* The offset moves atomically in the kernel: lseek(SEEK_CUR) by
		 * what we may transfer returns the end of our share; what we
		 * could not transfer (at EOF) goes back the same way, so that
		 * threads and processes sharing the descriptor each get their
		 * own range, as with read(2). */
		uint64_t c = total < size ? total : size;
		if (c == 0) {
			if (!wr) {
				*ret = 0;
				return 1;
			}
			*ret = -1;
			errno = EFBIG;
			return 1;
		}
		off_t n = lseek(fd, (off_t)c, SEEK_CUR);
		if (n < 0)
			return 0;
		p = (uint64_t)n - c;
		got = p >= size ? 0 : (size - p < c ? size - p : c);
		if (got < c && lseek(fd, -(off_t)(c - got), SEEK_CUR) < 0)
			dbg("fd %d: giving back the offset past EOF failed: %s", fd, strerror(errno));
	} else {
		p = (uint64_t)off;
		got = p >= size ? 0 : (size - p < total ? size - p : total);
	}
	if (wr && got == 0) {
		*ret = -1;
		errno = EFBIG; /* as the mount: a write at or past the end */
		return 1;
	}
	if (!wr && (e->gflags & GRANT_NONCOHERENT))
		cache_invalidate(d + p, got);
	uint64_t left = got, at = p;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (wr)
			memcpy(d + at, iov[i].iov_base, k);
		else
			memcpy(iov[i].iov_base, d + at, k);
		at += k, left -= k;
	}
	if (wr) {
		if (e->gflags & GRANT_NONCOHERENT)
			cache_writeback(d + p, got);
		COUNT(n_writes, 1);
		COUNT(n_write_bytes, got);
	} else {
		COUNT(n_reads, 1);
		COUNT(n_read_bytes, got);
	}
	*ret = (ssize_t)got;
	return 1;
}

/* serve or return 0 */
static int try_rw(int fd, const struct iovec *iov, int iovcnt, off_t off, int pos, int wr, ssize_t *ret)
{
	struct ffile *e = famfs_get(fd);
	if (!e)
		return 0;
	int served = serve_rw(e, fd, iov, iovcnt, off, pos, wr, ret);
	ffile_put(e);
	if (!served)
		COUNT(n_mount, 1);
	return served;
}

PUBLIC ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t r;
	struct iovec v = {buf, n};
	if (try_rw(fd, &v, 1, 0, 1, 0, &r))
		return r;
	NEED(read, -1);
	return real_read(fd, buf, n);
}

PUBLIC ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t r;
	struct iovec v = {buf, n};
	if (n <= buflen && try_rw(fd, &v, 1, 0, 1, 0, &r))
		return r;
	NEED(__read_chk, -1);
	return real___read_chk(fd, buf, n, buflen);
}

#define PREAD(name)                                                                                                    \
	PUBLIC ssize_t name(int fd, void *buf, size_t n, off_t off)                                                    \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {buf, n};                                                                             \
		if (try_rw(fd, &v, 1, off, 0, 0, &r))                                                                  \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, buf, n, off);                                                                   \
	}
PREAD(pread)
PREAD(pread64)

#define PREAD_CHK(name)                                                                                                \
	PUBLIC ssize_t name(int fd, void *buf, size_t n, off_t off, size_t buflen)                                     \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {buf, n};                                                                             \
		if (n <= buflen && try_rw(fd, &v, 1, off, 0, 0, &r))                                                   \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, buf, n, off, buflen);                                                           \
	}
PREAD_CHK(__pread_chk)
PREAD_CHK(__pread64_chk)

PUBLIC ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r;
	if (try_rw(fd, iov, cnt, 0, 1, 0, &r))
		return r;
	NEED(readv, -1);
	return real_readv(fd, iov, cnt);
}

#define PREADV(name)                                                                                                   \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt, off_t off)                                       \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (try_rw(fd, iov, cnt, off, 0, 0, &r))                                                               \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, iov, cnt, off);                                                                 \
	}
PREADV(preadv)
PREADV(preadv64)

/* preadv2/pwritev2 with no flags; offset -1 means the descriptor's offset */
#define PRWV2(name, wr)                                                                                                \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt, off_t off, int flags)                            \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (flags == 0 && off >= -1 && try_rw(fd, iov, cnt, off, off == -1, wr, &r))                           \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, iov, cnt, off, flags);                                                          \
	}
PRWV2(preadv2, 0)
PRWV2(preadv64v2, 0)
PRWV2(pwritev2, 1)
PRWV2(pwritev64v2, 1)

PUBLIC ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t r;
	struct iovec v = {(void *)buf, n};
	if (try_rw(fd, &v, 1, 0, 1, 1, &r))
		return r;
	NEED(write, -1);
	return real_write(fd, buf, n);
}

#define PWRITE(name)                                                                                                   \
	PUBLIC ssize_t name(int fd, const void *buf, size_t n, off_t off)                                              \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {(void *)buf, n};                                                                     \
		if (try_rw(fd, &v, 1, off, 0, 1, &r))                                                                  \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, buf, n, off);                                                                   \
	}
PWRITE(pwrite)
PWRITE(pwrite64)

PUBLIC ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r;
	if (try_rw(fd, iov, cnt, 0, 1, 1, &r))
		return r;
	NEED(writev, -1);
	return real_writev(fd, iov, cnt);
}

#define PWRITEV(name)                                                                                                  \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt, off_t off)                                       \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (try_rw(fd, iov, cnt, off, 0, 1, &r))                                                               \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real_##name(fd, iov, cnt, off);                                                                 \
	}
PWRITEV(pwritev)
PWRITEV(pwritev64)

/* ------------------------------------ open ------------------------------------ */

static int has_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

#define OPEN(name)                                                                                                     \
	PUBLIC int name(const char *path, int flags, ...)                                                              \
	{                                                                                                              \
		mode_t mode = 0;                                                                                       \
		if (has_mode(flags)) {                                                                                 \
			va_list ap;                                                                                    \
			va_start(ap, flags);                                                                           \
			mode = va_arg(ap, mode_t);                                                                     \
			va_end(ap);                                                                                    \
		}                                                                                                      \
		NEED(name, -1);                                                                                        \
		int fd = real_##name(path, flags, mode);                                                               \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPEN(open)
OPEN(open64)

#define OPENAT(name)                                                                                                   \
	PUBLIC int name(int dirfd, const char *path, int flags, ...)                                                   \
	{                                                                                                              \
		mode_t mode = 0;                                                                                       \
		if (has_mode(flags)) {                                                                                 \
			va_list ap;                                                                                    \
			va_start(ap, flags);                                                                           \
			mode = va_arg(ap, mode_t);                                                                     \
			va_end(ap);                                                                                    \
		}                                                                                                      \
		NEED(name, -1);                                                                                        \
		int fd = real_##name(dirfd, path, flags, mode);                                                        \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPENAT(openat)
OPENAT(openat64)

#define OPEN2(name)                                                                                                    \
	PUBLIC int name(const char *path, int flags)                                                                   \
	{                                                                                                              \
		NEED(name, -1);                                                                                        \
		int fd = real_##name(path, flags);                                                                     \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPEN2(__open_2)
OPEN2(__open64_2)

#define OPENAT2(name)                                                                                                  \
	PUBLIC int name(int dirfd, const char *path, int flags)                                                        \
	{                                                                                                              \
		NEED(name, -1);                                                                                        \
		int fd = real_##name(dirfd, path, flags);                                                              \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPENAT2(__openat_2)
OPENAT2(__openat64_2)

/* glibc's fopen opens with its internal __open, which no library can
 * interpose: recognise the stream's descriptor afterwards (for
 * mmap(fileno(f)); the stream's own reads stay with the mount). */
#define FOPEN(name)                                                                                                    \
	PUBLIC FILE *name(const char *path, const char *mode)                                                          \
	{                                                                                                              \
		NEED(name, NULL);                                                                                      \
		FILE *f = real_##name(path, mode);                                                                     \
		recognise_stream(f, path);                                                                             \
		return f;                                                                                              \
	}
FOPEN(fopen)
FOPEN(fopen64)

#define FREOPEN(name)                                                                                                  \
	PUBLIC FILE *name(const char *path, const char *mode, FILE *stream)                                            \
	{                                                                                                              \
		NEED(name, NULL);                                                                                      \
		if (stream)                                                                                            \
			fd_forget(fileno(stream));                                                                     \
		FILE *f = real_##name(path, mode, stream);                                                             \
		recognise_stream(f, path);                                                                             \
		return f;                                                                                              \
	}
FREOPEN(freopen)
FREOPEN(freopen64)

PUBLIC int fclose(FILE *f)
{
	NEED(fclose, EOF);
	if (f)
		fd_forget(fileno(f));
	return real_fclose(f);
}

/* ------------------------------ dup and close ------------------------------ */

PUBLIC int dup(int fd)
{
	NEED(dup, -1);
	int r = real_dup(fd);
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
	int r = real_dup2(fd, fd2);
	if (r >= 0)
		fd_dup(fd, r);
	return r;
}

PUBLIC int dup3(int fd, int fd2, int flags)
{
	NEED(dup3, -1);
	lease_make_room(fd, fd2);
	int r = real_dup3(fd, fd2, flags);
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
		int r = real_##name(fd, cmd, arg);                                                                     \
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
	return real_close(fd);
}

/* The library's own descriptors (one or two device descriptors per mount,
 * one lease socket per file held, far above the program's) survive a
 * close_range or closefrom over them: the program does not know them, a
 * lease must last as long as its mappings, and the next grant needs the
 * device descriptor. Ranges around them are closed as asked. */
static int close_range_keep(unsigned lo, unsigned hi, int flags)
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
		if (f > at && real_close_range(at, f - 1, flags) < 0)
			rc = -1;
		if (f == hi)
			return rc;
		at = f + 1;
	}
	if (real_close_range(at, hi, flags) < 0)
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
		return real_close_range(lo, hi, flags);
	fd_forget_range(lo, hi);
	return close_range_keep(lo, hi, flags);
}

PUBLIC void closefrom(int lo)
{
	if (lo < 0)
		lo = 0;
	fd_forget_range((unsigned)lo, ~0U);
	if (R(close_range) && close_range_keep((unsigned)lo, ~0U, 0) == 0)
		return;
	if (R(closefrom))
		real_closefrom(lo);
}

/* -------------------------------- start and exit -------------------------------- */

/* Descriptors inherited across exec: look at each once. */
static void scan_inherited(void)
{
	int d = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return;
	char buf[4096];
	int fds[1024], nfd = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, d, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long o = 0; o < n;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + o);
			o += de->d_reclen;
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (*end || end == de->d_name || fd == d || nfd == (int)(sizeof(fds) / sizeof(fds[0])))
				continue;
			fds[nfd++] = (int)fd;
		}
	}
	sys_close(d);
	for (int i = 0; i < nfd; i++) {
		int fl = (int)sys_fcntl(fds[i], F_GETFL, 0);
		if (fl >= 0)
			recognise(fds[i], fl, "(inherited)");
	}
}

static void atfork_child(void)
{
	lib_pid = (int)getpid();
	fdtable_atfork_child();
	lease_atfork_child();
}

__attribute__((constructor)) static void famfs_preload_init(void)
{
	const char *v = getenv("FAMFS_PRELOAD_DEBUG");
	famfs_debug = v && *v && strcmp(v, "0") != 0;
	long ps = sysconf(_SC_PAGESIZE);
	if (ps > 0)
		pagesz = ps;
	cache_init();
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t c = rl.rlim_cur;
		fd_base = c <= 256 ? (int)(c / 2) : (c - 128 > 65536 ? 65536 : (int)(c - 128));
	}
	if (famfs_debug) {
		int d = (int)sys_fcntl(2, F_DUPFD_CLOEXEC, fd_base);
		if (d >= 0)
			debug_fd = d;
	}
	lib_pid = (int)getpid();
	pthread_atfork(lease_atfork_prepare, lease_atfork_parent, atfork_child);
	scan_inherited();
}

__attribute__((destructor)) static void famfs_preload_fini(void)
{
	if (!famfs_debug)
		return;
	dbg("served: %llu grants, %llu refused, %llu mmaps, %llu reads (%llu bytes), %llu writes (%llu bytes); "
	    "%llu calls passed to the mount; %u leases held at exit",
	    (unsigned long long)n_grants, (unsigned long long)n_refused, (unsigned long long)n_mmaps,
	    (unsigned long long)n_reads, (unsigned long long)n_read_bytes, (unsigned long long)n_writes,
	    (unsigned long long)n_write_bytes, (unsigned long long)n_mount, lease_count());
}

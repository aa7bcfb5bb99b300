/* libfamfs-preload internals shared by its source files: the types, the
 * functions each file offers the others, and the rules a hook lives by.
 * Nothing here is exported: the library is built with -fvisibility=hidden
 * and only the interposed libc entry points (marked PUBLIC) are visible.
 *
 * The files (docs/preload.md says more):
 *   init.c        constructor and destructor, the real libc functions, the
 *                 library's globals and counters, inherited descriptors, fork
 *   log.c         the debug output: a formatter that is async-signal-safe
 *   sys.c         system calls the library makes for itself, and the place
 *                 (fd_base and up) its own descriptors go
 *   fdtab.c       a table indexed by descriptor number, any number
 *   fdtable.c     the open famfs files: entry pool, descriptor -> entry
 *   mounts.c      the famfs mounts seen, their device descriptors
 *   grant.c       the grant protocol: the socket talk and the reply parser
 *   lease.c       leases and the records of the mappings made from grants
 *   recognise.c   is a new descriptor a famfs file? adopting its grant
 *   devmap.c      mapping a file's bytes from the device
 *   hooks_open.c  open, openat, fopen... (the interposed functions)
 *   hooks_fd.c    dup, fcntl, close, close_range, closefrom
 *   hooks_mmap.c  mmap, munmap, mremap
 *   hooks_rw.c    read, pread, readv... write, pwrite, writev...
 *
 * Async-signal safety. A hook may run in a signal handler (a program may
 * read(2) or close(2) there: both are async-signal-safe), or in a forked
 * child of a threaded program before it execs, so what a hook does must be
 * async-signal-safe too. On every path a hook can take the library calls
 * only:
 *   - system calls, through their libc wrappers or syscall(2): fstat,
 *     fstatfs, statx, fcntl, lseek, access, getpid, geteuid, socket,
 *     connect, setsockopt, getsockopt, sendmsg, recv, recvmsg, close, mmap,
 *     munmap, memfd_create, sched_yield (each a thin wrapper that sets errno
 *     at most; POSIX lists those it knows as async-signal-safe);
 *   - memcpy, memmove, memset, memcmp, strlen (pure; async-signal-safe
 *     since POSIX.1-2008 TC2);
 *   - C11 atomics (lock-free on the targets built for) and va_arg;
 *   - the library's own formatter (log.c) for the debug output, written
 *     with write(2): no stdio, no snprintf, no strerror, no malloc.
 * Waiting is bounded: the two small locks (mounts.c, lease.c) are tried
 * for a bounded time, and a hook that cannot take one leaves the call to
 * the mount, so a handler that interrupted a holder never deadlocks.
 * Exceptions, each where it cannot matter: the stdio hooks (fopen, freopen,
 * fclose) call fileno and the real stdio function, which are no more
 * async-signal-safe than what the program called; a hook that runs before
 * the constructor looks its real function up with dlsym (init.c), and that
 * happens only while libraries are being initialised. */
#ifndef FAMFS_PRELOAD_INTERNAL_H
#define FAMFS_PRELOAD_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "protocol.h"

#define PUBLIC __attribute__((visibility("default")))

/* ---- one open famfs file (shared by every descriptor of one open file
 * description the library saw: dup, dup2, fcntl(F_DUPFD)) ----
 *
 * Entries live in a pool that is never returned to the system (type-stable
 * memory): a thread that loaded a pointer from the descriptor table just
 * before another thread closed that descriptor may still touch the entry's
 * reference count safely; it then sees that the table no longer holds the
 * entry and lets go. Everything but refs, next and data is written before
 * the entry is published and never changes while refs > 0. */
#define SEG_INLINE 4

struct mnt;

struct ffile {
	_Atomic uint32_t refs;   /* 1 per table slot + 1 per call in progress; 0 = free */
	uint32_t idx;            /* index in the pool */
	_Atomic uint32_t next;   /* free list link (index + 1) */
	int mode;                /* 0: read-only grant, 1: writable grant (device descriptor mode) */
	struct mnt *mnt;
	dev_t dev;               /* identity of the file on the mount (st_dev, st_ino) */
	ino_t ino;
	dev_t dev_dev, dev_rdev; /* identity of the device file behind the grant */
	ino_t dev_ino;
	uint32_t gflags;         /* GRANT_* reply flags */
	uint64_t size, alloc_unit, dev_align;
	uint64_t span;           /* end of the last segment: what the segments cover */
	uint8_t uuid[16];        /* the file system the grant was made for */
	const volatile uint8_t *sb; /* the device's superblock, mapped read-only */
	uint32_t nseg;
	struct seg *segs;        /* inl, or a mapping of segs_len bytes */
	size_t segs_len;
	struct seg inl[SEG_INLINE];
	_Atomic(uint8_t *) data; /* the whole file mapped from the device, made on first read/write */
	size_t data_len;
	int lease;               /* the grant's lease (lease.c); the entry holds one reference */
};

/* ---- one famfs mount seen by this process (never freed) ---- */
struct mnt {
	_Atomic uint64_t key;        /* st_dev of the mount + 1; 0 = unused slot */
	int have_uuid;
	uint8_t uuid[16];            /* file system of the last grant */
	_Atomic int devfd[2];        /* device descriptors [read-only, writable]; -1 none */
	dev_t dev_dev, dev_rdev;     /* identity of the device they open */
	ino_t dev_ino;
	int have_dev;
	_Atomic int refused[2];      /* EACCES seen for this access mode: use the mount */
	_Atomic(const volatile uint8_t *) sb; /* superblock mapping (read-only) */
};

/* fdtab.c: a table of one word per descriptor, for every descriptor a
 * process can have (0 to INT_MAX), grown on demand; reads take no lock */
typedef _Atomic uintptr_t fdt_slot;
typedef _Atomic(fdt_slot *) fdt_leafp;
typedef _Atomic(fdt_leafp *) fdt_midp;
#define FDT_LEAF_BITS 10
#define FDT_MID_BITS 10
#define FDT_TOP_BITS 11 /* 10 + 10 + 11 = 31 bits: every non-negative int */
struct fdtab {
	fdt_midp top[1u << FDT_TOP_BITS];
};
fdt_slot *fdtab_slot(struct fdtab *t, int fd, int create); /* NULL: fd < 0, or (create) no memory */
int fdtab_next(struct fdtab *t, unsigned from, unsigned hi); /* lowest fd in [from, hi] with a slot != 0, or -1 */

/* fdtable.c */
struct ffile *pool_get(void);
void ffile_put(struct ffile *e);
struct ffile *fd_acquire(int fd);           /* entry + 1 ref, or NULL (not a famfs fd) */
void fd_publish(int fd, struct ffile *e);   /* the slot takes e's reference */
void fd_forget(int fd);                     /* drop what the slot holds */
void fd_forget_if(int fd, struct ffile *e); /* drop e if the slot still holds it */
void fd_forget_range(unsigned lo, unsigned hi);
void fd_dup(int oldfd, int newfd);          /* newfd now shares oldfd's entry (or none) */
void mount_drop_grants(struct mnt *m);      /* forget every descriptor of this mount */

/* mounts.c */
struct mnt *mount_slot(dev_t dev);          /* with the lock held: m's slot, made if new; NULL if full */
int mount_lock(void);                       /* 1 if taken; bounded wait, never deadlocks */
void mount_unlock(void);
int mount_internal_fds(int *fds, int max);  /* the library's own descriptors */
void mounts_atfork_child(void);

/* grant.c */
struct grant {
	int status;              /* 0 or a positive errno (from the daemon or local) */
	uint32_t flags, nseg;
	uint64_t size, alloc_unit, dev_align, ino;
	uint8_t uuid[16];
	struct seg *segs;        /* mapping of segs_len bytes, or NULL */
	size_t segs_len;
	int devfd;               /* -1 if none */
	int lease;               /* the grant's connection on success, else -1 */
	const char *why;         /* a local failure, for the debug output */
};
void grant_request(int fd, const char *sockpath, int want_dev, struct grant *g);
/* On success g->lease is the connection the grant was made on, close-on-exec
 * and above the program's descriptors: the lease, for the caller to keep. */
void grant_free_segs(struct grant *g);
int grant_parse(uint8_t *buf, size_t len, struct grant *g);
/* Checks and decodes the reply buf[0, len) (buf 8-byte aligned). 0: g holds
 * the daemon's answer (status 0 with g->nseg segments decoded in place at
 * buf, or a refusal); else EPROTO with g->why saying what is wrong. Pure:
 * no system call, no allocation. */
#define GRANT_REPLY_MAX (GRANT_HDR_SIZE + (size_t)GRANT_SEG_SIZE * (1u << 22))

/* lease.c: leases and the records of the mappings made from grants */
int lease_new(int sock, uint64_t file_ino); /* a lease of 1 reference owning sock, or -1 */
void lease_get(int id);
void lease_put(int id);                     /* the last reference closes the socket */
unsigned lease_count(void);
int lease_fd_ours(int fd);                  /* fd is a live lease socket of the library */
void lease_relocate(int fd);                /* move the lease socket at fd elsewhere (the program takes fd) */
int lease_next_fd(unsigned from);           /* the lowest lease socket >= from, or -1 */
int maps_lock(void);                        /* 1 if taken; bounded wait */
void maps_unlock(void);
int maps_any(void);                         /* any record at all (no lock) */
/* with the lock held: */
int maps_reserve(size_t extra);
int maps_add(uintptr_t lo, uintptr_t hi, int lease); /* record [lo, hi) for lease: 0, or -1 (no memory) */
void maps_forget(uintptr_t lo, uintptr_t hi);        /* [lo, hi) is no longer mapped */
int maps_lease_at(uintptr_t a);                      /* the lease of the record holding a, or -1 */
void lease_atfork_prepare(void);
void lease_atfork_parent(void);
void lease_atfork_child(void);

/* recognise.c */
void recognise(int fd, int flags, const char *path); /* after an open that returned fd */
void recognise_stream(FILE *f, const char *path);
struct ffile *famfs_get(int fd); /* fd's entry + 1 ref if it still is that file, else NULL */
int dev_fd(struct ffile *e);     /* the device descriptor for e's mode, or -1 */
int sb_matches(const volatile uint8_t *sb, const uint8_t uuid[16], uint32_t gflags);

/* devmap.c */
uint8_t *data_map(struct ffile *e); /* the whole file mapped (once), or NULL */
int serve_mmap(struct ffile *e, int fd, void *addr, size_t len, int prot, int flags, off_t off, void **res);
uintptr_t range_end(const void *addr, size_t len); /* the end of the pages [addr, addr+len) covers */

/* log.c */
extern int famfs_debug;
extern int debug_fd;
void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t famfs_format(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* as snprintf for %d %i %u %x %s %p %c %% (with l, ll, z): always
 * NUL-terminated (cap > 0), returns the length written */
const char *err_name(int e); /* "EACCES"... or "unknown error" */

/* sys.c: system calls made directly, never through the library's hooks */
void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int sys_munmap(void *addr, size_t len);
int sys_close(int fd);
long sys_fcntl(int fd, int cmd, long arg);
ssize_t sys_write(int fd, const void *buf, size_t len);
int high_dup(int fd); /* a close-on-exec copy of fd at or above fd_base, or -1 */

/* init.c: the library's state, set up once by the constructor */
extern long pagesz;
extern int fd_base;    /* where the library's own descriptors go (sys.c; set here) */
extern _Atomic int famfs_ready; /* the constructor has run */
int own_process(void); /* not a vfork child: the tables' descriptors are ours */
extern _Atomic uint64_t n_grants, n_refused, n_mmaps, n_reads, n_read_bytes, n_writes, n_write_bytes, n_mount;
#define COUNT(c, v)                                                                                                    \
	do {                                                                                                           \
		if (famfs_debug)                                                                                       \
			atomic_fetch_add_explicit(&(c), (v), memory_order_relaxed);                                    \
	} while (0)

/* The real libc functions, looked up once by the constructor (init.c). */
#define FAMFS_REAL_FUNCS(X)                                                                                            \
	X(int, open, (const char *, int, ...))                                                                         \
	X(int, open64, (const char *, int, ...))                                                                       \
	X(int, openat, (int, const char *, int, ...))                                                                  \
	X(int, openat64, (int, const char *, int, ...))                                                                \
	X(int, __open_2, (const char *, int))                                                                          \
	X(int, __open64_2, (const char *, int))                                                                        \
	X(int, __openat_2, (int, const char *, int))                                                                   \
	X(int, __openat64_2, (int, const char *, int))                                                                 \
	X(FILE *, fopen, (const char *, const char *))                                                                 \
	X(FILE *, fopen64, (const char *, const char *))                                                               \
	X(FILE *, freopen, (const char *, const char *, FILE *))                                                       \
	X(FILE *, freopen64, (const char *, const char *, FILE *))                                                     \
	X(int, fclose, (FILE *))                                                                                       \
	X(void *, mmap, (void *, size_t, int, int, int, off_t))                                                        \
	X(void *, mmap64, (void *, size_t, int, int, int, off_t))                                                      \
	X(int, munmap, (void *, size_t))                                                                               \
	X(void *, mremap, (void *, size_t, size_t, int, ...))                                                          \
	X(ssize_t, read, (int, void *, size_t))                                                                        \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t))                                                          \
	X(ssize_t, pread, (int, void *, size_t, off_t))                                                                \
	X(ssize_t, pread64, (int, void *, size_t, off_t))                                                              \
	X(ssize_t, __pread_chk, (int, void *, size_t, off_t, size_t))                                                  \
	X(ssize_t, __pread64_chk, (int, void *, size_t, off_t, size_t))                                                \
	X(ssize_t, readv, (int, const struct iovec *, int))                                                            \
	X(ssize_t, preadv, (int, const struct iovec *, int, off_t))                                                    \
	X(ssize_t, preadv64, (int, const struct iovec *, int, off_t))                                                  \
	X(ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))                                              \
	X(ssize_t, preadv64v2, (int, const struct iovec *, int, off_t, int))                                           \
	X(ssize_t, write, (int, const void *, size_t))                                                                 \
	X(ssize_t, pwrite, (int, const void *, size_t, off_t))                                                         \
	X(ssize_t, pwrite64, (int, const void *, size_t, off_t))                                                       \
	X(ssize_t, writev, (int, const struct iovec *, int))                                                           \
	X(ssize_t, pwritev, (int, const struct iovec *, int, off_t))                                                   \
	X(ssize_t, pwritev64, (int, const struct iovec *, int, off_t))                                                 \
	X(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))                                             \
	X(ssize_t, pwritev64v2, (int, const struct iovec *, int, off_t, int))                                          \
	X(int, dup, (int))                                                                                             \
	X(int, dup2, (int, int))                                                                                       \
	X(int, dup3, (int, int, int))                                                                                  \
	X(int, fcntl, (int, int, ...))                                                                                 \
	X(int, fcntl64, (int, int, ...))                                                                               \
	X(int, close, (int))                                                                                           \
	X(int, close_range, (unsigned, unsigned, int))                                                                 \
	X(void, closefrom, (int))

#define FAMFS_REAL_DECL(ret, name, params) extern ret(*real_##name) params;
FAMFS_REAL_FUNCS(FAMFS_REAL_DECL)
#undef FAMFS_REAL_DECL

/* Before the constructor has run (a hook called from another library's
 * constructor) the table is empty: the function is looked up there and
 * then (init.c). After it, a NULL entry is a function this libc lacks. */
void *real_early(const char *name);
#define R(name)                                                                                                        \
	(__builtin_expect(atomic_load_explicit(&famfs_ready, memory_order_acquire), 1)                                 \
		 ? real_##name                                                                                         \
		 : (__typeof__(real_##name))real_early(#name))
/* NEED(name, fail): the local `real` is the real function, or the hook
 * fails with ENOSYS */
#define NEED(name, fail)                                                                                               \
	__typeof__(real_##name) const real = R(name);                                                                  \
	if (!real) {                                                                                                   \
		errno = ENOSYS;                                                                                        \
		return fail;                                                                                           \
	}

#endif

/* libfamfs-preload internals shared by its source files. Nothing here is
 * exported: the library is built with -fvisibility=hidden and only the
 * interposed libc entry points (marked PUBLIC) are visible. */
#ifndef FAMFS_PRELOAD_INTERNAL_H
#define FAMFS_PRELOAD_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
struct mnt *mount_slot(dev_t dev);
int mount_lock(void);                       /* 1 if taken; bounded wait, never deadlocks */
void mount_unlock(void);
int mount_internal_fds(int *fds, int max);  /* the library's own descriptors */
void fdtable_atfork_child(void);
extern struct mnt mounts[];
extern int nmounts;

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

/* famfs_preload.c */
extern int famfs_debug;
void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int sys_munmap(void *addr, size_t len);
int sys_close(int fd);
long sys_fcntl(int fd, int cmd, long arg);
int high_dup(int fd); /* a close-on-exec copy of fd at or above the library's base, or -1 */

#endif

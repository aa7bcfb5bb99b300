/* Recognising famfs files: after an open (or at start, for inherited
 * descriptors) is the descriptor a file of a famfs mount? If so, ask the
 * mount's daemon for a grant (grant.c), adopt its device descriptor and
 * superblock into the mount's slot (mounts.c), take its lease (lease.c)
 * and publish the open file's entry in the descriptor table (fdtable.c).
 * Later calls check with famfs_get that the descriptor still is that file
 * and that the device still holds its file system. Everything here runs
 * inside hooks and is async-signal-safe (internal.h). */
#include "internal.h"
#include "cacheflush.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

static int move_high(int fd)
{
	int h = high_dup(fd);
	if (h < 0)
		return fd;
	sys_close(fd);
	return h;
}

int sb_matches(const volatile uint8_t *sb, const uint8_t uuid[16], uint32_t gflags)
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

/* a daemon's refusal, for the debug output */
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
	default: return err_name(e);
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
		dbg("cannot stat the device descriptor: %s", err_name(errno));
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
			dbg("cannot map the device's superblock: %s", err_name(errno));
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
	famfs_format(sock, sizeof(sock), GRANT_LINK_FMT, major(st.st_dev), minor(st.st_dev));
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
			dbg("fd %d %s: no grant: %s (%s): the mount serves it", fd, name, g.why, err_name(g.status));
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
 * entry left in its slot (closed where the library could not see it) goes.
 * Before the constructor has run (an open from another library's
 * constructor) nothing is set up yet: the constructor's look at the open
 * descriptors (init.c) recognises the file then. */
void recognise(int fd, int flags, const char *path)
{
	if (fd < 0)
		return;
	fd_forget(fd);
	if (!atomic_load_explicit(&famfs_ready, memory_order_acquire))
		return;
	int e = errno;
	recognise_fd(fd, flags, path);
	errno = e;
}

void recognise_stream(FILE *f, const char *path)
{
	if (!f)
		return;
	int e = errno;
	int fd = fileno(f);
	if (fd >= 0) {
		fd_forget(fd);
		if (!atomic_load_explicit(&famfs_ready, memory_order_acquire)) {
			errno = e;
			return;
		}
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
struct ffile *famfs_get(int fd)
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

int dev_fd(struct ffile *e)
{
	int fd = atomic_load(&e->mnt->devfd[e->mode]);
	if (!devfd_valid(fd, e->dev_dev, e->dev_ino, e->dev_rdev)) {
		dbg("the device descriptor %d was closed or replaced behind the library's back", fd);
		return -1;
	}
	return fd;
}


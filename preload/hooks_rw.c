/* The hooks of file data: read, pread, readv, preadv (and their _chk,
 * 64 and v2 forms), write, pwrite, writev, pwritev. A descriptor the
 * library serves (fdtable.c) is read and written by copying from or to the
 * file's mapping of the device (devmap.c), keeping the file offset in the
 * kernel's open file description; every other call goes to libc as it is.
 * read and write are async-signal-safe, and so are these (internal.h). */
#include "internal.h"
#include "cacheflush.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>


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
			dbg("fd %d: giving back the offset past EOF failed: %s", fd, err_name(errno));
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

/* read and write: at the descriptor's offset, which they move; wr: a write */
#define RW(name, buf_t, wr)                                                                                            \
	PUBLIC ssize_t name(int fd, buf_t buf, size_t n)                                                               \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {(void *)buf, n};                                                                     \
		if (try_rw(fd, &v, 1, 0, 1, wr, &r))                                                                   \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, buf, n);                                                                               \
	}
RW(read, void *, 0)
RW(write, const void *, 1)

PUBLIC ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t r;
	struct iovec v = {buf, n};
	if (n <= buflen && try_rw(fd, &v, 1, 0, 1, 0, &r))
		return r;
	NEED(__read_chk, -1);
	return real(fd, buf, n, buflen);
}

/* pread and pwrite: at an offset, the descriptor's own untouched; wr: a write */
#define PRW(name, buf_t, wr)                                                                                           \
	PUBLIC ssize_t name(int fd, buf_t buf, size_t n, off_t off)                                                    \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {(void *)buf, n};                                                                     \
		if (try_rw(fd, &v, 1, off, 0, wr, &r))                                                                 \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, buf, n, off);                                                                          \
	}
PRW(pread, void *, 0)
PRW(pread64, void *, 0)
PRW(pwrite, const void *, 1)
PRW(pwrite64, const void *, 1)

#define PREAD_CHK(name)                                                                                                \
	PUBLIC ssize_t name(int fd, void *buf, size_t n, off_t off, size_t buflen)                                     \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		struct iovec v = {buf, n};                                                                             \
		if (n <= buflen && try_rw(fd, &v, 1, off, 0, 0, &r))                                                   \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, buf, n, off, buflen);                                                                  \
	}
PREAD_CHK(__pread_chk)
PREAD_CHK(__pread64_chk)

/* readv and writev: at the descriptor's offset; wr: a write */
#define RWV(name, wr)                                                                                                  \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt)                                                  \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (try_rw(fd, iov, cnt, 0, 1, wr, &r))                                                                \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, iov, cnt);                                                                             \
	}
RWV(readv, 0)
RWV(writev, 1)

/* preadv and pwritev: at an offset; wr: a write */
#define PRWV(name, wr)                                                                                                 \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt, off_t off)                                       \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (try_rw(fd, iov, cnt, off, 0, wr, &r))                                                              \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, iov, cnt, off);                                                                        \
	}
PRWV(preadv, 0)
PRWV(preadv64, 0)
PRWV(pwritev, 1)
PRWV(pwritev64, 1)

/* preadv2/pwritev2 with no flags; offset -1 means the descriptor's offset */
#define PRWV2(name, wr)                                                                                                \
	PUBLIC ssize_t name(int fd, const struct iovec *iov, int cnt, off_t off, int flags)                            \
	{                                                                                                              \
		ssize_t r;                                                                                             \
		if (flags == 0 && off >= -1 && try_rw(fd, iov, cnt, off, off == -1, wr, &r))                           \
			return r;                                                                                      \
		NEED(name, -1);                                                                                        \
		return real(fd, iov, cnt, off, flags);                                                                 \
	}
PRWV2(preadv2, 0)
PRWV2(preadv64v2, 0)
PRWV2(pwritev2, 1)
PRWV2(pwritev64v2, 1)

/* The hooks that make descriptors of files: open, open64, openat,
 * openat64, their _2 forms (_FORTIFY_SOURCE), fopen, fopen64, freopen,
 * freopen64 and fclose. After the real call, recognise.c decides whether
 * the new descriptor is a famfs file to serve from the device. The open
 * hooks are async-signal-safe (open is); the stdio ones call fileno and
 * the real stdio function, no less safe than what the program called. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

static int has_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

/* mode = the mode argument after flags, which an open carries only with
 * O_CREAT or O_TMPFILE (reading it otherwise would read garbage) */
#define MODE_ARG(flags, mode)                                                                                          \
	do {                                                                                                           \
		if (has_mode(flags)) {                                                                                 \
			va_list ap;                                                                                    \
			va_start(ap, flags);                                                                           \
			mode = va_arg(ap, mode_t);                                                                     \
			va_end(ap);                                                                                    \
		}                                                                                                      \
	} while (0)

#define OPEN(name)                                                                                                     \
	PUBLIC int name(const char *path, int flags, ...)                                                              \
	{                                                                                                              \
		mode_t mode = 0;                                                                                       \
		MODE_ARG(flags, mode);                                                                                 \
		NEED(name, -1);                                                                                        \
		int fd = real(path, flags, mode);                                                                      \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPEN(open)
OPEN(open64)

#define OPENAT(name)                                                                                                   \
	PUBLIC int name(int dirfd, const char *path, int flags, ...)                                                   \
	{                                                                                                              \
		mode_t mode = 0;                                                                                       \
		MODE_ARG(flags, mode);                                                                                 \
		NEED(name, -1);                                                                                        \
		int fd = real(dirfd, path, flags, mode);                                                               \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPENAT(openat)
OPENAT(openat64)

#define OPEN2(name)                                                                                                    \
	PUBLIC int name(const char *path, int flags)                                                                   \
	{                                                                                                              \
		NEED(name, -1);                                                                                        \
		int fd = real(path, flags);                                                                            \
		recognise(fd, flags, path);                                                                            \
		return fd;                                                                                             \
	}
OPEN2(__open_2)
OPEN2(__open64_2)

#define OPENAT2(name)                                                                                                  \
	PUBLIC int name(int dirfd, const char *path, int flags)                                                        \
	{                                                                                                              \
		NEED(name, -1);                                                                                        \
		int fd = real(dirfd, path, flags);                                                                     \
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
		FILE *f = real(path, mode);                                                                            \
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
		FILE *f = real(path, mode, stream);                                                                    \
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
	return real(f);
}


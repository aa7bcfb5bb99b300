/* The debug output (FAMFS_PRELOAD_DEBUG=1): why a file is not served
 * directly, and the counters at exit. dbg runs inside hooks, so it is
 * async-signal-safe: a small formatter of its own into a buffer on the
 * stack (no snprintf, which may allocate and take locks for the locale),
 * errno names from a table (no strerror, which may allocate for the
 * locale's messages), one write(2) per line. errno is kept. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

int famfs_debug;
int debug_fd = 2; /* a copy of stderr: programs close theirs before exit (init.c) */

struct out {
	char *p;
	size_t n, cap; /* cap excludes the terminating NUL */
};

static void put_c(struct out *o, char c)
{
	if (o->n < o->cap)
		o->p[o->n++] = c;
}

static void put_s(struct out *o, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put_c(o, *s++);
}

static void put_u(struct out *o, unsigned long long v, unsigned base)
{
	char t[24];
	int i = 0;
	do {
		t[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		put_c(o, t[--i]);
}

/* size: 0 int, 1 long, 2 long long, 3 size_t */
static void format_v(struct out *o, const char *f, va_list ap)
{
	for (; *f; f++) {
		if (*f != '%') {
			put_c(o, *f);
			continue;
		}
		const char *start = f++;
		int size = 0;
		if (*f == 'z')
			size = 3, f++;
		else
			while (*f == 'l' && size < 2)
				size++, f++;
		switch (*f) {
		case 'd':
		case 'i': {
			long long v = size == 0 ? va_arg(ap, int)
				      : size == 1 ? va_arg(ap, long)
				      : size == 2 ? va_arg(ap, long long)
						  : (long long)va_arg(ap, ssize_t);
			if (v < 0) {
				put_c(o, '-');
				put_u(o, -(unsigned long long)v, 10);
			} else
				put_u(o, (unsigned long long)v, 10);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = size == 0 ? va_arg(ap, unsigned)
					       : size == 1 ? va_arg(ap, unsigned long)
					       : size == 2 ? va_arg(ap, unsigned long long)
							   : va_arg(ap, size_t);
			put_u(o, v, *f == 'x' ? 16 : 10);
			break;
		}
		case 's':
			put_s(o, va_arg(ap, const char *));
			break;
		case 'p':
			put_s(o, "0x");
			put_u(o, (uintptr_t)va_arg(ap, void *), 16);
			break;
		case 'c':
			put_c(o, (char)va_arg(ap, int));
			break;
		case '%':
			put_c(o, '%');
			break;
		default: /* not ours: as it is */
			for (; start <= f && *start; start++)
				put_c(o, *start);
			if (!*f)
				return;
		}
	}
}

size_t famfs_format(char *buf, size_t cap, const char *fmt, ...)
{
	if (cap == 0)
		return 0;
	struct out o = {buf, 0, cap - 1};
	va_list ap;
	va_start(ap, fmt);
	format_v(&o, fmt, ap);
	va_end(ap);
	buf[o.n] = 0;
	return o.n;
}

void dbg(const char *fmt, ...)
{
	if (!famfs_debug)
		return;
	int e = errno;
	char buf[512];
	struct out o = {buf, 0, sizeof(buf) - 1}; /* room for the newline */
	put_s(&o, "famfs-preload[");
	put_u(&o, (unsigned long long)getpid(), 10);
	put_s(&o, "]: ");
	va_list ap;
	va_start(ap, fmt);
	format_v(&o, fmt, ap);
	va_end(ap);
	buf[o.n++] = '\n';
	ssize_t w = sys_write(debug_fd, buf, o.n);
	(void)w;
	errno = e;
}

const char *err_name(int e)
{
	switch (e) {
	case 0: return "no error";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ELOOP: return "ELOOP";
	case EOVERFLOW: return "EOVERFLOW";
	case EPROTO: return "EPROTO";
	case ENOTSOCK: return "ENOTSOCK";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTOTYPE: return "EPROTOTYPE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EDQUOT: return "EDQUOT";
	default: return "unknown error";
	}
}

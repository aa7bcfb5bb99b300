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
 * the library at once; the mount serves the others.
 *
 * This file owns the start and the end: the constructor looks the real
 * libc functions up once, reads the settings, sets up fork's handlers and
 * recognises the descriptors the process inherited (any number of them,
 * at any number); the destructor prints the counters. It also holds the
 * library's globals. */
#include "internal.h"
#include "cacheflush.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

long pagesz = 4096;
static int lib_pid; /* this process (a vfork child is another one, sharing our memory) */
_Atomic int famfs_ready;
#if defined(__x86_64__)
int cf_clflushopt, cf_clwb;
#endif

/* counters, kept only when debugging */
_Atomic uint64_t n_grants, n_refused, n_mmaps, n_reads, n_read_bytes, n_writes, n_write_bytes, n_mount;

/* Not a vfork child (nor a clone(2) without fork's handlers): the
 * descriptors the library's tables describe are this process's. */
int own_process(void)
{
	return lib_pid == 0 || (int)getpid() == lib_pid;
}

/* ---- the real libc functions ----
 *
 * Looked up once, by the constructor, with dlsym(RTLD_NEXT): the next
 * definition after this library's, libc's (or another interposer's). A
 * hook never calls dlsym after that: dlsym takes the loader's lock and may
 * allocate, neither of which a hook in a signal handler or a forked child
 * may do. A function this libc does not have stays NULL, and its hook
 * fails with ENOSYS as the missing function would.
 *
 * Hooks can run before the constructor: the dynamic loader runs the
 * constructors of the libraries loaded after this one (a program's own
 * dependencies) first, and those may open or read files. famfs_ready is
 * set only once the table is complete; until then R() looks the function
 * up there and then (real_early), and the hook passes the call through
 * without serving it (recognise.c skips the file; the constructor finds
 * the descriptor among the open ones). That happens while libraries are
 * being initialised, when no signal handler of the program's can run yet. */
#define FAMFS_REAL_DEF(ret, name, params) ret(*real_##name) params;
FAMFS_REAL_FUNCS(FAMFS_REAL_DEF)
#undef FAMFS_REAL_DEF

static const struct {
	void **slot;
	const char *name;
} reals[] = {
#define FAMFS_REAL_ENTRY(ret, name, params) {(void **)&real_##name, #name},
	FAMFS_REAL_FUNCS(FAMFS_REAL_ENTRY)
#undef FAMFS_REAL_ENTRY
};

void *real_early(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void reals_resolve(void)
{
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		*reals[i].slot = dlsym(RTLD_NEXT, reals[i].name);
}

/* ---- descriptors inherited across exec (or opened before the
 * constructor ran): look at each once ---- */

static int parse_fd(const char *s)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > INT32_MAX / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > INT32_MAX ? -1 : (int)v;
}

/* /proc/self/fd lists the open descriptors in order, a buffer at a time;
 * each buffer's are recognised before the next is read, so that any
 * number of descriptors, of any number, is seen with a fixed buffer.
 * (Descriptors the library makes meanwhile, sockets and devices, list
 * later and are not famfs files.) */
static void scan_inherited(void)
{
	int d = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		dbg("/proc/self/fd: %s: inherited descriptors are not served", err_name(errno));
		return;
	}
	char buf[8192];
	int fds[sizeof(buf) / 20]; /* a dirent64 takes 20 bytes at least */
	for (;;) {
		long n = syscall(SYS_getdents64, d, buf, sizeof(buf));
		if (n <= 0)
			break;
		int nfd = 0;
		for (long o = 0; o < n && nfd < (int)(sizeof(fds) / sizeof(fds[0]));) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + o);
			o += de->d_reclen;
			int fd = parse_fd(de->d_name);
			if (fd >= 0 && fd != d)
				fds[nfd++] = fd;
		}
		for (int i = 0; i < nfd; i++) {
			int fl = (int)sys_fcntl(fds[i], F_GETFL, 0);
			if (fl >= 0)
				recognise(fds[i], fl, "(inherited)");
		}
	}
	sys_close(d);
}

/* ---- start and exit ---- */

static void atfork_child(void)
{
	lib_pid = (int)getpid();
	mounts_atfork_child();
	lease_atfork_child();
}

__attribute__((constructor)) static void famfs_preload_init(void)
{
	reals_resolve();
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
	atomic_store_explicit(&famfs_ready, 1, memory_order_release);
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

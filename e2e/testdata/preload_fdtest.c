/* An unmodified program for the preload library's descriptor test: threads,
 * a forked child, dup/dup2/fcntl(F_DUPFD) and lseek over one open file
 * description of a famfs file whose every 8-byte word holds its own offset
 * (little-endian). Every read must return what read(2) would: contiguous
 * words at the right place, the readers' chunks together covering the file
 * exactly once. Descriptors of any number: one far above 1024, and one a
 * program inherits across exec above more than 1024 others, are served
 * too (from the device, under the preload: /proc/self/maps says so).
 * Prints "ok" and exits 0, or names the first mismatch and exits 1.
 * Usage: fdtest FILE OTHER_FILE */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 * 1024 + 8) /* not a page multiple: reads straddle pages and segments */

static uint64_t fsize;

static void fail(const char *what, long long a, long long b)
{
	printf("FAIL %s: %lld %lld\n", what, a, b);
	fflush(stdout);
	exit(1);
}

/* bytes [off, off+n) of the file as they must be */
static int check(const uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t at = off + i, word = at & ~7ull;
		if (buf[i] != (uint8_t)(word >> (8 * (at & 7))))
			return 0;
	}
	return 1;
}

/* the offset a chunk starts at, from its content (chunks start 8-aligned) */
static uint64_t whence(const uint8_t *buf)
{
	uint64_t w;
	memcpy(&w, buf, 8);
	return w;
}

struct rec {
	uint64_t off, len;
};

struct reader {
	int fd;
	struct rec *recs;
	int n, cap;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	uint8_t *buf = malloc(CHUNK);
	for (;;) {
		ssize_t n = read(r->fd, buf, CHUNK);
		if (n < 0)
			fail("read", errno, r->fd);
		if (n == 0)
			break;
		uint64_t off = whence(buf);
		if (n % 8 || !check(buf, off, (size_t)n))
			fail("chunk content", (long long)off, n);
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 256;
			r->recs = realloc(r->recs, (size_t)r->cap * sizeof(struct rec));
		}
		r->recs[r->n++] = (struct rec){off, (uint64_t)n};
	}
	free(buf);
	return NULL;
}

/* Under the preload a mapping of the famfs file comes from the device:
 * the file /proc/self/maps names for it is not the famfs file. */
static void check_device_map(int fd, const char *path, uint64_t n)
{
	const char *lp = getenv("LD_PRELOAD");
	uint8_t *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED || !check(m, 0, n))
		fail("mmap of a high descriptor", errno, fd);
	char want[32], line[4096];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)m);
	FILE *f = fopen("/proc/self/maps", "r");
	const char *base = strrchr(path, '/') ? strrchr(path, '/') : path;
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0) {
			found = 1;
			line[strcspn(line, "\n")] = 0;
			size_t l = strlen(line), b = strlen(base);
			int fuse = l >= b && strcmp(line + l - b, base) == 0;
			if (lp && strstr(lp, "libfamfs-preload") && fuse)
				fail("a high descriptor mapped through the mount, not the device", fd, 0);
		}
	if (f)
		fclose(f);
	if (!found)
		fail("the mapping is not in /proc/self/maps", fd, 0);
	munmap(m, n);
}

/* the exec'd image: fd was inherited, above more than 1024 others */
static int inherited(int fd, const char *path)
{
	uint8_t *buf = malloc(CHUNK);
	struct stat st;
	if (fstat(fd, &st) != 0)
		fail("inherited: fstat", errno, fd);
	fsize = (uint64_t)st.st_size;
	if (pread(fd, buf, CHUNK, 8) != CHUNK || !check(buf, 8, CHUNK))
		fail("inherited: pread", fd, 0);
	check_device_map(fd, path, fsize);
	printf("inherited descriptor %d: ok\n", fd);
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--inherited") == 0)
		return inherited(atoi(argv[2]), argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: fdtest FILE OTHER_FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		fail("open", errno, 0);
	struct stat st;
	fstat(fd, &st);
	fsize = (uint64_t)st.st_size;
	if (fsize % 8 || fsize < 3 * CHUNK)
		fail("file size", (long long)fsize, 0);
	uint8_t *buf = malloc(CHUNK);

	/* lseek and read share the kernel's offset, across dup'ed descriptors */
	off_t at = 4096 * 3 + 5;
	if (lseek(fd, at, SEEK_SET) != at)
		fail("lseek", at, 0);
	if (read(fd, buf, 100) != 100 || !check(buf, (uint64_t)at, 100))
		fail("read after lseek", at, 0);
	int d = dup(fd), d2 = dup2(fd, 100), d3 = fcntl(fd, F_DUPFD_CLOEXEC, 200);
	if (d < 0 || d2 != 100 || d3 < 200)
		fail("dup", d, d3);
	if (read(d, buf, 10) != 10 || !check(buf, (uint64_t)at + 100, 10))
		fail("read through dup", at + 100, 0);
	if (lseek(fd, 0, SEEK_CUR) != at + 110 || lseek(d3, 0, SEEK_CUR) != at + 110)
		fail("shared offset", lseek(fd, 0, SEEK_CUR), at + 110);
	/* pread leaves the offset alone; reads past EOF return 0 and do not move it */
	if (pread(d2, buf, 64, (off_t)fsize - 24) != 24 || !check(buf, fsize - 24, 24))
		fail("pread at EOF", (long long)fsize - 24, 0);
	if (lseek(d2, 0, SEEK_END) != (off_t)fsize || read(d2, buf, 64) != 0 || lseek(fd, 0, SEEK_CUR) != (off_t)fsize)
		fail("read at EOF", lseek(fd, 0, SEEK_CUR), (long long)fsize);
	if (lseek(fd, (off_t)fsize + 4096, SEEK_SET) < 0 || read(fd, buf, 64) != 0 ||
	    lseek(fd, 0, SEEK_CUR) != (off_t)fsize + 4096)
		fail("read past EOF", lseek(fd, 0, SEEK_CUR), (long long)fsize + 4096);
	close(d2);
	if (pread(100, buf, 8, 0) != -1 || errno != EBADF)
		fail("read of a closed descriptor", errno, 0);

	/* two threads and a child read one open file description to its end */
	lseek(fd, 0, SEEK_SET);
	int pfd[2];
	if (pipe(pfd) < 0)
		fail("pipe", errno, 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		struct reader r = {.fd = d3};
		reader_run(&r);
		for (int i = 0; i < r.n; i++)
			if (write(pfd[1], &r.recs[i], sizeof(struct rec)) != sizeof(struct rec))
				_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	struct reader r1 = {.fd = fd}, r2 = {.fd = d};
	pthread_t t1, t2;
	pthread_create(&t1, NULL, reader_run, &r1);
	pthread_create(&t2, NULL, reader_run, &r2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	struct rec *all = NULL;
	int n = 0, cap = 0;
	struct rec x;
	while (read(pfd[0], &x, sizeof(x)) == sizeof(x)) {
		if (n == cap)
			all = realloc(all, (size_t)(cap = cap ? 2 * cap : 256) * sizeof(x));
		all[n++] = x;
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child", status, 0);
	int nchild = n;
	struct reader *rs[2] = {&r1, &r2};
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < rs[k]->n; i++) {
			if (n == cap)
				all = realloc(all, (size_t)(cap = cap ? 2 * cap : 256) * sizeof(x));
			all[n++] = rs[k]->recs[i];
		}
	qsort(all, (size_t)n, sizeof(x), cmp_rec);
	uint64_t next = 0;
	for (int i = 0; i < n; i++) {
		if (all[i].off != next)
			fail("coverage (gap or overlap at)", (long long)next, (long long)all[i].off);
		next += all[i].len;
	}
	if (next != fsize)
		fail("coverage end", (long long)next, (long long)fsize);
	printf("readers: thread1 %d chunks, thread2 %d chunks, child %d chunks\n", r1.n, r2.n, nchild);

	/* pread from threads at scattered offsets, and a mapping made after fork */
	for (uint64_t off = 8; off + CHUNK < fsize; off += fsize / 7 + 8)
		if (pread(fd, buf, CHUNK, (off_t)off) != CHUNK || !check(buf, off, CHUNK))
			fail("pread", (long long)off, 0);
	uint8_t *m = mmap(NULL, fsize, PROT_READ, MAP_SHARED, d, 0);
	if (m == MAP_FAILED || !check(m, 0, fsize))
		fail("mmap", errno, 0);
	munmap(m, fsize);

	/* a descriptor closed where the library cannot see it, its number reused
	 * by another file opened the same way: that file's bytes, never the
	 * famfs file's */
	int num = d;
	syscall(SYS_close, num);
	int o = (int)syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY);
	if (o != num)
		fail("reuse of the descriptor number", o, num);
	char want[16], got[16];
	ssize_t k = read(o, got, sizeof(got));
	int o2 = open(argv[2], O_RDONLY);
	if (k <= 0 || read(o2, want, sizeof(want)) != k || memcmp(got, want, (size_t)k) != 0)
		fail("a reused descriptor served as the famfs file", k, 0);
	/* close_range above a famfs descriptor leaves the library's own
	 * descriptors alone: the file is still served from the device */
	int a = open(argv[1], O_RDONLY);
	if (a < 0 || close_range((unsigned)a + 1, ~0U, 0) != 0)
		fail("close_range", a, errno);
	if (pread(a, buf, CHUNK, 8) != CHUNK || !check(buf, 8, CHUNK))
		fail("pread after close_range", a, 0);

	/* descriptors of any number: far above 1024, and inherited across
	 * exec above more than 1024 others */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
		rl.rlim_cur = 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 4096) {
		printf("high descriptors: skipped (RLIMIT_NOFILE below 4096)\n");
		printf("ok\n");
		return 0;
	}
	if (dup2(a, 3000) != 3000)
		fail("dup2 to 3000", errno, 0);
	if (pread(3000, buf, CHUNK, 8) != CHUNK || !check(buf, 8, CHUNK))
		fail("pread of descriptor 3000", 0, 0);
	check_device_map(3000, argv[1], fsize);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		for (int i = 0; i < 1100; i++)
			if (dup(null) < 0)
				_exit(4);
		if (dup2(a, 3500) != 3500)
			_exit(5);
		char num[16];
		snprintf(num, sizeof(num), "%d", 3500);
		execl("/proc/self/exe", argv[0], "--inherited", num, argv[1], (char *)NULL);
		_exit(6);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("the exec'd program with an inherited descriptor", status, 0);
	printf("ok\n");
	return 0;
}

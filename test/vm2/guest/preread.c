/*
 * preread: a small dynamically linked reader for the VM scenarios (test/vm2),
 * run under `famfs run` so that the preload library serves its reads.
 *
 *	preread FILE READY FLAG
 *
 * Opens FILE and reads its first 4 KiB (the preload library maps the file
 * on the first read), creates the file READY, waits until the file FLAG
 * exists (another VM raises it), then reads the whole file again from offset
 * 0 and writes it to stdout - only if every read succeeded.
 * Exit codes: 0 done, 1 a read failed (errno named), 2 usage, 3 no FLAG
 * within 5 minutes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "preread: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: preread FILE READY FLAG\n");
		return 2;
	}
	const char *path = argv[1], *ready = argv[2], *flag = argv[3];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail("open", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail("stat", path);
	size_t size = (size_t)st.st_size;
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return fail("allocate a buffer for", path);
	if (pread(fd, buf, size < 4096 ? size : 4096, 0) < 0)
		return fail("first read of", path);
	int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r < 0)
		return fail("create", ready);
	close(r);
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (int i = 0; access(flag, F_OK) != 0; i++) {
		if (i > 30000) {
			fprintf(stderr, "preread: no %s after 5 minutes\n", flag);
			return 3;
		}
		nanosleep(&tick, NULL);
	}
	for (size_t off = 0; off < size;) {
		ssize_t n = pread(fd, buf + off, size - off, (off_t)off);
		if (n < 0)
			return fail("read", path);
		if (n == 0) {
			fprintf(stderr, "preread: %s: end of file at %zu of %zu bytes\n", path, off, size);
			return 1;
		}
		off += (size_t)n;
	}
	for (size_t off = 0; off < size;) {
		ssize_t n = write(1, buf + off, size - off);
		if (n < 0)
			return fail("write", "stdout");
		off += (size_t)n;
	}
	return 0;
}

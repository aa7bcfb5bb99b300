/* An unmodified program for the preload library's lease test: it opens,
 * maps, unmaps and closes a famfs file as commands on stdin say, one per
 * line, and answers each with "ok CMD" (or "FAIL CMD: why") on stdout, so
 * that the test can look at the mount daemon's lease count in between.
 * Usage: leasetest FILE
 *
 *   open          open FILE read-only
 *   dup           dup the descriptor (the copy is kept)
 *   map           map the whole file (MAP_SHARED) and check its first bytes
 *   close         close the descriptor (and the dup, if any)
 *   unmap-middle  unmap [2 MiB, 4 MiB) of the mapping: two parts remain
 *   unmap-head    unmap [0, 2 MiB)
 *   unmap-tail    unmap [4 MiB, end)
 *   remap-fixed   map anonymous memory MAP_FIXED over the whole mapping
 *   shrink        mremap the mapping to its first 2 MiB, in place
 *   move-head     mremap [0, 2 MiB) of the mapping to another address
 *   unmap-rest    unmap [2 MiB, end) of the mapping
 *   unmap-moved   unmap the moved head
 *   closeloop     close every descriptor from 3 up to the limit, as old daemons do
 *   closerange    close_range(3, ~0U, 0)
 *   clobber       dup2 /dev/null over every socket descriptor, then close it
 *   fork          fork a child that keeps the mapping and waits; prints its pid
 *   exec          exec /bin/sleep 600 (the mapping goes, the lease must too)
 *   exit          exit(0) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024 * 1024)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: leasetest FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = -1, fd2 = -1;
	uint8_t *m = NULL, *moved = NULL;
	size_t size = 0;
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		const char *why = NULL;
		if (!strcmp(line, "open")) {
			fd = open(argv[1], O_RDONLY);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) != 0)
				why = strerror(errno);
			else
				size = (size_t)st.st_size;
		} else if (!strcmp(line, "dup")) {
			if ((fd2 = dup(fd)) < 0)
				why = strerror(errno);
		} else if (!strcmp(line, "map")) {
			m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				why = strerror(errno);
			else if (size < 6 * MiB)
				why = "the file is smaller than 6 MiB";
			else {
				volatile uint8_t x = m[0] ^ m[3 * MiB] ^ m[size - 1]; /* every part is mapped */
				(void)x;
			}
		} else if (!strcmp(line, "close")) {
			if (close(fd) != 0 || (fd2 >= 0 && close(fd2) != 0))
				why = strerror(errno);
			fd = fd2 = -1;
		} else if (!strcmp(line, "unmap-middle")) {
			if (munmap(m + 2 * MiB, 2 * MiB) != 0)
				why = strerror(errno);
		} else if (!strcmp(line, "unmap-head")) {
			if (munmap(m, 2 * MiB) != 0)
				why = strerror(errno);
		} else if (!strcmp(line, "unmap-tail")) {
			if (munmap(m + 4 * MiB, size - 4 * MiB) != 0)
				why = strerror(errno);
		} else if (!strcmp(line, "remap-fixed")) {
			if (mmap(m, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != m)
				why = strerror(errno);
		} else if (!strcmp(line, "shrink")) {
			if (mremap(m, size, 2 * MiB, 0) != m)
				why = strerror(errno);
		} else if (!strcmp(line, "move-head")) {
			void *to = mmap(NULL, 4 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			moved = to == MAP_FAILED ? MAP_FAILED
						 : mremap(m, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, (uint8_t *)to + 2 * MiB);
			if (moved == MAP_FAILED)
				why = strerror(errno);
			else if (moved[0] != 0 && moved[0] == 0) /* touch it */
				why = "impossible";
		} else if (!strcmp(line, "unmap-rest")) {
			if (munmap(m + 2 * MiB, size - 2 * MiB) != 0)
				why = strerror(errno);
		} else if (!strcmp(line, "unmap-moved")) {
			if (munmap(moved, 2 * MiB) != 0)
				why = strerror(errno);
		} else if (!strcmp(line, "closeloop")) {
			long max = sysconf(_SC_OPEN_MAX);
			for (long i = 3; i < max; i++)
				if (i != fd && i != fd2)
					close((int)i);
		} else if (!strcmp(line, "closerange")) {
			if (close_range(3, ~0U, 0) != 0)
				why = strerror(errno);
			fd = fd2 = -1;
		} else if (!strcmp(line, "clobber")) {
			int null = open("/dev/null", O_RDONLY);
			long max = sysconf(_SC_OPEN_MAX), n = 0;
			for (long i = 3; i < max; i++) {
				struct stat st;
				if (i != null && fstat((int)i, &st) == 0 && S_ISSOCK(st.st_mode)) {
					if (dup2(null, (int)i) != (int)i || close((int)i) != 0)
						why = strerror(errno);
					n++;
				}
			}
			close(null);
			if (n == 0)
				why = "no socket descriptor to clobber";
		} else if (!strcmp(line, "fork")) {
			pid_t pid = fork();
			if (pid == 0) {
				/* the child keeps the mapping; its stdin is the parent's:
				 * it must not read it */
				for (;;)
					pause();
			}
			if (pid < 0)
				why = strerror(errno);
			else
				printf("child %d\n", (int)pid);
		} else if (!strcmp(line, "exec")) {
			printf("ok exec\n");
			execl("/bin/sleep", "sleep", "600", (char *)NULL);
			why = strerror(errno);
		} else if (!strcmp(line, "exit")) {
			printf("ok exit\n");
			exit(0);
		} else
			why = "unknown command";
		if (why)
			printf("FAIL %s: %s\n", line, why);
		else
			printf("ok %s\n", line);
	}
	return 0;
}

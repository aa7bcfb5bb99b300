/* System calls the library makes for itself. They go straight to the
 * kernel with syscall(2), never through the library's own hooks (an mmap
 * of the library's must not be taken for the program's) nor through
 * another interposer's. Each is async-signal-safe. The library's own
 * descriptors (grant sockets, device descriptors) live at or above fd_base,
 * out of the program's way; init.c sets it from RLIMIT_NOFILE. */
#include "internal.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int fd_base = 512; /* where the library's own descriptors go */

void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int sys_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }

int sys_close(int fd) { return (int)syscall(SYS_close, fd); }

long sys_fcntl(int fd, int cmd, long arg) { return syscall(SYS_fcntl, fd, cmd, arg); }

ssize_t sys_write(int fd, const void *buf, size_t len) { return (ssize_t)syscall(SYS_write, fd, buf, len); }

int high_dup(int fd)
{
	int h = (int)sys_fcntl(fd, F_DUPFD_CLOEXEC, fd_base);
	return h < 0 ? -1 : h;
}

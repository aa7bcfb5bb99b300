/* System calls the library makes for itself. They go straight to the
 * kernel with syscall(2), never through the library's own hooks (an mmap
 * of the library's must not be taken for the program's) nor through
 * another interposer's. Each is async-signal-safe. */
#include "internal.h"

#include <sys/syscall.h>
#include <unistd.h>

void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int sys_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }

int sys_close(int fd) { return (int)syscall(SYS_close, fd); }

long sys_fcntl(int fd, int cmd, long arg) { return syscall(SYS_fcntl, fd, cmd, arg); }

ssize_t sys_write(int fd, const void *buf, size_t len) { return (ssize_t)syscall(SYS_write, fd, buf, len); }

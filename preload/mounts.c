/* The famfs mounts this process has seen (a slot per st_dev, never freed)
 * and the device descriptors the library keeps for each. The slots change
 * only when a grant arrives (recognise.c), under a small lock that is
 * never waited on for long: a caller that cannot take it in a bounded
 * wait (a signal handler that interrupted the holder) lets the mount serve
 * the file. */
#include "internal.h"

#include <sched.h>
#include <sys/stat.h>

#define NMOUNTS 64
static struct mnt mounts[NMOUNTS];
static _Atomic int mounts_lock;

int mount_lock(void)
{
	for (int i = 0; i < 100000; i++) {
		int z = 0;
		if (atomic_compare_exchange_weak(&mounts_lock, &z, 1))
			return 1;
		if (i > 100)
			sched_yield();
	}
	return 0;
}

void mount_unlock(void)
{
	atomic_store(&mounts_lock, 0);
}

/* Called with the lock held. */
struct mnt *mount_slot(dev_t dev)
{
	uint64_t key = (uint64_t)dev + 1;
	for (int i = 0; i < NMOUNTS; i++) {
		uint64_t k = atomic_load(&mounts[i].key);
		if (k == key)
			return &mounts[i];
		if (k == 0) {
			struct mnt *m = &mounts[i];
			atomic_store(&m->devfd[0], -1);
			atomic_store(&m->devfd[1], -1);
			atomic_store(&m->key, key);
			return m;
		}
	}
	return NULL;
}

int mount_internal_fds(int *fds, int max)
{
	int n = 0;
	for (int i = 0; i < NMOUNTS && n < max; i++) {
		struct mnt *m = &mounts[i];
		if (!atomic_load(&m->key))
			continue;
		for (int k = 0; k < 2 && n < max; k++) {
			int fd = atomic_load(&m->devfd[k]);
			struct stat st;
			/* still ours: the program may have put its own file there (dup2) */
			if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == m->dev_dev && st.st_ino == m->dev_ino &&
			    st.st_rdev == m->dev_rdev)
				fds[n++] = fd;
		}
	}
	return n;
}

void mounts_atfork_child(void)
{
	/* only the forking thread exists now: a lock some other thread held is free */
	atomic_store(&mounts_lock, 0);
}

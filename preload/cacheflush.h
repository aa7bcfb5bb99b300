/* CPU cache maintenance for non-coherent shared memory (grant flag bit1):
 * write back after storing, invalidate before loading, as the daemon does.
 * x86-64: CLWB (write back, keep) or CLFLUSHOPT/CLFLUSH, then SFENCE;
 * invalidation uses CLFLUSHOPT or CLFLUSH (CLWB does not drop the line).
 * arm64: DC CVAC / DC CIVAC, then DSB. Elsewhere only a full fence (no
 * cache maintenance instruction is available from user space). */
#ifndef FAMFS_PRELOAD_CACHEFLUSH_H
#define FAMFS_PRELOAD_CACHEFLUSH_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_LINE 64

#if defined(__x86_64__)
#include <cpuid.h>

/* set once at load time by cache_init() (the constructor, init.c, which
 * defines them: one copy for every file of the library) */
extern int cf_clflushopt, cf_clwb;

static inline void cache_init(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		cf_clflushopt = (b >> 23) & 1;
		cf_clwb = (b >> 24) & 1;
	}
}

static inline void cache_writeback(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1), end = (uintptr_t)p + n;
	if (n == 0)
		return;
	if (cf_clwb)
		for (; a < end; a += CACHE_LINE)
			__asm__ volatile("clwb %0" : "+m"(*(volatile char *)a));
	else if (cf_clflushopt)
		for (; a < end; a += CACHE_LINE)
			__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)a));
	else
		for (; a < end; a += CACHE_LINE)
			__asm__ volatile("clflush %0" : "+m"(*(volatile char *)a));
	__asm__ volatile("sfence" ::: "memory");
}

static inline void cache_invalidate(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1), end = (uintptr_t)p + n;
	if (n == 0)
		return;
	if (cf_clflushopt)
		for (; a < end; a += CACHE_LINE)
			__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)a));
	else
		for (; a < end; a += CACHE_LINE)
			__asm__ volatile("clflush %0" : "+m"(*(volatile char *)a));
	__asm__ volatile("sfence" ::: "memory");
}

#elif defined(__aarch64__)

static inline void cache_init(void) {}

static inline void cache_writeback(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1), end = (uintptr_t)p + n;
	for (; a < end; a += CACHE_LINE)
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

static inline void cache_invalidate(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1), end = (uintptr_t)p + n;
	for (; a < end; a += CACHE_LINE)
		__asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

#else

static inline void cache_init(void) {}
static inline void cache_writeback(const void *p, size_t n)
{
	(void)p, (void)n;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void cache_invalidate(const void *p, size_t n)
{
	(void)p, (void)n;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
#endif

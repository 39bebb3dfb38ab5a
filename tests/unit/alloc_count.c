/*
 * alloc_count: see alloc_count.h.
 */
#include "rtc_build.h"

#include <stddef.h>

#include "alloc_count.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

static int counting;
static long calls;

static void
count(void)
{
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
		__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
}

void *__wrap_malloc(size_t n) { count(); return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { count(); return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { count(); return __real_realloc(p, n); }
void __wrap_free(void *p) { if (p != NULL) count(); __real_free(p); }
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
	count();
	return __real_posix_memalign(p, a, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
	count();
	return __real_aligned_alloc(a, n);
}

void
alloc_count_begin(void)
{
	__atomic_store_n(&calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&counting, 1, __ATOMIC_SEQ_CST);
}

long
alloc_count_end(void)
{
	__atomic_store_n(&counting, 0, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
}

/*
 * alloc_count: counts the allocator calls of a test program linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
 *   -Wl,--wrap=posix_memalign,--wrap=aligned_alloc
 * so that every such call from librtc and from the test passes through
 * the counters (free(NULL) is not counted). Thread-safe: OpenMP workers'
 * calls count too.
 */
#ifndef RTC_ALLOC_COUNT_H
#define RTC_ALLOC_COUNT_H

/* Start counting from zero. */
void alloc_count_begin(void);

/* Stop counting. RET: the calls since alloc_count_begin(). */
long alloc_count_end(void);

#endif

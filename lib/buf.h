/*
 * buf: a growable byte buffer with a hard size cap. Every reader of
 * outside bytes (HTTP bodies, socket messages, files) collects into one,
 * so that no peer can make us allocate without bound.
 */
#ifndef RTC_BUF_H
#define RTC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct rtc_buf {
	char *data;     /* always NUL-terminated after data[len] when non-NULL */
	size_t len;
	size_t cap;
	size_t max;     /* appends past max fail with RTC_ERR_TOO_BIG */
};

/* Initialise an empty buffer capped at max bytes (0 means 1 GiB). */
void rtc_buf_init(struct rtc_buf *b, size_t max);

/* Release storage; the buffer is empty and reusable afterwards. */
void rtc_buf_free(struct rtc_buf *b);

/* Forget the contents, keep the storage. */
void rtc_buf_reset(struct rtc_buf *b);

/* Make room for at least n more bytes. RET: RTC_OK, RTC_ERR_TOO_BIG or
 * RTC_ERR_NOMEM. */
int rtc_buf_reserve(struct rtc_buf *b, size_t n);

/* Append bytes. RET: RTC_OK, RTC_ERR_TOO_BIG (nothing appended), NOMEM. */
int rtc_buf_append(struct rtc_buf *b, const void *p, size_t n);
int rtc_buf_append_str(struct rtc_buf *b, const char *s);
int rtc_buf_printf(struct rtc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rtc_buf_vprintf(struct rtc_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Drop the first n bytes (a consumed prefix). */
void rtc_buf_consume(struct rtc_buf *b, size_t n);

/* RET: the contents as a malloc'd NUL-terminated string owned by the
 * caller (never NULL unless out of memory); the buffer is left empty. */
char *rtc_buf_steal(struct rtc_buf *b);

#endif

/*
 * buf: doubling growth up to a cap. The byte after the contents is kept
 * NUL so text can be used in place.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void
rtc_buf_init(struct rtc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max != 0 ? max : BUF_DEFAULT_MAX;
}

void
rtc_buf_free(struct rtc_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
rtc_buf_reset(struct rtc_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
rtc_buf_reserve(struct rtc_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return RTC_ERR_TOO_BIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return RTC_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return RTC_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return RTC_OK;
}

int
rtc_buf_append(struct rtc_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = rtc_buf_reserve(b, n)) != RTC_OK)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return RTC_OK;
}

int
rtc_buf_append_str(struct rtc_buf *b, const char *s)
{
	return rtc_buf_append(b, s, strlen(s));
}

int
rtc_buf_vprintf(struct rtc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return RTC_ERR_INVAL;
	if ((r = rtc_buf_reserve(b, (size_t)n)) != RTC_OK)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return RTC_OK;
}

int
rtc_buf_printf(struct rtc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtc_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
rtc_buf_consume(struct rtc_buf *b, size_t n)
{
	if (n >= b->len) {
		rtc_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *
rtc_buf_steal(struct rtc_buf *b)
{
	char *s;

	if (b->data == NULL)
		return strdup("");
	s = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}

/*
 * error: error codes to text and to exit statuses, and the char **cause
 * helpers every module uses to say what went wrong in words.
 */
#include "rtc_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *
rtc_strerror(int err)
{
	switch (err) {
	case RTC_OK: return "success";
	case RTC_ERR_NOMEM: return "out of memory";
	case RTC_ERR_INVAL: return "invalid argument";
	case RTC_ERR_IO: return "input/output error";
	case RTC_ERR_FORMAT: return "malformed data";
	case RTC_ERR_TOO_BIG: return "data too large";
	case RTC_ERR_NOT_FOUND: return "not found";
	case RTC_ERR_UNSUPPORTED: return "not supported";
	case RTC_ERR_TRUNCATED: return "data truncated";
	case RTC_ERR_TIMEOUT: return "timed out";
	case RTC_ERR_NET: return "network error";
	case RTC_ERR_PROTO: return "protocol error";
	case RTC_ERR_AUTH: return "authentication failed";
	case RTC_ERR_EXISTS: return "already exists";
	case RTC_ERR_BUSY: return "resource busy";
	case RTC_ERR_CANCELLED: return "cancelled";
	case RTC_ERR_AGAIN: return "temporary failure";
	case RTC_ERR_PERM: return "permission denied";
	case RTC_ERR_INTERNAL: return "internal error";
	case RTC_ERR_UNAVAILABLE: return "service unavailable";
	default: return "unknown error";
	}
}

int
rtc_err_exit_code(int err)
{
	switch (err) {
	case RTC_OK: return 0;
	case RTC_ERR_INVAL: return 64;
	case RTC_ERR_FORMAT:
	case RTC_ERR_TRUNCATED:
	case RTC_ERR_TOO_BIG:
	case RTC_ERR_UNSUPPORTED: return 65;
	case RTC_ERR_NOT_FOUND: return 66;
	case RTC_ERR_NET:
	case RTC_ERR_UNAVAILABLE:
	case RTC_ERR_PROTO: return 69;
	case RTC_ERR_INTERNAL:
	case RTC_ERR_NOMEM: return 70;
	case RTC_ERR_IO: return 74;
	case RTC_ERR_AGAIN:
	case RTC_ERR_TIMEOUT:
	case RTC_ERR_BUSY: return 75;
	case RTC_ERR_PERM:
	case RTC_ERR_AUTH: return 77;
	default: return 1;
	}
}

static char *
vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void
rtc_cause_set(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	*cause = vformat(fmt, ap);
	va_end(ap);
}

void
rtc_cause_wrap(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *head, *s;
	size_t n;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	head = vformat(fmt, ap);
	va_end(ap);
	if (head == NULL)
		return;
	if (*cause == NULL) {
		*cause = head;
		return;
	}
	n = strlen(head) + strlen(*cause) + 3;
	s = malloc(n);
	if (s != NULL)
		snprintf(s, n, "%s: %s", head, *cause);
	free(head);
	if (s != NULL) {
		free(*cause);
		*cause = s;
	}
}

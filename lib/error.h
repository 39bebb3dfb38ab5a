/*
 * error: the library's error codes. Every function that can fail returns
 * RTC_OK (0) or a negative enum rtc_err; details travel in char **cause.
 */
#ifndef RTC_ERROR_H
#define RTC_ERROR_H

enum rtc_err {
	RTC_OK = 0,
	RTC_ERR_NOMEM = -1,        /* out of memory */
	RTC_ERR_INVAL = -2,        /* bad argument or usage */
	RTC_ERR_IO = -3,           /* read/write/filesystem error */
	RTC_ERR_FORMAT = -4,       /* malformed input data */
	RTC_ERR_TOO_BIG = -5,      /* input past a size cap */
	RTC_ERR_NOT_FOUND = -6,    /* file, key or object absent */
	RTC_ERR_UNSUPPORTED = -7,  /* valid but not handled (e.g. transfer syntax) */
	RTC_ERR_TRUNCATED = -8,    /* input ends early */
	RTC_ERR_TIMEOUT = -9,      /* gave up waiting */
	RTC_ERR_NET = -10,         /* network failure */
	RTC_ERR_PROTO = -11,       /* peer broke the protocol */
	RTC_ERR_AUTH = -12,        /* credentials refused or missing */
	RTC_ERR_EXISTS = -13,      /* already exists */
	RTC_ERR_BUSY = -14,        /* resource in use */
	RTC_ERR_CANCELLED = -15,   /* stopped on request */
	RTC_ERR_AGAIN = -16,       /* temporary failure, retry later */
	RTC_ERR_PERM = -17,        /* permission denied */
	RTC_ERR_INTERNAL = -18,    /* a bug: an invariant did not hold */
	RTC_ERR_UNAVAILABLE = -19, /* a service or server is not there */
	RTC_ERR__LAST = -20
};

/* RET: static text for an error code (never NULL). */
const char *rtc_strerror(int err);

/* RET: the sysexits code that fits an error (64 usage, 65 data, 66 no
 * input, 69 unavailable, 74 I/O, 75 temporary, 70 internal). */
int rtc_err_exit_code(int err);

/*
 * Set *cause (when cause != NULL) to a newly allocated message; a message
 * already there is freed first. The caller frees *cause with free().
 */
void rtc_cause_set(char **cause, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like rtc_cause_set, but keeps an existing cause as the tail: "msg: old". */
void rtc_cause_wrap(char **cause, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

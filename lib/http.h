/*
 * http: an HTTP client over libcurl's multi interface. One struct
 * rtc_http owns a bounded pool of keep-alive connections that every
 * transfer started on it shares, so a thousand small files cost a handful
 * of TCP connections, not a thousand.
 *
 * Transfers run concurrently and report through callbacks: on_head once
 * the final response's headers are in, on_body for the bytes of a 2xx
 * response (anything else is collected, capped, as the error body), and
 * on_done at the end. The caller drives everything with rtc_http_run().
 * rtc_http_do() is the synchronous form for small bodies (listings,
 * GraphQL), collected into a capped buffer.
 *
 * Logging: with the "http" debug flag each finished transfer prints one
 * line with the method, the URL with its credentials redacted, the status,
 * sizes and times. Header values are never logged.
 */
#ifndef RTC_HTTP_H
#define RTC_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "ctx.h"

#define RTC_HTTP_ERRBODY_MAX (64 * 1024)
#define RTC_HTTP_HEADERS_MAX (64 * 1024)

struct rtc_http;
struct rtc_http_xfer;

struct rtc_http_opts {
	int max_conns;             /* connections kept and used; 0: 8 */
	long connect_timeout_ms;   /* 0: 10 s */
	long stall_s;              /* abort below 1 B/s for this long; 0: 30 */
	const char *user_agent;    /* NULL: "rtc/VERSION" */
	const char *ca_file;       /* NULL: the system's CA store */
	long buffer_size;          /* receive buffer; 0: 128 KiB */
};

/* What the server said about the final response. */
struct rtc_http_resp {
	long status;               /* 0 when no response arrived */
	long long content_length;  /* -1 when absent */
	long long range_first;     /* Content-Range, -1 when absent */
	long long range_last;
	long long range_total;     /* -1 when absent or "*" */
	char content_type[96];
	char etag[96];             /* as sent, quotes included */
	char request_id[64];       /* x-amz-request-id */
	long long body_bytes;      /* bytes of body received */
	int reused;                /* the connection was reused */
	double seconds;            /* the transfer's duration */
};

struct rtc_http_req {
	const char *method;        /* GET, HEAD, PUT, POST, DELETE, ... */
	const char *url;
	const char *const *headers;  /* "Name: value", NULL-terminated */
	const void *body;          /* request body in memory (borrowed until
	                            * on_done), or NULL */
	size_t body_len;
	int body_fd;               /* or, when body is NULL and body_fd_len
	                            * > 0, that many bytes of this file from
	                            * body_off (borrowed) */
	long long body_off;
	long long body_fd_len;
	int follow;                /* follow up to 5 redirects (http/https) */
	long timeout_ms;           /* whole transfer; 0: none */
	/* RET: RTC_OK, or an error that aborts the transfer */
	int (*on_head)(void *arg, const struct rtc_http_resp *r);
	/* bytes of a 2xx body. RET: RTC_OK, or an error that aborts */
	int (*on_body)(void *arg, const void *p, size_t n);
	/*
	 * Called exactly once. err: RTC_OK when a whole response was read
	 * (any status); RTC_ERR_TIMEOUT, RTC_ERR_NET, RTC_ERR_TRUNCATED
	 * (connection closed early), or a callback's error otherwise.
	 * errbody: a non-2xx body (NUL-terminated, capped); cause: what
	 * failed, or NULL. All borrowed for the call.
	 */
	void (*on_done)(void *arg, int err, const struct rtc_http_resp *r,
	    const char *errbody, size_t errlen, const char *cause);
	void *arg;
};

/* Fill o with the defaults. */
void rtc_http_opts_init(struct rtc_http_opts *o);

/* IN: ctx (borrowed, for logging; may be NULL), o (NULL: defaults).
 * OUT: *out, freed with rtc_http_free(). RET: RTC_OK, RTC_ERR_NOMEM,
 * RTC_ERR_INTERNAL (libcurl failed to start). */
int rtc_http_new(struct rtc_ctx *ctx, const struct rtc_http_opts *o,
    struct rtc_http **out, char **cause);

/* Abort every transfer (their on_done is not called) and free. */
void rtc_http_free(struct rtc_http *h);

/*
 * Start a transfer. The request's strings are copied; body memory and fd
 * are borrowed until on_done. OUT: *xfer (may be NULL), a handle for
 * rtc_http_cancel(), valid until on_done. RET: RTC_OK or RTC_ERR_INVAL
 * (a header with CR/LF, no URL), RTC_ERR_NOMEM.
 */
int rtc_http_start(struct rtc_http *h, const struct rtc_http_req *req,
    struct rtc_http_xfer **xfer, char **cause);

/* Abort a transfer without calling its on_done. */
void rtc_http_cancel(struct rtc_http *h, struct rtc_http_xfer *x);

/*
 * Drive transfers: wait up to timeout_ms for activity, move data, call
 * the callbacks of finished transfers. Never call it from a callback.
 * RET: the number of transfers still running (>= 0), or an error.
 */
int rtc_http_run(struct rtc_http *h, int timeout_ms);

/* RET: transfers started and not yet done. */
int rtc_http_active(const struct rtc_http *h);

/*
 * Run one request to the end, collecting the body of any status into
 * body (its cap bounds it: RTC_ERR_TOO_BIG past it). Other transfers on h
 * progress meanwhile. OUT: *resp. RET: RTC_OK when a response was read
 * (check resp->status), else the transfer's error with *cause.
 */
int rtc_http_do(struct rtc_http *h, const struct rtc_http_req *req,
    struct rtc_buf *body, struct rtc_http_resp *resp, char **cause);

/* RET: nonzero when err/status is worth another try: network errors,
 * timeouts, early closes, 408, 429 and 5xx but 501/505. */
int rtc_http_retryable(int err, long status);

/*
 * Copy url into out with secrets masked: user:password, and the values
 * of X-Amz-Signature, X-Amz-Credential and X-Amz-Security-Token (any
 * case). Cut to outsz. RET: out.
 */
char *rtc_http_redact_url(const char *url, char *out, size_t outsz);

#endif

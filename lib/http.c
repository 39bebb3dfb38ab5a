/*
 * http: each transfer is a curl easy handle on one multi handle. The
 * multi handle owns the connection cache; CURLMOPT_MAX_TOTAL_CONNECTIONS
 * and CURLMOPT_MAXCONNECTS bound it, so transfers beyond the bound wait
 * for a free connection instead of opening new ones, and finished
 * connections stay open for the next transfer to the same host. Idle easy
 * handles are kept for reuse too.
 *
 * Response headers are parsed as they arrive; a status line starts a new
 * response (redirects, 100 Continue), so what on_head sees is the final
 * response's. Body bytes go to on_body only for 2xx statuses; others
 * fill a capped error buffer handed to on_done.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "error.h"
#include "http.h"
#include "log.h"

#define HTTP_POOL_MAX 64

struct rtc_http_xfer {
	struct rtc_http *h;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *method;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf errbody;
	size_t header_bytes;
	int head_done;
	int cb_err;
	int use_fd;
	long long up_pos;
	int64_t t0;
	char errtext[CURL_ERROR_SIZE];
	struct rtc_http_xfer *next;
	struct rtc_http_xfer *prev;
};

struct rtc_http {
	struct rtc_ctx *ctx;
	CURLM *multi;
	struct rtc_http_opts o;
	char ua[64];
	char *ca_file;
	struct rtc_http_xfer *active;
	int nactive;
	CURL *pool[HTTP_POOL_MAX];
	int npool;
};

void
rtc_http_opts_init(struct rtc_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_conns = 8;
	o->connect_timeout_ms = 10000;
	o->stall_s = 30;
	o->buffer_size = 512 * 1024;
}

int
rtc_http_new(struct rtc_ctx *ctx, const struct rtc_http_opts *o,
    struct rtc_http **out, char **cause)
{
	struct rtc_http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rtc_cause_set(cause, "libcurl failed to initialise");
		return RTC_ERR_INTERNAL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		curl_global_cleanup();
		return RTC_ERR_NOMEM;
	}
	h->ctx = ctx;
	rtc_http_opts_init(&h->o);
	if (o != NULL) {
		if (o->max_conns > 0)
			h->o.max_conns = o->max_conns;
		if (o->connect_timeout_ms > 0)
			h->o.connect_timeout_ms = o->connect_timeout_ms;
		if (o->stall_s > 0)
			h->o.stall_s = o->stall_s;
		if (o->buffer_size > 0)
			h->o.buffer_size = o->buffer_size;
		if (o->ca_file != NULL && (h->ca_file = strdup(o->ca_file)) ==
		    NULL) {
			free(h);
			curl_global_cleanup();
			return RTC_ERR_NOMEM;
		}
	}
	snprintf(h->ua, sizeof(h->ua), "%s",
	    o != NULL && o->user_agent != NULL ? o->user_agent :
	    "rtc/" PACKAGE_VERSION);
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		rtc_cause_set(cause, "libcurl: cannot create a multi handle");
		free(h->ca_file);
		free(h);
		curl_global_cleanup();
		return RTC_ERR_INTERNAL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)h->o.max_conns);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)h->o.max_conns);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.max_conns);
	*out = h;
	return RTC_OK;
}

static void
xfer_release(struct rtc_http *h, struct rtc_http_xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else if (h->active == x)
		h->active = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	h->nactive--;
	curl_multi_remove_handle(h->multi, x->easy);
	if (h->npool < HTTP_POOL_MAX) {
		curl_easy_reset(x->easy);
		h->pool[h->npool++] = x->easy;
	} else {
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
	rtc_buf_free(&x->errbody);
	free(x->url);
	free(x->method);
	free(x);
}

void
rtc_http_free(struct rtc_http *h)
{
	int i;

	if (h == NULL)
		return;
	while (h->active != NULL)
		xfer_release(h, h->active);
	for (i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	curl_multi_cleanup(h->multi);
	free(h->ca_file);
	free(h);
	curl_global_cleanup();
}

int
rtc_http_active(const struct rtc_http *h)
{
	return h->nactive;
}

int
rtc_http_retryable(int err, long status)
{
	if (err == RTC_ERR_NET || err == RTC_ERR_TIMEOUT ||
	    err == RTC_ERR_TRUNCATED || err == RTC_ERR_AGAIN)
		return 1;
	if (err != RTC_OK)
		return 0;
	return status == 408 || status == 429 ||
	    (status >= 500 && status <= 599 && status != 501 && status != 505);
}

/* Case-insensitive "Name:" match; RET: the trimmed value or NULL. */
static const char *
header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *v, *e;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' ||
	    e[-1] == '\t'))
		e--;
	*vlen = (size_t)(e - v);
	return v;
}

static void
copy_value(char *dst, size_t dsz, const char *v, size_t n)
{
	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* The decimal number at s (n bytes). OUT: *end, past its digits.
 * RET: it, or -1 (unknown) when s holds no digit first or the number does
 * not fit in a long long. */
static long long
parse_ll(const char *s, size_t n, const char **end)
{
	long long v = 0;
	size_t i;
	int over = 0;

	if (n == 0 || !isdigit((unsigned char)s[0])) {
		*end = s;
		return -1;
	}
	for (i = 0; i < n && isdigit((unsigned char)s[i]); i++) {
		if (v > (LLONG_MAX - 9) / 10)
			over = 1;
		else
			v = v * 10 + (s[i] - '0');
	}
	*end = s + i;
	return over ? -1 : v;
}

/* "bytes 0-99/1234" or "bytes * /1234" (without the space). */
static void
parse_content_range(struct rtc_http_resp *r, const char *v, size_t n)
{
	const char *p = v, *e = v + n, *q;

	r->range_first = r->range_last = r->range_total = -1;
	if (n < 6 || strncasecmp(p, "bytes ", 6) != 0)
		return;
	p += 6;
	if (p < e && *p == '*') {
		p++;
	} else {
		r->range_first = parse_ll(p, (size_t)(e - p), &q);
		if (q >= e || *q != '-') {
			r->range_first = -1;
			return;
		}
		p = q + 1;
		r->range_last = parse_ll(p, (size_t)(e - p), &q);
		p = q;
	}
	if (p < e && *p == '/') {
		p++;
		r->range_total = parse_ll(p, (size_t)(e - p), &q);
	}
}

static void
resp_reset(struct rtc_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->range_first = r->range_last = r->range_total = -1;
}

static size_t
header_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct rtc_http_xfer *x = ud;
	size_t n = sz * nm, vl;
	const char *v, *end;

	x->header_bytes += n;
	if (x->header_bytes > RTC_HTTP_HEADERS_MAX) {
		x->cb_err = RTC_ERR_TOO_BIG;
		return 0;
	}
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		resp_reset(&x->resp);
		if (sp != NULL)
			x->resp.status = parse_ll(sp + 1,
			    (size_t)(p + n - sp - 1), &end);
		return n;
	}
	if ((v = header_value(p, n, "Content-Length", &vl)) != NULL)
		x->resp.content_length = parse_ll(v, vl, &end);
	else if ((v = header_value(p, n, "Content-Type", &vl)) != NULL)
		copy_value(x->resp.content_type, sizeof(x->resp.content_type),
		    v, vl);
	else if ((v = header_value(p, n, "ETag", &vl)) != NULL)
		copy_value(x->resp.etag, sizeof(x->resp.etag), v, vl);
	else if ((v = header_value(p, n, "Content-Range", &vl)) != NULL)
		parse_content_range(&x->resp, v, vl);
	else if ((v = header_value(p, n, "x-amz-request-id", &vl)) != NULL)
		copy_value(x->resp.request_id, sizeof(x->resp.request_id), v,
		    vl);
	return n;
}

static int
head_done(struct rtc_http_xfer *x)
{
	long code = 0;

	if (x->head_done)
		return RTC_OK;
	x->head_done = 1;
	if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code) ==
	    CURLE_OK && code != 0)
		x->resp.status = code;
	if (x->req.on_head != NULL)
		return x->req.on_head(x->req.arg, &x->resp);
	return RTC_OK;
}

static int
is_2xx(long s)
{
	return s >= 200 && s <= 299;
}

static size_t
write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct rtc_http_xfer *x = ud;
	size_t n = sz * nm;
	int r;

	if ((r = head_done(x)) != RTC_OK) {
		x->cb_err = r;
		return 0;
	}
	x->resp.body_bytes += (long long)n;
	if (is_2xx(x->resp.status)) {
		if (x->req.on_body != NULL &&
		    (r = x->req.on_body(x->req.arg, p, n)) != RTC_OK) {
			x->cb_err = r;
			return 0;
		}
		return n;
	}
	if (x->errbody.len < RTC_HTTP_ERRBODY_MAX) {
		size_t room = RTC_HTTP_ERRBODY_MAX - x->errbody.len;

		(void)rtc_buf_append(&x->errbody, p, n < room ? n : room);
	}
	return n;
}

static size_t
read_cb(char *buf, size_t sz, size_t nm, void *ud)
{
	struct rtc_http_xfer *x = ud;
	size_t want = sz * nm;
	long long total, left;

	if (x->use_fd) {
		ssize_t got;

		total = x->req.body_fd_len;
		left = total - x->up_pos;
		if (left <= 0)
			return 0;
		if ((long long)want > left)
			want = (size_t)left;
		do {
			got = pread(x->req.body_fd, buf, want,
			    (off_t)(x->req.body_off + x->up_pos));
		} while (got < 0 && errno == EINTR);
		if (got <= 0) {
			x->cb_err = RTC_ERR_IO;
			return CURL_READFUNC_ABORT;
		}
		x->up_pos += got;
		return (size_t)got;
	}
	total = (long long)x->req.body_len;
	left = total - x->up_pos;
	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	memcpy(buf, (const char *)x->req.body + x->up_pos, want);
	x->up_pos += (long long)want;
	return want;
}

static int
seek_cb(void *ud, curl_off_t off, int origin)
{
	struct rtc_http_xfer *x = ud;
	long long total = x->use_fd ? x->req.body_fd_len :
	    (long long)x->req.body_len;

	if (origin != SEEK_SET || off < 0 || off > total)
		return CURL_SEEKFUNC_FAIL;
	x->up_pos = off;
	return CURL_SEEKFUNC_OK;
}

static int
header_line_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL && strchr(s, ':') != NULL;
}

static int
has_header(const char *const *hdrs, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		if (strncasecmp(hdrs[i], name, n) == 0 && hdrs[i][n] == ':')
			return 1;
	return 0;
}

int
rtc_http_start(struct rtc_http *h, const struct rtc_http_req *req,
    struct rtc_http_xfer **xfer, char **cause)
{
	struct rtc_http_xfer *x;
	struct curl_slist *l;
	long long up_len = -1;
	int i;

	if (req == NULL || req->url == NULL || req->method == NULL) {
		rtc_cause_set(cause, "http: request without URL or method");
		return RTC_ERR_INVAL;
	}
	if (strpbrk(req->url, "\r\n ") != NULL) {
		rtc_cause_set(cause, "http: URL with a space or line break");
		return RTC_ERR_INVAL;
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		if (!header_line_ok(req->headers[i])) {
			rtc_cause_set(cause, "http: malformed request header");
			return RTC_ERR_INVAL;
		}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return RTC_ERR_NOMEM;
	x->h = h;
	x->req = *req;
	x->use_fd = req->body == NULL && req->body_fd >= 0 &&
	    req->body_fd_len > 0;
	if (req->body == NULL)
		x->req.body_len = 0;
	rtc_buf_init(&x->errbody, RTC_HTTP_ERRBODY_MAX + 1);
	resp_reset(&x->resp);
	x->url = strdup(req->url);
	x->method = strdup(req->method);
	x->easy = h->npool > 0 ? h->pool[--h->npool] : curl_easy_init();
	if (x->url == NULL || x->method == NULL || x->easy == NULL)
		goto nomem;
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		if ((l = curl_slist_append(x->hdrs, req->headers[i])) == NULL)
			goto nomem;
		x->hdrs = l;
	}
	/* no 100-continue round trip; no form content type on POST */
	if ((l = curl_slist_append(x->hdrs, "Expect:")) == NULL)
		goto nomem;
	x->hdrs = l;
	if (strcmp(req->method, "POST") == 0 &&
	    !has_header(req->headers, "Content-Type")) {
		if ((l = curl_slist_append(x->hdrs, "Content-Type:")) == NULL)
			goto nomem;
		x->hdrs = l;
	}

	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errtext);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, h->ua);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    h->o.connect_timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, h->o.stall_s);
	curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, h->o.buffer_size);
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (req->timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	if (h->ca_file != NULL)
		curl_easy_setopt(x->easy, CURLOPT_CAINFO, h->ca_file);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (req->follow) {
		curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 5L);
	}
	if (x->use_fd)
		up_len = x->req.body_fd_len;
	else if (x->req.body != NULL)
		up_len = (long long)x->req.body_len;

	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)(up_len < 0 ? 0 : up_len));
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(up_len < 0 ? 0 : up_len));
	} else {
		curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, x->method);
		if (up_len >= 0) {
			curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)up_len);
		}
	}
	if (up_len >= 0 || strcmp(req->method, "PUT") == 0 ||
	    strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	}
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		rtc_cause_set(cause, "http: libcurl refused the transfer");
		curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->hdrs);
		free(x->url);
		free(x->method);
		free(x);
		return RTC_ERR_INTERNAL;
	}
	x->t0 = rtc_clock_mono_ns();
	x->next = h->active;
	if (h->active != NULL)
		h->active->prev = x;
	h->active = x;
	h->nactive++;
	if (xfer != NULL)
		*xfer = x;
	return RTC_OK;
nomem:
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x->method);
	free(x);
	return RTC_ERR_NOMEM;
}

void
rtc_http_cancel(struct rtc_http *h, struct rtc_http_xfer *x)
{
	if (x != NULL)
		xfer_release(h, x);
}

static int
map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return RTC_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return RTC_ERR_TIMEOUT;
	case CURLE_PARTIAL_FILE:
		return RTC_ERR_TRUNCATED;
	case CURLE_OUT_OF_MEMORY:
		return RTC_ERR_NOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return RTC_ERR_INVAL;
	case CURLE_TOO_MANY_REDIRECTS:
		return RTC_ERR_PROTO;
	default:
		return RTC_ERR_NET;
	}
}

char *
rtc_http_redact_url(const char *url, char *out, size_t outsz)
{
	static const char *const secret[] = {
		"x-amz-signature", "x-amz-credential", "x-amz-security-token",
		NULL
	};
	const char *p = url, *q, *at, *scheme;
	size_t o = 0;
	int i;

#define PUT(s, n) do {                                              \
	size_t n_ = (n);                                            \
	if (o + n_ >= outsz)                                        \
		n_ = outsz > o + 1 ? outsz - o - 1 : 0;             \
	memcpy(out + o, (s), n_);                                   \
	o += n_;                                                    \
} while (0)

	if (outsz == 0)
		return out;
	/* user:password@ in the authority; "://" counts only after a
	 * scheme (a query may hold another URL) */
	scheme = strstr(p, "://");
	if (scheme != NULL && (scheme == p ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789+.-") != (size_t)(scheme - p)))
		scheme = NULL;
	if (scheme != NULL) {
		const char *auth = scheme + 3;
		const char *slash = auth + strcspn(auth, "/?#");

		/* user:password ends at the last '@' (a password may hold
		 * one, unescaped) */
		at = memrchr(auth, '@', (size_t)(slash - auth));
		PUT(p, (size_t)(auth - p));
		if (at != NULL) {
			PUT("REDACTED@", 9);
			p = at + 1;
		} else {
			p = auth;
		}
	}
	q = strchr(p, '?');
	if (q == NULL) {
		PUT(p, strlen(p));
		out[o] = '\0';
		return out;
	}
	PUT(p, (size_t)(q - p + 1));
	p = q + 1;
	while (*p != '\0') {
		size_t plen = strcspn(p, "&#");
		const char *eq = memchr(p, '=', plen);
		int hide = 0;

		for (i = 0; eq != NULL && secret[i] != NULL; i++)
			if ((size_t)(eq - p) == strlen(secret[i]) &&
			    strncasecmp(p, secret[i], (size_t)(eq - p)) == 0)
				hide = 1;
		if (hide) {
			PUT(p, (size_t)(eq - p + 1));
			PUT("REDACTED", 8);
		} else {
			PUT(p, plen);
		}
		p += plen;
		if (*p == '&') {
			PUT("&", 1);
			p++;
		} else if (*p == '#') {
			PUT(p, strlen(p));
			break;
		}
	}
	out[o] = '\0';
	return out;
#undef PUT
}

static void
finish(struct rtc_http *h, struct rtc_http_xfer *x, CURLcode code)
{
	int err = map_curl(code);
	const char *cause = NULL;
	char buf[512], cb[512];
	long reused = 0;

	if (x->cb_err != RTC_OK) {
		err = x->cb_err;
		snprintf(cb, sizeof(cb), "%s", rtc_strerror(err));
		cause = cb;
	} else if (code != CURLE_OK) {
		snprintf(cb, sizeof(cb), "%s", x->errtext[0] ? x->errtext :
		    curl_easy_strerror(code));
		cause = cb;
	} else {
		int r = head_done(x);   /* responses without a body */

		if (r != RTC_OK) {
			err = r;
			snprintf(cb, sizeof(cb), "%s", rtc_strerror(r));
			cause = cb;
		}
	}
	if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &reused) ==
	    CURLE_OK)
		x->resp.reused = reused == 0;
	x->resp.seconds = (double)(rtc_clock_mono_ns() - x->t0) * 1e-9;
	if (h->ctx != NULL && rtc_log_enabled(h->ctx->log, RTC_LOG_DEBUG,
	    RTC_SUB_HTTP))
		rtc_debug(h->ctx, HTTP, "%s %s -> %ld%s%s, %lld bytes, %.1f ms%s",
		    x->method, rtc_http_redact_url(x->url, buf, sizeof(buf)),
		    x->resp.status, cause ? ": " : "", cause ? cause : "",
		    x->resp.body_bytes, x->resp.seconds * 1e3,
		    x->resp.reused ? ", reused" : "");
	if (x->req.on_done != NULL)
		x->req.on_done(x->req.arg, err, &x->resp,
		    x->errbody.data ? x->errbody.data : "", x->errbody.len,
		    cause);
	xfer_release(h, x);
}

/* Call the callbacks of finished transfers. RET: how many finished. */
static int
reap(struct rtc_http *h)
{
	CURLMsg *m;
	int left, n = 0;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct rtc_http_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x != NULL) {
			finish(h, x, m->data.result);
			n++;
		}
	}
	return n;
}

int
rtc_http_run(struct rtc_http *h, int timeout_ms)
{
	int running = 0;

	if (curl_multi_perform(h->multi, &running) != CURLM_OK)
		return RTC_ERR_INTERNAL;
	/* something finished: hand back at once so the caller can start
	 * more transfers before anything waits */
	if (reap(h) > 0 || h->nactive == 0 || timeout_ms <= 0)
		return h->nactive;
	if (curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
		return RTC_ERR_INTERNAL;
	if (curl_multi_perform(h->multi, &running) != CURLM_OK)
		return RTC_ERR_INTERNAL;
	reap(h);
	return h->nactive;
}

struct sync_state {
	struct rtc_buf *body;
	struct rtc_http_resp resp;
	int done;
	int err;
	char *cause;
};

static int
sync_body(void *arg, const void *p, size_t n)
{
	struct sync_state *s = arg;

	return rtc_buf_append(s->body, p, n);
}

static void
sync_done(void *arg, int err, const struct rtc_http_resp *r,
    const char *errbody, size_t errlen, const char *cause)
{
	struct sync_state *s = arg;

	s->done = 1;
	s->err = err;
	s->resp = *r;
	if (err == RTC_OK && !is_2xx(r->status) && errlen > 0)
		s->err = rtc_buf_append(s->body, errbody, errlen);
	if (cause != NULL)
		s->cause = strdup(cause);
}

int
rtc_http_do(struct rtc_http *h, const struct rtc_http_req *req,
    struct rtc_buf *body, struct rtc_http_resp *resp, char **cause)
{
	struct rtc_http_req r = *req;
	struct sync_state s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.body = body;
	r.on_body = sync_body;
	r.on_done = sync_done;
	r.on_head = NULL;
	r.arg = &s;
	ret = rtc_http_start(h, &r, NULL, cause);
	if (ret != RTC_OK)
		return ret;
	while (!s.done) {
		ret = rtc_http_run(h, 200);
		if (ret < 0) {
			rtc_cause_set(cause, "http: libcurl failed");
			return ret;
		}
	}
	if (s.err != RTC_OK) {
		rtc_cause_set(cause, "%s", s.cause ? s.cause :
		    rtc_strerror(s.err));
		free(s.cause);
		return s.err;
	}
	free(s.cause);
	*resp = s.resp;
	return RTC_OK;
}

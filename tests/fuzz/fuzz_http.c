/*
 * fuzz_http: what an HTTP server (S3, OpenNeuro, anything a URL points
 * at) sends back, as lib/http reads it: the response header lines libcurl
 * hands to its header callback (status, Content-Length, Content-Type,
 * ETag, Content-Range, x-amz-request-id), under the header cap; and URLs
 * (the download URLs OpenNeuro's API gives) as they are redacted for the
 * log. The module is included to reach its callback.
 *
 * Input: header lines separated by '\n' (each handed over with its line
 * break, as libcurl does); the whole input is also taken as a URL.
 * Invariants: numbers are -1 or non-negative; text fields stay
 * NUL-terminated within their arrays; past the header cap the callback
 * refuses; a redacted URL never shows a signature, credential or
 * security token, nor user:password. Seeds: tests/fuzz/corpus/http.
 */
#include "../../lib/http.c"

#include "fuzz_common.h"

static void
check_resp(const struct rtc_http_resp *r)
{
	FUZZ_CHECK(r->status >= -1);
	FUZZ_CHECK(r->content_length >= -1);
	FUZZ_CHECK(r->range_first >= -1 && r->range_last >= -1 &&
	    r->range_total >= -1);
	FUZZ_CHECK(memchr(r->content_type, '\0', sizeof(r->content_type)));
	FUZZ_CHECK(memchr(r->etag, '\0', sizeof(r->etag)));
	FUZZ_CHECK(memchr(r->request_id, '\0', sizeof(r->request_id)));
}

/* The value of query parameter name in url, or NULL (case-insensitive). */
static const char *
param(const char *url, const char *name, size_t *vlen)
{
	const char *q = strchr(url, '?'), *p;
	size_t n = strlen(name);

	if (q == NULL)
		return NULL;
	for (p = q + 1; *p != '\0' && *p != '#';) {
		size_t plen = strcspn(p, "&#");

		if (plen > n && p[n] == '=' && strncasecmp(p, name, n) == 0) {
			*vlen = plen - n - 1;
			return p + n + 1;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return NULL;
}

static void
redact(const char *url)
{
	static const char *const secret[] = { "x-amz-signature",
	    "x-amz-credential", "x-amz-security-token", NULL };
	char out[8192], small[16];
	const char *v, *auth, *end, *at;
	size_t vl;
	int i;

	FUZZ_CHECK(rtc_http_redact_url(url, out, sizeof(out)) == out);
	FUZZ_CHECK(strlen(out) < sizeof(out));
	(void)rtc_http_redact_url(url, small, sizeof(small));
	FUZZ_CHECK(strlen(small) < sizeof(small));
	if (strlen(url) + 64 >= sizeof(out))
		return;              /* cut short: not comparable */
	for (i = 0; secret[i] != NULL; i++)
		if ((v = param(out, secret[i], &vl)) != NULL)
			FUZZ_CHECK(vl == 8 && strncmp(v, "REDACTED", 8) == 0);
	/* the authority, when the URL starts with scheme:// */
	auth = strstr(out, "://");
	if (auth != NULL && (auth == out || strspn(out, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") !=
	    (size_t)(auth - out)))
		auth = NULL;
	if (auth != NULL) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		at = memchr(auth, '@', (size_t)(end - auth));
		/* user:password may hold '@' itself: nothing of it shows */
		if (at != NULL)
			FUZZ_CHECK(at - auth == 8 &&
			    strncmp(auth, "REDACTED", 8) == 0 &&
			    memchr(at + 1, '@', (size_t)(end - at - 1)) == NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_http_xfer x;
	size_t off = 0;
	char *url;

	memset(&x, 0, sizeof(x));
	resp_reset(&x.resp);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl != NULL ? (size_t)(nl - (data + off)) + 1 :
		    size - off;
		char *line = malloc(n);
		size_t got;

		FUZZ_CHECK(line != NULL);
		memcpy(line, data + off, n);
		got = header_cb(line, 1, n, &x);
		free(line);
		if (got != n) {
			FUZZ_CHECK(got == 0 && x.cb_err == RTC_ERR_TOO_BIG);
			FUZZ_CHECK(x.header_bytes > RTC_HTTP_HEADERS_MAX);
			break;
		}
		check_resp(&x.resp);
		off += n;
	}
	check_resp(&x.resp);

	url = malloc(size + 1);
	FUZZ_CHECK(url != NULL);
	memcpy(url, data, size);
	url[size] = '\0';
	redact(url);
	free(url);
	return 0;
}

/*
 * s3: the client (endpoint, addressing, signing every request afresh with
 * the current time) and listing. A listing page is fetched whole into a
 * capped buffer and parsed with libxml2 (no network, no entity expansion),
 * matching elements by local name so any namespace works. Pages are
 * retried with jittered backoff; the continuation token goes back
 * through the signer, which encodes its '/', '+' and '='.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "s3.h"
#include "s3_int.h"

int
rtc_s3_new(struct rtc_ctx *ctx, struct rtc_http *http,
    const struct rtc_creds *creds, const struct rtc_s3_opts *o,
    struct rtc_s3 **out, char **cause)
{
	const char *ep = o != NULL ? o->endpoint : NULL, *p, *auth, *end;
	struct rtc_s3 *s3;
	char buf[512];

	if (ep == NULL || *ep == '\0')
		ep = getenv("RTC_S3_ENDPOINT");
	if ((ep == NULL || *ep == '\0') && ctx != NULL &&
	    rtc_config_string(ctx->conf, "s3.endpoint", &ep, NULL) != RTC_OK)
		ep = NULL;
	s3 = calloc(1, sizeof(*s3));
	if (s3 == NULL)
		return RTC_ERR_NOMEM;
	s3->ctx = ctx;
	s3->http = http;
	s3->creds = creds;
	s3->retries = o != NULL && o->retries > 0 ? o->retries : 8;
	s3->backoff_ms = o != NULL && o->backoff_ms > 0 ? o->backoff_ms : 200;
	s3->backoff_max_ms = o != NULL && o->backoff_max_ms > 0 ?
	    o->backoff_max_ms : 10000;
	s3_rand_seed(&s3->rng);
	if (ep != NULL && *ep != '\0') {
		s3->custom = 1;
		snprintf(buf, sizeof(buf), "%s", ep);
	} else {
		snprintf(buf, sizeof(buf), "https://s3.%s.amazonaws.com",
		    creds != NULL ? creds->region : "us-east-1");
	}
	/* scheme://authority[/] only */
	p = strstr(buf, "://");
	if (p == NULL || (strncmp(buf, "http://", 7) != 0 &&
	    strncmp(buf, "https://", 8) != 0)) {
		rtc_cause_set(cause, "S3 endpoint '%s' is not an http(s) URL",
		    buf);
		free(s3);
		return RTC_ERR_INVAL;
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	if (end == auth || strchr(end, '?') != NULL || strchr(end, '#') ||
	    (*end == '/' && end[1] != '\0') || memchr(auth, '@',
	    (size_t)(end - auth)) != NULL) {
		rtc_cause_set(cause, "S3 endpoint '%s' must be scheme://host"
		    "[:port] with no path", buf);
		free(s3);
		return RTC_ERR_INVAL;
	}
	snprintf(s3->scheme, sizeof(s3->scheme), "%.*s", (int)(p - buf), buf);
	snprintf(s3->authority, sizeof(s3->authority), "%.*s",
	    (int)(end - auth), auth);
	/* the Host curl sends leaves out the scheme's default port */
	snprintf(s3->host, sizeof(s3->host), "%s", s3->authority);
	{
		size_t hl = strlen(s3->host);
		const char *dflt = strcmp(s3->scheme, "https") == 0 ? ":443" :
		    ":80";

		if (hl > strlen(dflt) &&
		    strcmp(s3->host + hl - strlen(dflt), dflt) == 0)
			s3->host[hl - strlen(dflt)] = '\0';
	}
	snprintf(s3->endpoint, sizeof(s3->endpoint), "%s://%s", s3->scheme,
	    s3->authority);
	rtc_debug(ctx, S3, "endpoint %s (%s), %s", s3->endpoint,
	    s3->custom ? "path-style" : "AWS", creds == NULL ||
	    creds->anonymous ? "unsigned" : "signed");
	*out = s3;
	return RTC_OK;
}

void
rtc_s3_free(struct rtc_s3 *s3)
{
	free(s3);
}

const char *
rtc_s3_endpoint(const struct rtc_s3 *s3)
{
	return s3->endpoint;
}

struct rtc_http *
rtc_s3_http(const struct rtc_s3 *s3)
{
	return s3->http;
}

/* ---- small shared functions ---- */

void
s3_rand_seed(uint64_t *state)
{
	uint64_t s = (uint64_t)rtc_clock_mono_ns() ^
	    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)state;
	FILE *f = fopen("/dev/urandom", "rb");

	if (f != NULL) {
		uint64_t r;

		if (fread(&r, sizeof(r), 1, f) == 1)
			s ^= r;
		fclose(f);
	}
	*state = s != 0 ? s : 0x9e3779b97f4a7c15ULL;
}

uint64_t
s3_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

long
s3_backoff_ms(uint64_t *rng, int attempt, long base, long cap)
{
	long hi = base;
	int i;

	for (i = 1; i < attempt && hi < cap; i++)
		hi *= 2;
	if (hi > cap)
		hi = cap;
	/* "equal jitter": half fixed, half random */
	return hi / 2 + (long)(s3_rand(rng) % (uint64_t)(hi / 2 + 1));
}

int
rtc_s3_etag_md5(const char *etag, char *md5)
{
	const char *p = etag;
	size_t n, i;

	if (etag == NULL)
		return 0;
	if (*p == '"')
		p++;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '"')
		n--;
	if (n != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)p[i]))
			return 0;
	for (i = 0; i < 32; i++)
		md5[i] = (char)tolower((unsigned char)p[i]);
	md5[32] = '\0';
	return 1;
}

static int
push_header(char **h, size_t *n, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
push_header(char **h, size_t *n, size_t max, const char *fmt, ...)
{
	struct rtc_buf b;
	va_list ap;
	int r;

	if (*n + 1 >= max)
		return RTC_ERR_TOO_BIG;
	rtc_buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	r = rtc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r != RTC_OK) {
		rtc_buf_free(&b);
		return r;
	}
	h[(*n)++] = rtc_buf_steal(&b);
	h[*n] = NULL;
	return h[*n - 1] != NULL ? RTC_OK : RTC_ERR_NOMEM;
}

void
rtc_s3_request_free(char *url, char **headers)
{
	size_t i;

	free(url);
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		free(headers[i]);
	free(headers);
}

static int
bucket_dns_ok(const char *b)
{
	size_t i, n = strlen(b);

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) &&
		    !isdigit((unsigned char)b[i]) && b[i] != '-')
			return 0;
	return 1;
}

int
rtc_s3_request(struct rtc_s3 *s3, const char *method, const char *bucket,
    const char *key, const struct rtc_sigv4_param *query, size_t nquery,
    const struct rtc_sigv4_header *extra, size_t nextra,
    const char *payload_hash, char **url, char ***headers, char **cause)
{
	size_t max = nextra + 8, nh = 0, i;
	char **h = NULL, host[512];
	struct rtc_buf path, u;
	int r = RTC_ERR_NOMEM, vhost;

	if (bucket == NULL || *bucket == '\0' || strchr(bucket, '/') != NULL ||
	    strlen(bucket) > 255 || key == NULL ||
	    strlen(key) > RTC_S3_KEY_MAX) {
		rtc_cause_set(cause, "S3: bad bucket or key");
		return RTC_ERR_INVAL;
	}
	vhost = !s3->custom && bucket_dns_ok(bucket);
	rtc_buf_init(&path, 8192);
	rtc_buf_init(&u, 16384);
	h = calloc(max + 1, sizeof(*h));
	if (h == NULL)
		goto out;
	if (vhost) {
		snprintf(host, sizeof(host), "%s.%s", bucket, s3->host);
		if (rtc_buf_printf(&path, "/%s", key) != RTC_OK)
			goto out;
	} else {
		snprintf(host, sizeof(host), "%s", s3->host);
		if (rtc_buf_printf(&path, "/%s%s%s", bucket, *key ? "/" : "/",
		    key) != RTC_OK)
			goto out;
	}
	if (s3->creds != NULL && !s3->creds->anonymous) {
		struct rtc_sigv4_keys k = { s3->creds->access_key,
		    s3->creds->secret_key, s3->creds->session_token };
		struct rtc_sigv4_req req;
		struct rtc_sigv4_signed sig;

		memset(&req, 0, sizeof(req));
		req.method = method;
		req.host = host;
		req.path = path.data;
		req.query = query;
		req.nquery = nquery;
		req.headers = extra;
		req.nheaders = nextra;
		req.payload_hash = payload_hash;
		req.region = s3->creds->region;
		req.service = "s3";
		req.when = time(NULL);
		req.s3 = 1;
		r = rtc_sigv4_sign(&req, &k, &sig, cause);
		if (r != RTC_OK)
			goto out;
		r = RTC_ERR_NOMEM;
		if (rtc_buf_printf(&u, "%s://%s%s", s3->scheme, vhost ? host :
		    s3->authority, sig.target) != RTC_OK ||
		    push_header(h, &nh, max, "Authorization: %s",
		    sig.authorization) != RTC_OK ||
		    push_header(h, &nh, max, "x-amz-date: %s", sig.amz_date) !=
		    RTC_OK ||
		    push_header(h, &nh, max, "x-amz-content-sha256: %s",
		    sig.payload_hash) != RTC_OK ||
		    (s3->creds->session_token != NULL &&
		    push_header(h, &nh, max, "x-amz-security-token: %s",
		    s3->creds->session_token) != RTC_OK)) {
			rtc_sigv4_signed_free(&sig);
			goto out;
		}
		rtc_sigv4_signed_free(&sig);
	} else {
		/* the signer's target with throwaway keys: the same encoding
		 * and parameter order as signed requests; no auth is sent */
		struct rtc_sigv4_keys k = { "anonymous", "anonymous", NULL };
		struct rtc_sigv4_req req;
		struct rtc_sigv4_signed sig;

		memset(&req, 0, sizeof(req));
		req.method = method;
		req.host = host;
		req.path = path.data;
		req.query = query;
		req.nquery = nquery;
		req.region = "us-east-1";
		req.service = "s3";
		req.when = time(NULL);
		r = rtc_sigv4_sign(&req, &k, &sig, cause);
		if (r != RTC_OK)
			goto out;
		r = RTC_ERR_NOMEM;
		if (rtc_buf_printf(&u, "%s://%s%s", s3->scheme, vhost ? host :
		    s3->authority, sig.target) != RTC_OK) {
			rtc_sigv4_signed_free(&sig);
			goto out;
		}
		rtc_sigv4_signed_free(&sig);
		/* S3 and s3rver want it on every request */
		if (push_header(h, &nh, max, "x-amz-content-sha256: %s",
		    payload_hash ? payload_hash : RTC_SIGV4_EMPTY_SHA256) !=
		    RTC_OK)
			goto out;
	}
	for (i = 0; i < nextra; i++)
		if (push_header(h, &nh, max, "%s: %s", extra[i].name,
		    extra[i].value) != RTC_OK)
			goto out;
	if (vhost && push_header(h, &nh, max, "Host: %s", host) != RTC_OK)
		goto out;
	*url = rtc_buf_steal(&u);
	if (*url == NULL)
		goto out;
	*headers = h;
	h = NULL;
	r = RTC_OK;
out:
	if (r == RTC_ERR_NOMEM && cause != NULL && *cause == NULL)
		rtc_cause_set(cause, "out of memory");
	rtc_s3_request_free(NULL, h);
	rtc_buf_free(&path);
	rtc_buf_free(&u);
	return r;
}

/* ---- XML ---- */

static int
name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The text of an element's first text child, or "". Owned by the doc. */
static const char *
text_of(const xmlNode *n)
{
	const xmlNode *c;

	for (c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			return (const char *)c->content;
	return "";
}

static xmlDoc *
parse_xml(const char *xml, size_t len)
{
	if (len == 0 || len > RTC_S3_PAGE_MAX || len > (size_t)INT32_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)len, "s3.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

int
rtc_s3_error_parse(const char *body, size_t len, char *code, size_t codesz,
    char *msg, size_t msgsz)
{
	xmlDoc *doc;
	xmlNode *root, *c;
	int found = 0;

	if (codesz > 0)
		code[0] = '\0';
	if (msgsz > 0)
		msg[0] = '\0';
	if (body == NULL || len == 0 || len > RTC_HTTP_ERRBODY_MAX + 1)
		return 0;
	doc = parse_xml(body, len);
	if (doc == NULL)
		return 0;
	root = xmlDocGetRootElement(doc);
	if (root != NULL && name_is(root, "Error")) {
		found = 1;
		for (c = root->children; c != NULL; c = c->next) {
			if (name_is(c, "Code") && codesz > 0)
				snprintf(code, codesz, "%s", text_of(c));
			else if (name_is(c, "Message") && msgsz > 0)
				snprintf(msg, msgsz, "%s", text_of(c));
		}
	}
	xmlFreeDoc(doc);
	return found;
}

int
rtc_s3_status_error(long status, const char *what, const char *body,
    size_t len, char **cause)
{
	char code[64], msg[256];

	if (rtc_s3_error_parse(body, len, code, sizeof(code), msg, sizeof(msg)))
		rtc_cause_set(cause, "%s: HTTP %ld %s%s%s", what, status, code,
		    msg[0] ? ": " : "", msg);
	else
		rtc_cause_set(cause, "%s: HTTP %ld", what, status);
	if (status == 404)
		return RTC_ERR_NOT_FOUND;
	if (status == 401 || status == 403)
		return RTC_ERR_AUTH;
	if (rtc_http_retryable(RTC_OK, status))
		return RTC_ERR_UNAVAILABLE;
	return RTC_ERR_PROTO;
}

void
rtc_s3_page_free(struct rtc_s3_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free((char *)p->objs[i].key);
		free((char *)p->objs[i].etag);
		free((char *)p->objs[i].last_modified);
	}
	for (i = 0; i < p->nprefixes; i++)
		free(p->prefixes[i]);
	free(p->objs);
	free(p->prefixes);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

static int
parse_size(const char *s, long long *out)
{
	long long v = 0;
	size_t i;

	while (*s == ' ' || *s == '\n' || *s == '\t')
		s++;
	if (*s == '\0')
		return 0;
	for (i = 0; s[i] != '\0' && !isspace((unsigned char)s[i]); i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 18)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode S3's "url" encoding ('+' is a space). RET: a new string, or
 * NULL with *bad set when the result would hold a NUL or an escape is
 * malformed (the caller keeps the encoded form). */
static char *
url_decode(const char *s, int *bad)
{
	size_t n = strlen(s), i, o = 0;
	char *d = malloc(n + 1);

	*bad = 0;
	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			d[o++] = ' ';
		} else if (s[i] == '%') {
			int a = -1, b = -1;

			if (i + 2 < n) {
				a = hexval(s[i + 1]);
				b = hexval(s[i + 2]);
			}
			if (a < 0 || b < 0 || (a == 0 && b == 0)) {
				*bad = 1;
				free(d);
				return NULL;
			}
			d[o++] = (char)(a * 16 + b);
			i += 2;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	return d;
}

static int
parse_contents(xmlNode *n, struct rtc_s3_object *o, int encoded,
    char **cause)
{
	xmlNode *c;
	const char *key = NULL, *etag = "", *lm = "";
	long long size = -1;
	size_t klen;

	for (c = n->children; c != NULL; c = c->next) {
		if (name_is(c, "Key"))
			key = text_of(c);
		else if (name_is(c, "Size") && !parse_size(text_of(c), &size)) {
			rtc_cause_set(cause, "listing: bad <Size>");
			return RTC_ERR_FORMAT;
		} else if (name_is(c, "ETag"))
			etag = text_of(c);
		else if (name_is(c, "LastModified"))
			lm = text_of(c);
	}
	if (key == NULL || *key == '\0' || size < 0) {
		rtc_cause_set(cause, "listing: an entry lacks <Key> or <Size>");
		return RTC_ERR_FORMAT;
	}
	klen = strlen(key);
	if (klen > RTC_S3_KEY_MAX) {
		rtc_cause_set(cause, "listing: a key longer than %d bytes",
		    RTC_S3_KEY_MAX);
		return RTC_ERR_TOO_BIG;
	}
	if (strlen(etag) > 2 && etag[0] == '"' && etag[strlen(etag) - 1] == '"')
		o->etag = strndup(etag + 1, strlen(etag) - 2);
	else
		o->etag = strndup(etag, 128);
	o->key = NULL;
	if (encoded) {
		o->key = url_decode(key, &o->unsafe_name);
		if (o->key == NULL && !o->unsafe_name)
			return RTC_ERR_NOMEM;
	}
	if (o->key == NULL)
		o->key = strdup(key);
	o->last_modified = strndup(lm, 64);
	o->size = size;
	if (o->key == NULL || o->etag == NULL || o->last_modified == NULL)
		return RTC_ERR_NOMEM;
	return RTC_OK;
}

int
rtc_s3_page_parse(const char *xml, size_t len, struct rtc_s3_page *out,
    char **cause)
{
	struct rtc_s3_page p;
	xmlDoc *doc;
	xmlNode *root, *c;
	size_t cap = 0, pcap = 0;
	int r = RTC_OK, encoded = 0;

	memset(&p, 0, sizeof(p));
	if (len > RTC_S3_PAGE_MAX) {
		rtc_cause_set(cause, "listing page over %d bytes",
		    RTC_S3_PAGE_MAX);
		return RTC_ERR_TOO_BIG;
	}
	doc = parse_xml(xml, len);
	if (doc == NULL) {
		rtc_cause_set(cause, "listing: not well-formed XML");
		return RTC_ERR_FORMAT;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !name_is(root, "ListBucketResult")) {
		rtc_cause_set(cause, "listing: root element is <%s>, not "
		    "<ListBucketResult>", root ? (const char *)root->name : "");
		xmlFreeDoc(doc);
		return RTC_ERR_FORMAT;
	}
	for (c = root->children; c != NULL; c = c->next)
		if (name_is(c, "EncodingType"))
			encoded = strcmp(text_of(c), "url") == 0;
	for (c = root->children; c != NULL && r == RTC_OK; c = c->next) {
		if (name_is(c, "IsTruncated")) {
			p.truncated = strcmp(text_of(c), "true") == 0;
		} else if (name_is(c, "NextContinuationToken")) {
			free(p.next_token);
			p.next_token = strndup(text_of(c), 4096);
			if (p.next_token == NULL)
				r = RTC_ERR_NOMEM;
		} else if (name_is(c, "Contents")) {
			if (p.n >= RTC_S3_PAGE_KEYS_MAX) {
				rtc_cause_set(cause, "listing page with more "
				    "than %d entries", RTC_S3_PAGE_KEYS_MAX);
				r = RTC_ERR_TOO_BIG;
				break;
			}
			if (p.n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct rtc_s3_object *o = realloc(p.objs,
				    nc * sizeof(*o));

				if (o == NULL) {
					r = RTC_ERR_NOMEM;
					break;
				}
				p.objs = o;
				cap = nc;
			}
			memset(&p.objs[p.n], 0, sizeof(p.objs[0]));
			r = parse_contents(c, &p.objs[p.n], encoded, cause);
			p.n++;
		} else if (name_is(c, "CommonPrefixes")) {
			xmlNode *d;

			for (d = c->children; d != NULL; d = d->next) {
				if (!name_is(d, "Prefix"))
					continue;
				if (p.nprefixes >= RTC_S3_PAGE_KEYS_MAX) {
					r = RTC_ERR_TOO_BIG;
					break;
				}
				if (p.nprefixes == pcap) {
					size_t nc = pcap ? pcap * 2 : 16;
					char **q = realloc(p.prefixes,
					    nc * sizeof(*q));

					if (q == NULL) {
						r = RTC_ERR_NOMEM;
						break;
					}
					p.prefixes = q;
					pcap = nc;
				}
				{
					int bad = 0;

					p.prefixes[p.nprefixes] = encoded ?
					    url_decode(text_of(d), &bad) : NULL;
					if (p.prefixes[p.nprefixes] == NULL)
						p.prefixes[p.nprefixes] =
						    strndup(text_of(d),
						    RTC_S3_KEY_MAX);
				}
				if (p.prefixes[p.nprefixes++] == NULL)
					r = RTC_ERR_NOMEM;
			}
		}
	}
	xmlFreeDoc(doc);
	if (r == RTC_OK && p.truncated &&
	    (p.next_token == NULL || p.next_token[0] == '\0')) {
		rtc_cause_set(cause, "listing: truncated page without "
		    "NextContinuationToken");
		r = RTC_ERR_FORMAT;
	}
	if (r != RTC_OK) {
		if (r == RTC_ERR_NOMEM)
			rtc_cause_set(cause, "listing: out of memory");
		rtc_s3_page_free(&p);
		return r;
	}
	*out = p;
	return RTC_OK;
}

/* ---- listing loop ---- */

/* Sleep for a backoff, waking early on a stop request. */
void
s3_sleep_ms(struct rtc_ctx *ctx, long ms)
{
	rtc_clock_sleep_ns((int64_t)ms * 1000000,
	    ctx != NULL ? ctx->stop : NULL);
}

int
rtc_s3_list(struct rtc_s3 *s3, const char *bucket, const char *prefix,
    const char *delimiter, rtc_s3_list_fn fn, void *arg, char **cause)
{
	struct rtc_sigv4_param q[6];
	struct rtc_buf body;
	char *token = NULL, *url = NULL, **hdrs = NULL;
	size_t total = 0, pages = 0, i;
	int r = RTC_OK, attempt;

	rtc_buf_init(&body, RTC_S3_PAGE_MAX);
	for (;;) {
		struct rtc_s3_page page;
		struct rtc_http_req req;
		struct rtc_http_resp resp;
		size_t nq = 0;

		q[nq].name = "list-type";
		q[nq++].value = "2";
		q[nq].name = "encoding-type";
		q[nq++].value = "url";
		q[nq].name = "prefix";
		q[nq++].value = prefix != NULL ? prefix : "";
		if (delimiter != NULL) {
			q[nq].name = "delimiter";
			q[nq++].value = delimiter;
		}
		if (token != NULL) {
			q[nq].name = "continuation-token";
			q[nq++].value = token;
		}
		for (attempt = 1;; attempt++) {
			char *why = NULL;
			int retry;

			if (rtc_ctx_stopping(s3->ctx)) {
				r = RTC_ERR_CANCELLED;
				rtc_cause_set(cause, "listing stopped");
				goto out;
			}
			r = rtc_s3_request(s3, "GET", bucket, "", q, nq, NULL, 0,
			    NULL, &url, &hdrs, cause);
			if (r != RTC_OK)
				goto out;
			memset(&req, 0, sizeof(req));
			req.method = "GET";
			req.url = url;
			req.headers = (const char *const *)hdrs;
			req.body_fd = -1;
			req.timeout_ms = 120000;
			rtc_buf_reset(&body);
			r = rtc_http_do(s3->http, &req, &body, &resp, &why);
			rtc_s3_request_free(url, hdrs);
			url = NULL;
			hdrs = NULL;
			if (r == RTC_OK && resp.status == 200) {
				free(why);
				break;
			}
			if (r == RTC_OK) {
				retry = rtc_http_retryable(RTC_OK, resp.status);
				r = rtc_s3_status_error(resp.status, "listing",
				    body.data, body.len, &why);
			} else {
				retry = rtc_http_retryable(r, 0);
			}
			if (!retry || attempt >= s3->retries) {
				rtc_cause_set(cause, "s3://%s/%s: %s", bucket,
				    prefix ? prefix : "", why ? why :
				    rtc_strerror(r));
				free(why);
				goto out;
			}
			{
				long ms = s3_backoff_ms(&s3->rng, attempt,
				    s3->backoff_ms, s3->backoff_max_ms);

				rtc_log(s3->ctx, WARN, "listing s3://%s/%s: %s; "
				    "retrying in %ld ms", bucket, prefix ?
				    prefix : "", why ? why : rtc_strerror(r), ms);
				s3_sleep_ms(s3->ctx, ms);
			}
			free(why);
		}
		r = rtc_s3_page_parse(body.data, body.len, &page, cause);
		if (r != RTC_OK)
			goto out;
		pages++;
		for (i = 0; i < page.n && r == RTC_OK; i++) {
			if (++total > RTC_S3_LIST_MAX) {
				rtc_cause_set(cause, "listing has more than %d "
				    "objects", RTC_S3_LIST_MAX);
				r = RTC_ERR_TOO_BIG;
				break;
			}
			r = fn(arg, &page.objs[i]);
		}
		free(token);
		token = NULL;
		if (r == RTC_OK && page.truncated) {
			token = page.next_token;
			page.next_token = NULL;
		}
		rtc_s3_page_free(&page);
		if (r != RTC_OK || token == NULL)
			break;
	}
	rtc_debug(s3->ctx, S3, "listed s3://%s/%s: %zu objects in %zu pages",
	    bucket, prefix ? prefix : "", total, pages);
out:
	free(token);
	rtc_buf_free(&body);
	return r;
}

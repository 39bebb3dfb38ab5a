/*
 * sigv4: the four steps of the specification, in order: canonical request
 * (method, encoded path, sorted encoded query, sorted lowercased headers
 * with folded values, signed-header list, payload hash), string to sign
 * (algorithm, date, scope, SHA-256 of the canonical request), the signing
 * key (HMAC chain over date, region, service, "aws4_request"), and the
 * signature (HMAC of the string to sign).
 *
 * The secret exists only in the caller's keys and in the first HMAC key
 * buffer here, which is wiped after use. Nothing here logs.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "error.h"
#include "hash.h"
#include "sigv4.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"
#define SIGV4_TEXT_MAX (1u << 20)

struct kv {
	char *name;
	char *value;
};

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

int
rtc_sigv4_uri_encode(const char *s, size_t n, int keep_slash,
    struct rtc_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i, run = 0;
	int r;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			run++;
			continue;
		}
		if (run > 0 && (r = rtc_buf_append(out, s + i - run, run)) != 0)
			return r;
		run = 0;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if ((r = rtc_buf_append(out, esc, 3)) != RTC_OK)
			return r;
	}
	if (run > 0)
		return rtc_buf_append(out, s + n - run, run);
	return RTC_OK;
}

void
rtc_sigv4_amz_date(time_t t, char *out)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void
rtc_sigv4_signed_free(struct rtc_sigv4_signed *s)
{
	if (s == NULL)
		return;
	free(s->target);
	free(s->authorization);
	free(s->canonical_request);
	free(s->string_to_sign);
	s->target = s->authorization = NULL;
	s->canonical_request = s->string_to_sign = NULL;
}

static void
kv_free(struct kv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
}

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static int
kv_cmp_name(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static char *
encode_dup(const char *s, int keep_slash)
{
	struct rtc_buf b;

	rtc_buf_init(&b, SIGV4_TEXT_MAX);
	if (rtc_buf_append_str(&b, "") != RTC_OK ||
	    rtc_sigv4_uri_encode(s, strlen(s), keep_slash, &b) != RTC_OK) {
		rtc_buf_free(&b);
		return NULL;
	}
	return rtc_buf_steal(&b);
}

/* A header name is an HTTP token; values carry no CR, LF or NUL. */
static int
header_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 128)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
			return 0;
	}
	return 1;
}

/* Lowercase copy of a name. */
static char *
lower_dup(const char *s)
{
	char *d = strdup(s);
	size_t i;

	if (d != NULL)
		for (i = 0; d[i] != '\0'; i++)
			d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

/* Trim and fold runs of spaces/tabs to one space. NULL on CR/LF. */
static char *
fold_value(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *d;
	int space = 0;

	if (strpbrk(s, "\r\n") != NULL)
		return NULL;
	d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			d[o++] = ' ';
		space = 0;
		d[o++] = c;
	}
	d[o] = '\0';
	return d;
}

static int
is_reserved_header(const char *lname)
{
	return strcmp(lname, "host") == 0 || strcmp(lname, "x-amz-date") == 0 ||
	    strcmp(lname, "authorization") == 0;
}

static int
hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned int olen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &olen) ==
	    NULL || olen != 32)
		return RTC_ERR_INTERNAL;
	return RTC_OK;
}

/* The signature of sts under the derived key for date8/region/service. */
static int
compute_signature(const char *secret, const char *date8, const char *region,
    const char *service, const char *sts, char hex[65])
{
	unsigned char k[32], k2[32];
	size_t slen = strlen(secret);
	char *first;
	int r;

	first = malloc(slen + 5);
	if (first == NULL)
		return RTC_ERR_NOMEM;
	memcpy(first, "AWS4", 4);
	memcpy(first + 4, secret, slen + 1);
	r = hmac_sha256(first, slen + 4, date8, strlen(date8), k);
	OPENSSL_cleanse(first, slen + 4);
	free(first);
	if (r == RTC_OK)
		r = hmac_sha256(k, 32, region, strlen(region), k2);
	if (r == RTC_OK)
		r = hmac_sha256(k2, 32, service, strlen(service), k);
	if (r == RTC_OK)
		r = hmac_sha256(k, 32, "aws4_request", 12, k2);
	if (r == RTC_OK)
		r = hmac_sha256(k2, 32, sts, strlen(sts), k);
	if (r == RTC_OK)
		rtc_hex_encode(k, 32, hex);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(k2, sizeof(k2));
	return r;
}

static int
valid_scope_part(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/*
 * The common core. When expires > 0 this is a presign: the X-Amz-*
 * parameters join the query and the payload is UNSIGNED-PAYLOAD.
 */
static int
sign_common(const struct rtc_sigv4_req *req, const struct rtc_sigv4_keys *keys,
    long expires, struct rtc_sigv4_signed *out, char **cause)
{
	struct kv q[RTC_SIGV4_MAX_PARAMS + 8], h[RTC_SIGV4_MAX_HEADERS + 4];
	size_t nq = 0, nh = 0, i, j;
	struct rtc_buf cr, sts, tmp;
	char date[17], date8[9], sig[65], hexhash[65], expires_s[24];
	const char *payload;
	char *scope = NULL, *signed_headers = NULL, *cred = NULL;
	int r = RTC_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	rtc_buf_init(&cr, SIGV4_TEXT_MAX);
	rtc_buf_init(&sts, SIGV4_TEXT_MAX);
	rtc_buf_init(&tmp, SIGV4_TEXT_MAX);
	if (req == NULL || keys == NULL || req->method == NULL ||
	    req->host == NULL || req->path == NULL || req->path[0] != '/' ||
	    keys->access_key == NULL || keys->secret_key == NULL ||
	    keys->access_key[0] == '\0' || strpbrk(req->host, "\r\n /") ||
	    strchr(keys->access_key, '/') != NULL) {
		rtc_cause_set(cause, "sigv4: incomplete or malformed request");
		r = RTC_ERR_INVAL;
		goto out;
	}
	if (!valid_scope_part(req->region) || !valid_scope_part(req->service)) {
		rtc_cause_set(cause, "sigv4: bad region or service name");
		r = RTC_ERR_INVAL;
		goto out;
	}
	if (req->nquery > RTC_SIGV4_MAX_PARAMS ||
	    req->nheaders > RTC_SIGV4_MAX_HEADERS) {
		rtc_cause_set(cause, "sigv4: too many parameters or headers");
		r = RTC_ERR_INVAL;
		goto out;
	}
	for (i = 0; req->method[i] != '\0'; i++)
		if (!isupper((unsigned char)req->method[i])) {
			rtc_cause_set(cause, "sigv4: bad method");
			r = RTC_ERR_INVAL;
			goto out;
		}
	rtc_sigv4_amz_date(req->when, date);
	memcpy(date8, date, 8);
	date8[8] = '\0';
	payload = expires > 0 ? RTC_SIGV4_UNSIGNED_PAYLOAD :
	    req->payload_hash != NULL ? req->payload_hash : RTC_SIGV4_EMPTY_SHA256;
	if (strlen(payload) > 64 || strpbrk(payload, "\r\n") != NULL) {
		rtc_cause_set(cause, "sigv4: bad payload hash");
		r = RTC_ERR_INVAL;
		goto out;
	}

	/* the scope and, for presigning, the credential */
	if (rtc_buf_printf(&tmp, "%s/%s/%s/aws4_request", date8, req->region,
	    req->service) != RTC_OK)
		goto out;
	scope = rtc_buf_steal(&tmp);
	if (scope == NULL)
		goto out;

	/* headers: host, x-amz-date, then the rest */
	h[nh].name = strdup("host");
	h[nh++].value = strdup(req->host);
	if (expires <= 0) {
		h[nh].name = strdup("x-amz-date");
		h[nh++].value = strdup(date);
		if (req->s3) {
			h[nh].name = strdup("x-amz-content-sha256");
			h[nh++].value = strdup(payload);
		}
		if (keys->session_token != NULL && keys->session_token[0]) {
			h[nh].name = strdup("x-amz-security-token");
			h[nh++].value = fold_value(keys->session_token);
		}
	}
	for (i = 0; i < nh; i++)
		if (h[i].name == NULL || h[i].value == NULL) {
			r = RTC_ERR_NOMEM;
			goto out;
		}
	for (i = 0; i < req->nheaders; i++) {
		const struct rtc_sigv4_header *x = &req->headers[i];
		char *ln, *v;

		if (!header_name_ok(x->name) || x->value == NULL) {
			rtc_cause_set(cause, "sigv4: bad header name");
			r = RTC_ERR_INVAL;
			goto out;
		}
		ln = lower_dup(x->name);
		if (ln == NULL)
			goto out;
		if (is_reserved_header(ln) || (req->s3 && expires <= 0 &&
		    strcmp(ln, "x-amz-content-sha256") == 0)) {
			rtc_cause_set(cause, "sigv4: header %s is set by the "
			    "signer", ln);
			free(ln);
			r = RTC_ERR_INVAL;
			goto out;
		}
		v = fold_value(x->value);
		if (v == NULL) {
			free(ln);
			rtc_cause_set(cause, "sigv4: header %s has a line break",
			    x->name);
			r = RTC_ERR_INVAL;
			goto out;
		}
		/* merge a repeated name into the first, in order */
		for (j = 0; j < nh; j++)
			if (strcmp(h[j].name, ln) == 0)
				break;
		if (j < nh) {
			size_t a = strlen(h[j].value), b = strlen(v);
			char *m = realloc(h[j].value, a + b + 2);

			free(ln);
			if (m == NULL) {
				free(v);
				goto out;
			}
			m[a] = ',';
			memcpy(m + a + 1, v, b + 1);
			h[j].value = m;
			free(v);
		} else {
			h[nh].name = ln;
			h[nh++].value = v;
		}
	}
	qsort(h, nh, sizeof(h[0]), kv_cmp_name);
	for (i = 0; i < nh; i++)
		if (rtc_buf_printf(&tmp, "%s%s", i ? ";" : "", h[i].name) !=
		    RTC_OK)
			goto out;
	signed_headers = rtc_buf_steal(&tmp);
	if (signed_headers == NULL)
		goto out;

	/* query: encode, add presign parameters, sort */
	for (i = 0; i < req->nquery; i++) {
		const struct rtc_sigv4_param *p = &req->query[i];

		if (p->name == NULL) {
			r = RTC_ERR_INVAL;
			rtc_cause_set(cause, "sigv4: query parameter without a name");
			goto out;
		}
		q[nq].name = encode_dup(p->name, 0);
		q[nq].value = encode_dup(p->value ? p->value : "", 0);
		nq++;
		if (q[nq - 1].name == NULL || q[nq - 1].value == NULL)
			goto out;
	}
	if (expires > 0) {
		if (rtc_buf_printf(&tmp, "%s/%s", keys->access_key, scope) !=
		    RTC_OK)
			goto out;
		cred = rtc_buf_steal(&tmp);
		snprintf(expires_s, sizeof(expires_s), "%ld", expires);
		{
			const char *add[][2] = {
				{ "X-Amz-Algorithm", SIGV4_ALGO },
				{ "X-Amz-Credential", cred },
				{ "X-Amz-Date", date },
				{ "X-Amz-Expires", expires_s },
				{ "X-Amz-SignedHeaders", signed_headers },
				{ "X-Amz-Security-Token", keys->session_token },
			};

			for (i = 0; i < 6; i++) {
				if (add[i][1] == NULL || add[i][1][0] == '\0')
					continue;
				q[nq].name = encode_dup(add[i][0], 0);
				q[nq].value = encode_dup(add[i][1], 0);
				nq++;
				if (q[nq - 1].name == NULL ||
				    q[nq - 1].value == NULL)
					goto out;
			}
		}
	}
	qsort(q, nq, sizeof(q[0]), kv_cmp);

	/* the canonical request; the target is its path and query */
	if (rtc_buf_printf(&cr, "%s\n", req->method) != RTC_OK ||
	    rtc_sigv4_uri_encode(req->path, strlen(req->path), 1, &cr) !=
	    RTC_OK)
		goto out;
	if (rtc_buf_append(&tmp, cr.data + strlen(req->method) + 1,
	    cr.len - strlen(req->method) - 1) != RTC_OK)
		goto out;
	if (rtc_buf_append_str(&cr, "\n") != RTC_OK)
		goto out;
	for (i = 0; i < nq; i++) {
		if (rtc_buf_printf(&cr, "%s%s=%s", i ? "&" : "", q[i].name,
		    q[i].value) != RTC_OK ||
		    rtc_buf_printf(&tmp, "%s%s=%s", i ? "&" : "?", q[i].name,
		    q[i].value) != RTC_OK)
			goto out;
	}
	if (rtc_buf_append_str(&cr, "\n") != RTC_OK)
		goto out;
	for (i = 0; i < nh; i++)
		if (rtc_buf_printf(&cr, "%s:%s\n", h[i].name, h[i].value) !=
		    RTC_OK)
			goto out;
	if (rtc_buf_printf(&cr, "\n%s\n%s", signed_headers, payload) != RTC_OK)
		goto out;

	/* string to sign and signature */
	if (rtc_sha256_hex(cr.data, cr.len, hexhash) != RTC_OK) {
		r = RTC_ERR_INTERNAL;
		goto out;
	}
	if (rtc_buf_printf(&sts, SIGV4_ALGO "\n%s\n%s\n%s", date, scope,
	    hexhash) != RTC_OK)
		goto out;
	r = compute_signature(keys->secret_key, date8, req->region,
	    req->service, sts.data, sig);
	if (r != RTC_OK) {
		rtc_cause_set(cause, "sigv4: HMAC failed");
		goto out;
	}
	r = RTC_ERR_NOMEM;
	if (expires > 0) {
		if (rtc_buf_printf(&tmp, "%sX-Amz-Signature=%s",
		    nq > 0 ? "&" : "?", sig) != RTC_OK)
			goto out;
	} else {
		struct rtc_buf a;

		rtc_buf_init(&a, SIGV4_TEXT_MAX);
		if (rtc_buf_printf(&a, SIGV4_ALGO " Credential=%s/%s, "
		    "SignedHeaders=%s, Signature=%s", keys->access_key, scope,
		    signed_headers, sig) != RTC_OK) {
			rtc_buf_free(&a);
			goto out;
		}
		out->authorization = rtc_buf_steal(&a);
		if (out->authorization == NULL)
			goto out;
	}
	out->target = rtc_buf_steal(&tmp);
	out->canonical_request = rtc_buf_steal(&cr);
	out->string_to_sign = rtc_buf_steal(&sts);
	if (out->target == NULL || out->canonical_request == NULL ||
	    out->string_to_sign == NULL)
		goto out;
	memcpy(out->amz_date, date, sizeof(out->amz_date));
	memcpy(out->signature, sig, sizeof(out->signature));
	out->payload_hash = payload;
	r = RTC_OK;
out:
	if (r != RTC_OK) {
		rtc_sigv4_signed_free(out);
		if (r == RTC_ERR_NOMEM && cause != NULL && *cause == NULL)
			rtc_cause_set(cause, "sigv4: out of memory");
	}
	kv_free(q, nq);
	kv_free(h, nh);
	free(scope);
	free(signed_headers);
	free(cred);
	rtc_buf_free(&cr);
	rtc_buf_free(&sts);
	rtc_buf_free(&tmp);
	return r;
}

int
rtc_sigv4_sign(const struct rtc_sigv4_req *req,
    const struct rtc_sigv4_keys *keys, struct rtc_sigv4_signed *out,
    char **cause)
{
	return sign_common(req, keys, 0, out, cause);
}

int
rtc_sigv4_presign(const struct rtc_sigv4_req *req,
    const struct rtc_sigv4_keys *keys, long expires, char **target,
    char **cause)
{
	struct rtc_sigv4_signed s;
	int r;

	if (expires < 1 || expires > 604800) {
		rtc_cause_set(cause, "sigv4: expiry must be 1..604800 s");
		return RTC_ERR_INVAL;
	}
	r = sign_common(req, keys, expires, &s, cause);
	if (r != RTC_OK)
		return r;
	*target = s.target;
	s.target = NULL;
	rtc_sigv4_signed_free(&s);
	return RTC_OK;
}

/*
 * sigv4: AWS Signature Version 4, written against the specification with
 * OpenSSL's SHA-256 and HMAC. Header authorisation and presigned URLs.
 *
 * The signer owns URI encoding: callers hand it the raw (unencoded) path
 * and query parameters, and it returns the encoded request target that
 * was signed, so what is sent is exactly what was signed. Paths follow S3's
 * rules (encoded once, '/' kept, never normalised); query names and values
 * are encoded strictly (only A-Z a-z 0-9 - _ . ~ stay as they are) and
 * sorted by encoded name, then encoded value.
 */
#ifndef RTC_SIGV4_H
#define RTC_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define RTC_SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define RTC_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define RTC_SIGV4_MAX_PARAMS 64
#define RTC_SIGV4_MAX_HEADERS 32

struct rtc_sigv4_param {
	const char *name;     /* raw bytes, not encoded */
	const char *value;    /* raw bytes; NULL or "" for "name=" */
};

struct rtc_sigv4_header {
	const char *name;     /* any case; signed lowercased */
	const char *value;    /* trimmed and inner runs of spaces folded */
};

struct rtc_sigv4_req {
	const char *method;        /* "GET", "PUT", ... */
	const char *host;          /* the Host header: "host" or "host:port" */
	const char *path;          /* raw, starts with '/' ("/bucket/a b.txt") */
	const struct rtc_sigv4_param *query;
	size_t nquery;
	const struct rtc_sigv4_header *headers;   /* extra signed headers */
	size_t nheaders;
	const char *payload_hash;  /* hex SHA-256 or RTC_SIGV4_UNSIGNED_PAYLOAD;
	                            * NULL means the empty body's hash */
	const char *region;        /* "us-east-1" */
	const char *service;       /* "s3" */
	time_t when;               /* signing time (UTC seconds) */
	int s3;                    /* add and sign x-amz-content-sha256 */
};

struct rtc_sigv4_keys {
	const char *access_key;
	const char *secret_key;
	const char *session_token;   /* NULL when none */
};

/* What rtc_sigv4_sign() hands back. Free with rtc_sigv4_signed_free(). */
struct rtc_sigv4_signed {
	char *target;              /* encoded "path[?query]" to send */
	char *authorization;       /* the Authorization header's value */
	char amz_date[17];         /* "20150830T123600Z" for x-amz-date */
	char signature[65];
	char *canonical_request;   /* holds no secret; for tests and debug */
	char *string_to_sign;
	const char *payload_hash;  /* as signed (borrowed from the request) */
};

/*
 * Sign a request for header authorisation. The request must then carry
 * Host, x-amz-date (amz_date), x-amz-content-sha256 when req->s3, and
 * x-amz-security-token when keys->session_token, besides the extra
 * headers. IN: req, keys (borrowed). OUT: *out (fields allocated; free
 * with rtc_sigv4_signed_free). RET: RTC_OK, RTC_ERR_INVAL (bad request:
 * *cause says why), RTC_ERR_NOMEM, RTC_ERR_INTERNAL (OpenSSL failed).
 */
int rtc_sigv4_sign(const struct rtc_sigv4_req *req,
    const struct rtc_sigv4_keys *keys, struct rtc_sigv4_signed *out,
    char **cause);

/* Release the fields of a signed result; the struct itself is the
 * caller's. Safe on a zeroed struct. */
void rtc_sigv4_signed_free(struct rtc_sigv4_signed *s);

/*
 * Presign a request into a URL target: the X-Amz-* query parameters are
 * added to req's query (payload UNSIGNED-PAYLOAD, only host signed unless
 * req->headers says more). IN: expires, seconds (1..604800). OUT: *target,
 * the encoded "path?query" (malloc'd, caller frees). RET: as for
 * rtc_sigv4_sign.
 */
int rtc_sigv4_presign(const struct rtc_sigv4_req *req,
    const struct rtc_sigv4_keys *keys, long expires, char **target,
    char **cause);

/*
 * Append the SigV4 URI encoding of s[0..n) to out: unreserved bytes
 * (A-Z a-z 0-9 - _ . ~) as they are, '/' as it is when keep_slash, every
 * other byte as %XX with upper-case hex. RET: RTC_OK or the buffer's error.
 */
int rtc_sigv4_uri_encode(const char *s, size_t n, int keep_slash,
    struct rtc_buf *out);

/* Format t as "YYYYMMDDTHHMMSSZ" into out (at least 17 bytes). */
void rtc_sigv4_amz_date(time_t t, char *out);

#endif

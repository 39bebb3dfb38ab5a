/*
 * fuzz_s3: S3's answers as lib/s3 parses them: a ListObjectsV2 page
 * (rtc_s3_page_parse) and an <Error> body (rtc_s3_error_parse,
 * rtc_s3_status_error), and ETags (rtc_s3_etag_md5).
 *
 * Invariants: what a page yields is within the caps (keys 1..1024 bytes,
 * no NUL in a decoded key, sizes >= 0, a truncated page has a token);
 * and a page written back out, every key URL-encoded, parses to the same
 * objects (the decoding is exact). Seeds: tests/fuzz/corpus/s3.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "s3.h"

#include "fuzz_common.h"

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~' || c == '/';
}

static size_t
encoded_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += unreserved((unsigned char)*s) ? 1 : 3;
	return n;
}

/* Percent-encode every byte but the unreserved ones. */
static int
put_encoded(struct rtc_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = RTC_OK;

	for (; *s != '\0' && r == RTC_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c))
			r = rtc_buf_append(b, s, 1);
		else
			r = rtc_buf_printf(b, "%%%c%c", hex[c >> 4],
			    hex[c & 15]);
	}
	return r;
}

static int
kept(const struct rtc_s3_object *o)
{
	return !o->unsafe_name && encoded_len(o->key) <= RTC_S3_KEY_MAX;
}

/* The page again as S3 would send it (url encoding); keys that would
 * grow past S3's own key limit once encoded are left out. */
static void
round_trip(const struct rtc_s3_page *p)
{
	struct rtc_s3_page q;
	struct rtc_buf b;
	char *cause = NULL;
	size_t i;
	int r;

	rtc_buf_init(&b, 0);
	r = rtc_buf_append_str(&b, "<?xml version=\"1.0\"?><ListBucketResult>"
	    "<EncodingType>url</EncodingType>");
	for (i = 0; i < p->n && r == RTC_OK; i++) {
		if (!kept(&p->objs[i]))
			continue;
		r = rtc_buf_append_str(&b, "<Contents><Key>");
		r = r ? r : put_encoded(&b, p->objs[i].key);
		r = r ? r : rtc_buf_printf(&b, "</Key><Size>%lld</Size>"
		    "</Contents>", p->objs[i].size);
	}
	r = r ? r : rtc_buf_append_str(&b, "</ListBucketResult>");
	FUZZ_CHECK(r == RTC_OK);
	r = rtc_s3_page_parse(b.data, b.len, &q, &cause);
	FUZZ_CHECK(r == RTC_OK);
	{
		size_t k = 0;

		for (i = 0; i < p->n; i++) {
			if (!kept(&p->objs[i]))
				continue;
			FUZZ_CHECK(k < q.n);
			FUZZ_CHECK(!q.objs[k].unsafe_name);
			FUZZ_CHECK(strcmp(q.objs[k].key, p->objs[i].key) == 0);
			FUZZ_CHECK(q.objs[k].size == p->objs[i].size);
			k++;
		}
		FUZZ_CHECK(k == q.n);
	}
	rtc_s3_page_free(&q);
	rtc_buf_free(&b);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct rtc_s3_page p;
	char *cause = NULL, code[64], msg[256], md5[33];
	size_t i;
	int r;

	r = rtc_s3_page_parse(text, size, &p, &cause);
	if (r == RTC_OK) {
		FUZZ_CHECK(!p.truncated || (p.next_token != NULL &&
		    p.next_token[0] != '\0'));
		for (i = 0; i < p.n; i++) {
			const struct rtc_s3_object *o = &p.objs[i];

			FUZZ_CHECK(o->key != NULL && o->key[0] != '\0');
			FUZZ_CHECK(o->unsafe_name ||
			    strlen(o->key) <= RTC_S3_KEY_MAX);
			FUZZ_CHECK(o->size >= 0);
			FUZZ_CHECK(o->etag != NULL && o->last_modified != NULL);
			if (rtc_s3_etag_md5(o->etag, md5))
				FUZZ_CHECK(strlen(md5) == 32);
		}
		for (i = 0; i < p.nprefixes; i++)
			FUZZ_CHECK(p.prefixes[i] != NULL);
		round_trip(&p);
		rtc_s3_page_free(&p);
	} else {
		FUZZ_CHECK(r == RTC_ERR_FORMAT || r == RTC_ERR_TOO_BIG ||
		    r == RTC_ERR_NOMEM);
	}
	free(cause);
	cause = NULL;

	if (rtc_s3_error_parse(text, size, code, sizeof(code), msg,
	    sizeof(msg)))
		FUZZ_CHECK(strlen(code) < sizeof(code) &&
		    strlen(msg) < sizeof(msg));
	r = rtc_s3_status_error(503, "fuzz", text, size, &cause);
	FUZZ_CHECK(r == RTC_ERR_UNAVAILABLE && cause != NULL);
	free(cause);

	/* an ETag header value */
	if (size < 256) {
		char etag[256];

		memcpy(etag, data, size);
		etag[size] = '\0';
		if (rtc_s3_etag_md5(etag, md5))
			for (i = 0; i < 32; i++)
				FUZZ_CHECK(strchr("0123456789abcdef",
				    md5[i]) != NULL);
	}
	return 0;
}

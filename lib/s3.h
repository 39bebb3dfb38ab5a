/*
 * s3: an S3 client on lib/http and lib/sigv4. Listing (ListObjectsV2,
 * paginated, parsed with libxml2 under size caps), verified resumable
 * downloads of many objects at once (s3_get.c), and uploads: PUT and
 * multipart with per-part retries (s3_put.c).
 *
 * Endpoint: the option, $RTC_S3_ENDPOINT, rtc.conf s3.endpoint, else
 * AWS (https://s3.REGION.amazonaws.com). A configured endpoint is always
 * addressed path-style (http://host:port/bucket/key); on AWS, buckets
 * whose names hold dots (openneuro.org) are too, others virtual-host
 * style. Anonymous clients send unsigned requests.
 */
#ifndef RTC_S3_H
#define RTC_S3_H

#include <stddef.h>

#include "creds.h"
#include "ctx.h"
#include "http.h"
#include "sigv4.h"

#define RTC_S3_PAGE_MAX (16 * 1024 * 1024)   /* bytes of one listing page */
#define RTC_S3_PAGE_KEYS_MAX 100000          /* entries of one page */
#define RTC_S3_KEY_MAX 1024                  /* bytes of a key (S3's own) */
#define RTC_S3_LIST_MAX 20000000             /* objects of one listing */

struct rtc_s3;

struct rtc_s3_opts {
	const char *endpoint;     /* NULL: from the environment or rtc.conf */
	int retries;              /* tries per request; 0: 8 */
	long backoff_ms;          /* first backoff; 0: 200 ms */
	long backoff_max_ms;      /* backoff cap; 0: 10 s */
};

/*
 * IN: ctx, http (borrowed: the connection pool to use), creds (borrowed;
 * must outlive the client), o (NULL: defaults). OUT: *out, freed with
 * rtc_s3_free(). RET: RTC_OK, RTC_ERR_INVAL (a malformed endpoint URL,
 * *cause says which), RTC_ERR_NOMEM.
 */
int rtc_s3_new(struct rtc_ctx *ctx, struct rtc_http *http,
    const struct rtc_creds *creds, const struct rtc_s3_opts *o,
    struct rtc_s3 **out, char **cause);
void rtc_s3_free(struct rtc_s3 *s3);

/* RET: the endpoint in use ("https://s3.us-east-1.amazonaws.com"). */
const char *rtc_s3_endpoint(const struct rtc_s3 *s3);

/* RET: the http pool the client uses (borrowed). */
struct rtc_http *rtc_s3_http(const struct rtc_s3 *s3);

/*
 * The URL and headers for one request, signed when the client has
 * credentials. IN: method, bucket, key (raw; "" for the bucket itself),
 * query params (raw), extra headers (signed and sent), payload_hash
 * (NULL: empty body; RTC_SIGV4_UNSIGNED_PAYLOAD allowed). OUT: *url and
 * *headers (a NULL-terminated array of "Name: value" lines), both freed
 * with rtc_s3_request_free(). RET: RTC_OK or the signer's error.
 */
int rtc_s3_request(struct rtc_s3 *s3, const char *method, const char *bucket,
    const char *key, const struct rtc_sigv4_param *query, size_t nquery,
    const struct rtc_sigv4_header *extra, size_t nextra,
    const char *payload_hash, char **url, char ***headers, char **cause);
void rtc_s3_request_free(char *url, char **headers);

/* ---- listing ---- */

struct rtc_s3_object {
	const char *key;           /* decoded; see unsafe_name */
	int unsafe_name;           /* the key held a NUL or a bad escape:
	                            * key shows it still encoded */
	long long size;
	const char *etag;          /* without quotes; "" when absent */
	const char *last_modified; /* as sent; "" when absent */
};

/* One parsed ListObjectsV2 page (exposed for tests). */
struct rtc_s3_page {
	struct rtc_s3_object *objs;
	size_t n;
	char **prefixes;           /* CommonPrefixes, when a delimiter was used */
	size_t nprefixes;
	int truncated;
	char *next_token;          /* NULL when absent */
};

/*
 * Parse a ListObjectsV2 result; keys are decoded when it carries
 * <EncodingType>url</EncodingType> ('+' is a space). RET: RTC_OK; RTC_ERR_TOO_BIG past the
 * caps above; RTC_ERR_FORMAT for malformed XML, an <Error> document, a
 * bad size, or a truncated page without a continuation token.
 */
int rtc_s3_page_parse(const char *xml, size_t len, struct rtc_s3_page *out,
    char **cause);
void rtc_s3_page_free(struct rtc_s3_page *p);

/* RET: RTC_OK to go on, or an error that stops the listing (returned). */
typedef int (*rtc_s3_list_fn)(void *arg, const struct rtc_s3_object *o);

/*
 * List every object under prefix, page by page (1000 keys a page, flat
 * unless delimiter is given; keys asked for with encoding-type=url so any
 * byte survives the XML, and decoded when the server says it encoded), each page retried with backoff on network
 * errors and 5xx. IN: bucket, prefix ("" for all), delimiter (NULL for a
 * flat listing), fn/arg called for each object in key order.
 * RET: RTC_OK, the callback's error, RTC_ERR_NOT_FOUND (no such bucket),
 * RTC_ERR_AUTH (403), RTC_ERR_TOO_BIG (RTC_S3_LIST_MAX), network errors.
 */
int rtc_s3_list(struct rtc_s3 *s3, const char *bucket, const char *prefix,
    const char *delimiter, rtc_s3_list_fn fn, void *arg, char **cause);

/*
 * The code and message of an S3 <Error> body. OUT: code, msg (cut to
 * their sizes; "" when absent). RET: nonzero when it was an <Error>.
 */
int rtc_s3_error_parse(const char *body, size_t len, char *code,
    size_t codesz, char *msg, size_t msgsz);

/* OUT: md5 (33 bytes, lowercase) when etag ("..." or bare) is a plain
 * MD5, as for single-part uploads. RET: nonzero when it is. */
int rtc_s3_etag_md5(const char *etag, char *md5);

/* RET: the error for an unexpected HTTP status, with *cause naming the
 * what, the status and S3's code and message from body. */
int rtc_s3_status_error(long status, const char *what, const char *body,
    size_t len, char **cause);

/* ---- downloads (s3_get.c) ---- */

struct rtc_dl_item {
	/* in */
	char *key;            /* S3 key, fetched through the client, or */
	char *url;            /* a full URL, fetched unsigned */
	char *rel;            /* destination, relative to the target dir;
	                       * must satisfy rtc_fs_safe_relpath() */
	long long size;       /* expected size, -1 unknown */
	char md5[33];         /* expected MD5 (hex) or "" */
	char sha256[65];      /* expected SHA-256 (hex) or "" */
	/* out */
	int status;           /* RTC_OK when present and verified */
	char *cause;          /* why not, malloc'd, or NULL */
	char got_md5[33];     /* of the file on disk */
	char got_sha256[65];  /* computed when sha256 was expected */
	long long got_size;
	long long got_mtime_ns; /* of the file put in place, 0 unknown */
	int attempts;         /* requests made */
	long long fetched;    /* bytes received for it */
	int resumed;          /* a partial file was continued */
};

struct rtc_dl_opts {
	const char *dir;          /* target directory (made if needed) */
	const char *part_dir;     /* partial files; same filesystem as dir */
	const char *bucket;       /* for items with a key */
	int jobs;                 /* concurrent transfers; 0: 16 */
	int threads;              /* worker threads sharing them; 0: two
	                           * per CPU, from 4 to 8 */
	const char *ca_file;      /* for the workers' pools; NULL: system */
	int retries;              /* tries without progress; 0: 8 */
	long backoff_ms;          /* 0: 200 */
	long backoff_max_ms;      /* 0: 10000 */
	/* each received chunk (bytes) and each finished item (item != NULL);
	 * called from worker threads, but never two at once */
	void (*on_progress)(void *arg, long long bytes,
	    const struct rtc_dl_item *done);
	void (*on_tick)(void *arg);   /* about ten times a second, from the
	                               * thread in rtc_dl_wait() */
	void *arg;
};

/* Free an item's fields (not the item). */
void rtc_dl_item_clear(struct rtc_dl_item *it);

/*
 * Fetch items into o->dir, at most o->jobs at a time, shared by worker
 * threads (o->threads), each with its own bounded keep-alive pool. Each body streams to a partial file in o->part_dir
 * (named by a hash of rel), resuming with a Range request from what an
 * earlier run or attempt left, and is renamed into place only after its
 * size and checksums (expected MD5/SHA-256, else a single-part ETag's
 * MD5) match. HTML pages and {"error": ...} bodies sent with 2xx are
 * errors. Retries use jittered exponential backoff; attempts that made
 * progress do not count against o->retries.
 * RET: RTC_OK when every item is present and verified; RTC_ERR_CANCELLED
 * when ctx->stop was set (partials stay for the next run); otherwise
 * the first failure's error, with *cause counting the failures; each
 * item's status and cause say what happened to it.
 */
int rtc_s3_download(struct rtc_s3 *s3, struct rtc_dl_item *items, size_t n,
    const struct rtc_dl_opts *o, char **cause);

/*
 * The same, item by item, so that downloads can start while a listing is
 * still coming in: the worker threads start with rtc_dl_new() and take
 * items as rtc_dl_add() queues them; rtc_dl_wait() says there are no more
 * and waits for the rest. Items are borrowed: they must stay where they
 * are until rtc_dl_free(), which also aborts what still runs (partials
 * stay). RET: as for rtc_s3_download().
 */
struct rtc_dl;
int rtc_dl_new(struct rtc_s3 *s3, const struct rtc_dl_opts *o,
    struct rtc_dl **out, char **cause);
int rtc_dl_add(struct rtc_dl *dl, struct rtc_dl_item *it);
int rtc_dl_wait(struct rtc_dl *dl, char **cause);
/* Abort what is in flight (partials stay) and free. NULL is a no-op. */
void rtc_dl_free(struct rtc_dl *dl);

/*
 * The partial-file path for rel under part_dir. OUT: *out (malloc'd).
 */
int rtc_dl_part_path(const char *part_dir, const char *rel, char **out);

/* ---- uploads (s3_put.c) ---- */

struct rtc_s3_put_opts {
	long long part_size;      /* multipart part size; 0: 8 MiB (min 5) */
	long long threshold;      /* multipart from this size; 0: 64 MiB */
	int jobs;                 /* parts in flight; 0: 4 */
	const char *content_type; /* NULL: none sent */
};

/*
 * Upload a file to bucket/key: one PUT below the threshold, else a
 * multipart upload whose parts are retried one by one (with backoff) and
 * which is aborted when a part or the completion fails for good. Payloads
 * are signed with their SHA-256; part ETags are checked against their
 * MD5. RET: RTC_OK, RTC_ERR_IO (reading the file), RTC_ERR_AUTH, network
 * or protocol errors with *cause.
 */
int rtc_s3_put_file(struct rtc_s3 *s3, const char *bucket, const char *key,
    const char *path, const struct rtc_s3_put_opts *o, char **cause);

/* Upload a buffer with one PUT (small objects: manifests, logs). */
int rtc_s3_put_buffer(struct rtc_s3 *s3, const char *bucket, const char *key,
    const void *data, size_t len, const char *content_type, char **cause);

#endif

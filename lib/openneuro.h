/*
 * openneuro: datasets by accession number. The snapshot (latest, or a
 * given tag) and its files (paths, sizes, download URLs, git-annex keys
 * that carry a SHA-256) come from OpenNeuro's GraphQL API
 * ($RTC_OPENNEURO_URL, rtc.conf openneuro.url, default
 * https://openneuro.org/crn/graphql), folder by folder. Errors that the
 * API reports inside an HTTP 200 body are errors; timeouts and gateway
 * errors (also when reported inside a 200) are retried with backoff.
 * When the API stays unreachable, the listing falls back to the public
 * S3 bucket (openneuro.org, prefix dsNNNNNN/) with a warning; the bucket
 * holds the latest snapshot, so a requested tag is checked against the
 * DatasetDOI of its dataset_description.json.
 */
#ifndef RTC_OPENNEURO_H
#define RTC_OPENNEURO_H

#include <stddef.h>

#include <jansson.h>

#include "ctx.h"
#include "http.h"
#include "s3.h"

#define RTC_OPENNEURO_URL "https://openneuro.org/crn/graphql"
#define RTC_OPENNEURO_BUCKET "openneuro.org"
#define RTC_OPENNEURO_RESPONSE_MAX (64 * 1024 * 1024)
#define RTC_OPENNEURO_FILES_MAX 5000000

struct rtc_on_ref {
	char id[16];          /* "ds000001" */
	char tag[64];         /* "1.0.0", or "" for the latest */
};

/*
 * Parse "dsNNNNNN" or "dsNNNNNN:TAG" (six digits; a tag of letters,
 * digits, '.', '-', '_', '+'). OUT: *out. RET: RTC_OK or RTC_ERR_INVAL.
 */
int rtc_openneuro_parse_ref(const char *s, struct rtc_on_ref *out,
    char **cause);

/* RET: nonzero when s looks like an accession ("ds" and six digits). */
int rtc_openneuro_is_ref(const char *s);

struct rtc_on_file {
	char *path;           /* relative to the dataset root */
	long long size;       /* -1 unknown */
	char *url;            /* GraphQL's download URL, or NULL (S3 key) */
	char *key;            /* the S3 key (fallback listing), or NULL */
	char md5[33];         /* "" unknown */
	char sha256[65];      /* "" unknown */
};

struct rtc_on_listing {
	char id[16];
	char tag[64];         /* "" when the fallback could not tell */
	char doi[128];        /* "" when tag is */
	const char *via;      /* "graphql" or "s3-listing" */
	struct rtc_on_file *files;
	size_t n;
	size_t cap;
	size_t dirs_skipped;  /* folders not listed (want_dir said no) */
	char **unsafe;        /* names that would land outside the dataset,
	                       * skipped (printable copies) */
	size_t nunsafe;
	size_t emitted;       /* files handed to on_file */
};

struct rtc_on_opts {
	const char *url;         /* NULL: $RTC_OPENNEURO_URL, rtc.conf, default */
	int retries;             /* GraphQL tries per query; 0: rtc.conf
	                          * openneuro.retries, else 5 */
	long backoff_ms;         /* 0: rtc.conf openneuro.backoff_ms, else
	                          * 500 */
	long backoff_max_ms;     /* 0: 8000 */
	long timeout_ms;         /* per query; 0: 60 s */
	int no_fallback;         /* fail instead of listing the bucket */
	const char *bucket;      /* NULL: openneuro.org */
	/* folders to list (relative, no trailing '/'); NULL: all */
	int (*want_dir)(void *arg, const char *dir);
	void *arg;
	/* with the bucket fallback: list only these subtrees (and the
	 * top-level files) instead of the whole dataset; NULL: all */
	const char *const *subtrees;
	size_t nsubtrees;
	/* each file as soon as its folder is listed (so downloads can start
	 * early); the struct is borrowed for the call. RET: RTC_OK, or an
	 * error that stops the listing. Once a file went out this way, a
	 * failing API is an error, not a reason to list the bucket. */
	int (*on_file)(void *arg, const struct rtc_on_file *f);
	void *arg_file;
};

/*
 * Resolve a snapshot and list its files, folders queried several at a
 * time. IN: http (the pool), s3 (a
 * client for the fallback; may be NULL: no fallback), ref, o.
 * OUT: *out, freed with rtc_openneuro_listing_free(). RET: RTC_OK;
 * RTC_ERR_NOT_FOUND (no such dataset or tag), RTC_ERR_AUTH, RTC_ERR_PROTO
 * (an error reported by the API, *cause quotes it), RTC_ERR_UNAVAILABLE
 * (unreachable and no fallback), RTC_ERR_TOO_BIG.
 */
int rtc_openneuro_list(struct rtc_ctx *ctx, struct rtc_http *http,
    struct rtc_s3 *s3, const struct rtc_on_ref *ref,
    const struct rtc_on_opts *o, struct rtc_on_listing **out, char **cause);
void rtc_openneuro_listing_free(struct rtc_on_listing *l);

/*
 * A git-annex key "SHA256E-s1234--<64 hex>.nii.gz" (or SHA256, MD5E, MD5).
 * OUT: sha256/md5 (the other left as is), *size. RET: nonzero when the
 * key carried a checksum.
 */
int rtc_openneuro_annex_key(const char *key, char *sha256, char *md5,
    long long *size);

/*
 * The first error of a GraphQL response document, if any. OUT: msg.
 * *retry: nonzero for gateway errors and timeouts worth retrying.
 * RET: nonzero when the document reports an error.
 */
int rtc_openneuro_gql_error(json_t *doc, char *msg, size_t msgsz,
    int *retry);

/*
 * Add the files of one "files" array (a snapshot folder) to l, under
 * folder base ("" for the root); folders go to dirs as {path, id} pairs
 * (a JSON array the caller owns). RET: RTC_OK, RTC_ERR_FORMAT (a malformed
 * entry or an unsafe name, *cause says which), RTC_ERR_TOO_BIG.
 */
int rtc_openneuro_add_files(struct rtc_on_listing *l, json_t *files,
    const char *base, json_t *dirs, char **cause);

#endif

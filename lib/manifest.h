/*
 * manifest: what a fetch pinned, in DIR/.rtc/manifest.json: the source,
 * for OpenNeuro the accession, snapshot tag and DOI
 * (10.18112/openneuro.dsNNNNNN.v<tag>), and every file fetched with its
 * size, MD5, SHA-256 when known, and the modification time it had when it
 * was verified (so a later run can trust an unchanged file without
 * reading it again).
 *
 *   { "rtc_manifest": 1, "source": "ds000001:1.0.0",
 *     "accession": "ds000001", "tag": "1.0.0",
 *     "doi": "10.18112/openneuro.ds000001.v1.0.0",
 *     "resolved_via": "graphql", "updated": "2026-...Z",
 *     "files": { "sub-01/anat/sub-01_T1w.nii.gz":
 *                { "size": 123, "md5": "...", "mtime_ns": 17... } } }
 */
#ifndef RTC_MANIFEST_H
#define RTC_MANIFEST_H

#include <jansson.h>

#define RTC_MANIFEST_MAX_BYTES (512L * 1024 * 1024)

struct rtc_manifest;

struct rtc_manifest_file {
	long long size;
	const char *md5;        /* "" when unknown */
	const char *sha256;     /* "" when unknown */
	long long mtime_ns;     /* 0 when unknown */
};

/* RET: a new, empty manifest, or NULL. Free with rtc_manifest_free(). */
struct rtc_manifest *rtc_manifest_new(void);
void rtc_manifest_free(struct rtc_manifest *m);

/*
 * Read DIR/.rtc/manifest.json. A missing file gives an empty manifest.
 * OUT: *out. RET: RTC_OK, RTC_ERR_FORMAT (not a manifest: *cause says
 * why), RTC_ERR_TOO_BIG, RTC_ERR_IO.
 */
int rtc_manifest_load(const char *dir, struct rtc_manifest **out,
    char **cause);

/* Write DIR/.rtc/manifest.json atomically (temp file, fsync, rename). */
int rtc_manifest_save(struct rtc_manifest *m, const char *dir, char **cause);

/* Set a top-level string ("source", "accession", "tag", "doi",
 * "resolved_via", "endpoint"); NULL removes it. RET: RTC_OK or NOMEM. */
int rtc_manifest_set(struct rtc_manifest *m, const char *key,
    const char *value);

/* RET: a top-level string (borrowed), or NULL. */
const char *rtc_manifest_get(const struct rtc_manifest *m, const char *key);

/* OUT: *f (strings borrowed from m). RET: RTC_OK or RTC_ERR_NOT_FOUND
 * (also for an entry of the wrong shape). */
int rtc_manifest_file_get(const struct rtc_manifest *m, const char *rel,
    struct rtc_manifest_file *f);

/* Add or replace an entry. RET: RTC_OK or RTC_ERR_NOMEM. */
int rtc_manifest_file_put(struct rtc_manifest *m, const char *rel,
    const struct rtc_manifest_file *f);

/* RET: the number of file entries. */
size_t rtc_manifest_nfiles(const struct rtc_manifest *m);

/* The DOI of an OpenNeuro snapshot. OUT: out. RET: out. */
char *rtc_manifest_doi(const char *accession, const char *tag, char *out,
    size_t outsz);

#endif

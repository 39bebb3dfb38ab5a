/*
 * manifest: a jansson object kept in memory and written whole. Reading
 * validates the shape (it is a file on disk anyone could have edited):
 * entries of the wrong type read as absent, never crash. Writing uses
 * rtc_fs_write_atomic with fsync, sorted keys and one file per line.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"

struct rtc_manifest {
	json_t *root;
	json_t *files;       /* borrowed from root */
};

struct rtc_manifest *
rtc_manifest_new(void)
{
	struct rtc_manifest *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->root = json_object();
	m->files = json_object();
	if (m->root == NULL || m->files == NULL ||
	    json_object_set_new(m->root, "rtc_manifest", json_integer(1)) ||
	    json_object_set(m->root, "files", m->files)) {
		json_decref(m->files);
		json_decref(m->root);
		free(m);
		return NULL;
	}
	json_decref(m->files);     /* root holds it */
	return m;
}

void
rtc_manifest_free(struct rtc_manifest *m)
{
	if (m == NULL)
		return;
	json_decref(m->root);
	free(m);
}

static char *
manifest_path(const char *dir)
{
	size_t n = strlen(dir) + 32;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/.rtc/manifest.json", dir);
	return p;
}

int
rtc_manifest_load(const char *dir, struct rtc_manifest **out, char **cause)
{
	struct rtc_manifest *m;
	char *path, *text = NULL;
	json_error_t jerr;
	json_t *root, *files;
	size_t len;
	int r;

	path = manifest_path(dir);
	if (path == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_fs_read_file(path, RTC_MANIFEST_MAX_BYTES, &text, &len, cause);
	if (r == RTC_ERR_NOT_FOUND) {
		free(path);
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		m = rtc_manifest_new();
		if (m == NULL)
			return RTC_ERR_NOMEM;
		*out = m;
		return RTC_OK;
	}
	if (r != RTC_OK) {
		free(path);
		return r;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (root == NULL || !json_is_object(root) ||
	    json_integer_value(json_object_get(root, "rtc_manifest")) != 1 ||
	    !json_is_object(json_object_get(root, "files"))) {
		rtc_cause_set(cause, "%s: not an rtc manifest%s%s", path,
		    root == NULL ? ": " : "", root == NULL ? jerr.text : "");
		json_decref(root);
		free(path);
		return RTC_ERR_FORMAT;
	}
	free(path);
	files = json_object_get(root, "files");
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		json_decref(root);
		return RTC_ERR_NOMEM;
	}
	m->root = root;
	m->files = files;
	*out = m;
	return RTC_OK;
}

int
rtc_manifest_save(struct rtc_manifest *m, const char *dir, char **cause)
{
	char stamp[40], rtcdir[4096], *path, *text;
	int r;

	rtc_clock_iso8601(rtc_clock_wall(), stamp, sizeof(stamp));
	if (json_object_set_new(m->root, "updated", json_string(stamp)) != 0)
		return RTC_ERR_NOMEM;
	if ((size_t)snprintf(rtcdir, sizeof(rtcdir), "%s/.rtc", dir) >=
	    sizeof(rtcdir))
		return RTC_ERR_TOO_BIG;
	if ((r = rtc_fs_mkdir_p(rtcdir, 0755, cause)) != RTC_OK)
		return r;
	path = manifest_path(dir);
	text = json_dumps(m->root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (path == NULL || text == NULL) {
		free(path);
		free(text);
		return RTC_ERR_NOMEM;
	}
	r = rtc_fs_write_atomic(path, text, strlen(text), 0644, 1, cause);
	free(path);
	free(text);
	return r;
}

int
rtc_manifest_set(struct rtc_manifest *m, const char *key, const char *value)
{
	if (value == NULL) {
		json_object_del(m->root, key);
		return RTC_OK;
	}
	return json_object_set_new(m->root, key, json_string(value)) == 0 ?
	    RTC_OK : RTC_ERR_NOMEM;
}

const char *
rtc_manifest_get(const struct rtc_manifest *m, const char *key)
{
	return json_string_value(json_object_get(m->root, key));
}

int
rtc_manifest_file_get(const struct rtc_manifest *m, const char *rel,
    struct rtc_manifest_file *f)
{
	json_t *e = json_object_get(m->files, rel), *v;

	if (!json_is_object(e))
		return RTC_ERR_NOT_FOUND;
	v = json_object_get(e, "size");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return RTC_ERR_NOT_FOUND;
	f->size = json_integer_value(v);
	f->md5 = json_string_value(json_object_get(e, "md5"));
	f->sha256 = json_string_value(json_object_get(e, "sha256"));
	if (f->md5 == NULL || strlen(f->md5) != 32)
		f->md5 = "";
	if (f->sha256 == NULL || strlen(f->sha256) != 64)
		f->sha256 = "";
	v = json_object_get(e, "mtime_ns");
	f->mtime_ns = json_is_integer(v) ? json_integer_value(v) : 0;
	return RTC_OK;
}

int
rtc_manifest_file_put(struct rtc_manifest *m, const char *rel,
    const struct rtc_manifest_file *f)
{
	json_t *e = json_object();

	if (e == NULL)
		return RTC_ERR_NOMEM;
	if (json_object_set_new(e, "size", json_integer(f->size)) != 0 ||
	    (f->md5 != NULL && f->md5[0] &&
	    json_object_set_new(e, "md5", json_string(f->md5)) != 0) ||
	    (f->sha256 != NULL && f->sha256[0] &&
	    json_object_set_new(e, "sha256", json_string(f->sha256)) != 0) ||
	    (f->mtime_ns > 0 &&
	    json_object_set_new(e, "mtime_ns", json_integer(f->mtime_ns)) !=
	    0)) {
		json_decref(e);
		return RTC_ERR_NOMEM;
	}
	/* set_new takes the reference even when it fails */
	return json_object_set_new(m->files, rel, e) == 0 ? RTC_OK :
	    RTC_ERR_NOMEM;
}

size_t
rtc_manifest_nfiles(const struct rtc_manifest *m)
{
	return json_object_size(m->files);
}

char *
rtc_manifest_doi(const char *accession, const char *tag, char *out,
    size_t outsz)
{
	snprintf(out, outsz, "10.18112/openneuro.%s.v%s", accession, tag);
	return out;
}

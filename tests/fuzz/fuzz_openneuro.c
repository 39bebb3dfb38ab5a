/*
 * fuzz_openneuro: OpenNeuro's GraphQL answers as lib/openneuro reads
 * them: the document's error (rtc_openneuro_gql_error), a snapshot's
 * "files" list (rtc_openneuro_add_files, folder by folder as the walk
 * does it: the folders one answer names are the bases of the next), the
 * git-annex keys inside, and accession references.
 *
 * Invariants: every file or folder kept is a safe relative path (no "..",
 * no absolute path, nothing outside the dataset), with an http(s) URL;
 * checksums are lowercase hex; the unsafe names are counted, not kept.
 * Seeds: tests/fuzz/corpus/openneuro.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "fsutil.h"
#include "openneuro.h"

#include "fuzz_common.h"

static int
hex_or_empty(const char *s, size_t n)
{
	size_t i;

	if (s[0] == '\0')
		return 1;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return s[n] == '\0';
}

static void
check_listing(const struct rtc_on_listing *l, json_t *dirs)
{
	size_t i;
	json_t *d;

	for (i = 0; i < l->n; i++) {
		const struct rtc_on_file *f = &l->files[i];

		FUZZ_CHECK(f->path != NULL);
		FUZZ_CHECK(rtc_fs_safe_relpath(f->path, strlen(f->path)));
		FUZZ_CHECK(f->url != NULL && (strncmp(f->url, "http://", 7) == 0 ||
		    strncmp(f->url, "https://", 8) == 0));
		FUZZ_CHECK(hex_or_empty(f->md5, 32));
		FUZZ_CHECK(hex_or_empty(f->sha256, 64));
	}
	json_array_foreach(dirs, i, d) {
		const char *p = json_string_value(json_object_get(d, "path"));

		FUZZ_CHECK(p != NULL && rtc_fs_safe_relpath(p, strlen(p)));
		FUZZ_CHECK(json_is_string(json_object_get(d, "id")));
	}
	for (i = 0; i < l->nunsafe; i++) {
		size_t k;

		for (k = 0; l->unsafe[i][k] != '\0'; k++)
			FUZZ_CHECK((unsigned char)l->unsafe[i][k] >= 32 &&
			    l->unsafe[i][k] != 127);
	}
}

/* The strings of a document, to try as annex keys and references. */
static void
strings(json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > 8)
		return;
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		char sha[65] = "", md5[33] = "";
		long long size = -2;
		struct rtc_on_ref ref;

		if (rtc_openneuro_annex_key(s, sha, md5, &size)) {
			FUZZ_CHECK(hex_or_empty(sha, 64) && hex_or_empty(md5, 32));
			FUZZ_CHECK(sha[0] != '\0' || md5[0] != '\0');
		}
		if (rtc_openneuro_parse_ref(s, &ref, NULL) == RTC_OK)
			FUZZ_CHECK(strlen(ref.id) == 8 &&
			    rtc_openneuro_is_ref(ref.id));
		return;
	}
	json_object_foreach(j, k, v)
		strings(v, depth + 1);
	json_array_foreach(j, i, v)
		strings(v, depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_on_listing *l;
	json_t *doc, *dirs, *snap, *files;
	char msg[512], *cause = NULL;
	size_t i;
	int retry, r;

	/* as gql_interpret reads an answer */
	doc = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
	if (doc == NULL)
		return 0;
	if (rtc_openneuro_gql_error(doc, msg, sizeof(msg), &retry))
		FUZZ_CHECK(strlen(msg) < sizeof(msg));
	strings(doc, 0);
	l = calloc(1, sizeof(*l));
	dirs = json_array();
	FUZZ_CHECK(l != NULL && dirs != NULL);
	snprintf(l->id, sizeof(l->id), "ds000001");
	snap = json_object_get(json_object_get(doc, "data"), "snapshot");
	files = json_object_get(snap, "files");
	r = rtc_openneuro_add_files(l, files, "", dirs, &cause);
	free(cause);
	cause = NULL;
	/* each folder's answer is taken to be the same document again, as a
	 * hostile API could answer */
	for (i = 0; r == RTC_OK && i < json_array_size(dirs) && i < 8; i++) {
		const char *base = json_string_value(json_object_get(
		    json_array_get(dirs, i), "path"));

		FUZZ_CHECK(base != NULL);
		r = rtc_openneuro_add_files(l, files, base, dirs, &cause);
		free(cause);
		cause = NULL;
	}
	/* a listing with an error is thrown away whole */
	if (r == RTC_OK)
		check_listing(l, dirs);
	rtc_openneuro_listing_free(l);
	json_decref(dirs);
	json_decref(doc);
	return 0;
}

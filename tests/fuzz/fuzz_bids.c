/*
 * fuzz_bids: BIDS file names and sidecars from a dataset (a listing or a
 * download from anywhere): rtc_bids_name_parse / _format / _set, entity
 * matching, and the sidecar inheritance (rtc_bids_sidecar_resolve) over a
 * small dataset holding the input's sidecar at two levels.
 *
 * Input: a file name, a newline, then the sidecar's bytes.
 * Invariants: a parsed name has valid keys and labels and formats to a
 * name that parses to the same entities, suffix and extension; the
 * resolved metadata is an object, from sidecars that apply only.
 * Seeds: tests/fuzz/corpus/bids.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bids.h"
#include "error.h"
#include "fsutil.h"

#include "fuzz_common.h"

#define DATA_REL "sub-01/func/sub-01_task-rest_run-1_bold.nii.gz"

static char root[4096], func[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(root, sizeof(root), "%s/ds", fuzz_dir());
	snprintf(func, sizeof(func), "%s/sub-01/func", root);
	if (rtc_fs_mkdir_p(func, 0700, NULL) != RTC_OK)
		abort();
	fuzz_put(root, "dataset_description.json", "{}", 2);
	fuzz_put(func, "sub-01_task-rest_run-1_bold.nii.gz", "", 0);
	return 0;
}

static int
same_name(const struct rtc_bids_name *a, const struct rtc_bids_name *b)
{
	int i;

	if (a->n != b->n || strcmp(a->suffix, b->suffix) != 0 ||
	    strcmp(a->ext, b->ext) != 0)
		return 0;
	for (i = 0; i < a->n; i++) {
		const char *v = rtc_bids_name_get(b, a->ent[i].key);

		if (v == NULL || strcmp(v, a->ent[i].value) != 0)
			return 0;
	}
	return 1;
}

static void
names(const char *base)
{
	struct rtc_bids_name n, m;
	char out[2048];
	int i;

	if (rtc_bids_name_parse(base, &n, NULL) != RTC_OK)
		return;
	FUZZ_CHECK(n.n >= 0 && n.n <= RTC_BIDS_MAX_ENTITIES);
	for (i = 0; i < n.n; i++) {
		FUZZ_CHECK(rtc_bids_label_valid(n.ent[i].value));
		FUZZ_CHECK(n.ent[i].key[0] != '\0');
		FUZZ_CHECK(rtc_bids_value_match(n.ent[i].key, n.ent[i].value,
		    n.ent[i].value));
		(void)rtc_bids_entity_rank(n.ent[i].key);
	}
	FUZZ_CHECK(rtc_bids_name_format(&n, out, sizeof(out)) == RTC_OK);
	FUZZ_CHECK(rtc_bids_name_parse(out, &m, NULL) == RTC_OK);
	FUZZ_CHECK(same_name(&n, &m));
	/* setting an entity it has, or a new one */
	m = n;
	if (rtc_bids_name_set(&m, "run", "2") == RTC_OK)
		FUZZ_CHECK(strcmp(rtc_bids_name_get(&m, "run"), "2") == 0);
	FUZZ_CHECK(rtc_bids_value_match("run", "1", "01"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *part[2], *cause = NULL, path[8192];
	size_t len[2];
	struct rtc_bids_name n;
	json_t *meta = NULL;
	int placed = 0, r;

	fuzz_split(data, size, '\n', part, len, 2);
	names(part[0]);
	/* the sidecar at the root, and at the run's folder under the input's
	 * name when that is a file name */
	fuzz_put(root, "task-rest_bold.json", part[1], len[1]);
	if (len[0] > 0 && len[0] < 200 && strlen(part[0]) == len[0] &&
	    strchr(part[0], '/') == NULL && part[0][0] != '.' &&
	    rtc_bids_name_parse(part[0], &n, NULL) == RTC_OK &&
	    strcmp(n.ext, ".json") == 0) {
		fuzz_put(func, part[0], part[1], len[1]);
		placed = 1;
	}
	r = rtc_bids_sidecar_resolve(root, DATA_REL, &meta, &cause);
	if (r == RTC_OK) {
		FUZZ_CHECK(json_is_object(meta));
		json_decref(meta);
	} else {
		FUZZ_CHECK(meta == NULL);
	}
	free(cause);
	if (placed) {
		snprintf(path, sizeof(path), "%s/%s", func, part[0]);
		(void)unlink(path);
	}
	fuzz_parts_free(part, 2);
	return 0;
}

/*
 * fuzz_participants: what rtc_bids_layout_scan reads of a dataset that
 * came from elsewhere: dataset_description.json and participants.tsv,
 * in a dataset that also has participant and session folders.
 *
 * Input: the description's bytes, a NUL byte, then participants.tsv.
 * Invariants: participants are unique, sorted, with valid labels, each
 * found by rtc_bids_layout_find, each from a folder or the TSV; files and
 * sessions lie under their participant. Seeds:
 * tests/fuzz/corpus/participants.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bids.h"
#include "bids_layout.h"
#include "error.h"
#include "fsutil.h"

#include "fuzz_common.h"

static char root[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[] = {
		"sub-01/anat/sub-01_T1w.nii.gz",
		"sub-01/func/sub-01_task-rest_bold.nii.gz",
		"sub-02/ses-a/func/sub-02_ses-a_task-rest_bold.nii.gz",
		"sub-02/ses-b/anat/sub-02_ses-b_T1w.nii.gz",
		"sub-x_y/anat/bad.nii.gz",
		NULL
	};
	char path[8192], *slash;
	int i;

	(void)argc;
	(void)argv;
	snprintf(root, sizeof(root), "%s/ds", fuzz_dir());
	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		slash = strrchr(path, '/');
		*slash = '\0';
		if (rtc_fs_mkdir_p(path, 0700, NULL) != RTC_OK)
			abort();
		fuzz_put(path, slash + 1, "x", 1);
	}
	return 0;
}

static void
check(const struct rtc_bids_layout *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		const struct rtc_bids_participant *p = &l->p[i];
		char pre[RTC_BIDS_MAX_LABEL + 8];

		FUZZ_CHECK(rtc_bids_label_valid(p->label));
		FUZZ_CHECK(p->has_dir || p->in_tsv);
		if (i > 0)
			FUZZ_CHECK(strcmp(l->p[i - 1].label, p->label) < 0);
		FUZZ_CHECK(rtc_bids_layout_find(l, p->label) == p);
		snprintf(pre, sizeof(pre), "sub-%s/", p->label);
		for (k = 0; k < p->nfiles; k++)
			FUZZ_CHECK(strncmp(p->files[k].path, pre,
			    strlen(pre)) == 0);
		for (k = 0; k < p->nsessions; k++) {
			FUZZ_CHECK(rtc_bids_label_valid(p->sessions[k].label));
			FUZZ_CHECK(p->sessions[k].first + p->sessions[k].nfiles <=
			    p->nfiles);
		}
	}
	FUZZ_CHECK(l->name != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_bids_layout *l = NULL;
	char *part[2], *cause = NULL;
	size_t len[2];
	int r;

	fuzz_split(data, size, '\0', part, len, 2);
	fuzz_put(root, "dataset_description.json", part[0], len[0]);
	fuzz_put(root, "participants.tsv", part[1], len[1]);
	r = rtc_bids_layout_scan(root, &l, &cause);
	if (r == RTC_OK) {
		check(l);
		rtc_bids_layout_free(l);
	} else {
		FUZZ_CHECK(r == RTC_ERR_FORMAT || r == RTC_ERR_NOMEM ||
		    r == RTC_ERR_TOO_BIG);
	}
	free(cause);
	fuzz_parts_free(part, 2);
	return 0;
}

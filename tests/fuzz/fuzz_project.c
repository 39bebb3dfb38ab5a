/*
 * fuzz_project: a realtime project's project.toml (projects are shared
 * between labs and copied from others) as rtc_project_parse validates it,
 * in a project directory that holds a mask, an events file, weights and
 * an analysis program; then the feedback measures it names, computed
 * over a few records.
 *
 * Invariants: counts stay within their arrays; every resolved path is
 * absolute; names fit; the feedback value is NaN or within the clip
 * range. Seeds: tests/fuzz/corpus/project.
 */
#include "rtc_build.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "feedback.h"
#include "project.h"

#include "fuzz_common.h"

static char *proj_dir;

static void
free_proj_dir(void)
{
	free(proj_dir);
	proj_dir = NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/project", fuzz_dir());
	if (mkdir(path, 0700) != 0)
		abort();
	fuzz_put(path, "mask.nii", "x", 1);
	fuzz_put(path, "events.tsv", "onset\tduration\n", 15);
	fuzz_put(path, "weights.nii", "x", 1);
	fuzz_put(path, "analysis.sh", "#!/bin/sh\n", 10);
	snprintf(path, sizeof(path), "%s/project/analysis.sh", fuzz_dir());
	if (chmod(path, 0755) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/project/sub", fuzz_dir());
	if (mkdir(path, 0700) != 0)
		abort();
	fuzz_put(path, "roi.nii", "x", 1);
	snprintf(path, sizeof(path), "%s/project", fuzz_dir());
	proj_dir = realpath(path, NULL);
	if (proj_dir == NULL)
		abort();
	atexit(free_proj_dir);
	return 0;
}

static void
check_path(const char *p)
{
	if (p == NULL)
		return;
	FUZZ_CHECK(p[0] == '/');
	FUZZ_CHECK(strlen(p) < PATH_MAX);
}

static void
check_name(const char *s)
{
	size_t n = strlen(s);

	FUZZ_CHECK(n < RTC_PROJ_NAME_MAX);
}

static void
check(const struct rtc_project *p)
{
	int i, k;

	FUZZ_CHECK(p->n_run_num >= 0 && p->n_run_num <= RTC_PROJ_MAX_LIST);
	FUZZ_CHECK(p->n_scan_num >= 0 && p->n_scan_num <= RTC_PROJ_MAX_LIST);
	FUZZ_CHECK(p->intake.n_allow >= 0 &&
	    p->intake.n_allow <= RTC_PROJ_MAX_ALLOW);
	FUZZ_CHECK(p->pipeline.n_blocks >= 0 &&
	    p->pipeline.n_blocks <= RTC_PROJ_MAX_BLOCKS);
	FUZZ_CHECK(p->pipeline.n_conditions >= 0 &&
	    p->pipeline.n_conditions <= RTC_PROJ_MAX_CONDITIONS);
	FUZZ_CHECK(p->pipeline.n_contrasts >= 0 &&
	    p->pipeline.n_contrasts <= RTC_PROJ_MAX_CONTRASTS);
	FUZZ_CHECK(p->pipeline.n_rois >= 0 &&
	    p->pipeline.n_rois <= RTC_PROJ_MAX_ROIS);
	check_path(p->pipeline.reference_path);
	check_path(p->pipeline.mask);
	check_path(p->pipeline.events);
	check_path(p->pipeline.classifier.weights);
	check_path(p->analysis.plugin);
	for (i = 0; i < p->pipeline.n_rois; i++) {
		check_name(p->pipeline.rois[i].name);
		check_path(p->pipeline.rois[i].mask);
		FUZZ_CHECK(rtc_project_roi_index(p, p->pipeline.rois[i].name) ==
		    i);
	}
	for (i = 0; i < p->pipeline.n_contrasts; i++) {
		const struct rtc_proj_contrast *c = &p->pipeline.contrasts[i];

		check_name(c->name);
		FUZZ_CHECK(c->n >= 1 && c->n <= RTC_PROJ_MAX_CONDITIONS);
		for (k = 0; k < c->n; k++)
			FUZZ_CHECK(isfinite(c->weight[k]));
	}
	for (i = 0; i < p->pipeline.n_blocks; i++)
		check_name(p->pipeline.blocks[i].condition);
	if (p->analysis.argv != NULL) {
		FUZZ_CHECK(p->analysis.argc >= 1 &&
		    p->analysis.argc <= RTC_PROJ_MAX_ARGV);
		for (i = 0; i < p->analysis.argc; i++)
			FUZZ_CHECK(p->analysis.argv[i] != NULL);
		FUZZ_CHECK(p->analysis.argv[p->analysis.argc] == NULL);
	}
	FUZZ_CHECK(p->feedback.smooth_vols >= 1 &&
	    p->feedback.smooth_vols <= RTC_PROJ_MAX_SMOOTH);
}

/* The feedback over a few records with every ROI measure set. */
static void
feedback(const struct rtc_project *p)
{
	static const char *const stats[] = { "mean", "psc", "z" };
	struct rtc_proj_fbstate st;
	struct rtc_fb_record r;
	char name[64];
	int v, i, k;

	rtc_project_fbstate_init(&st);
	for (v = 0; v < 70; v++) {
		double x;

		rtc_fb_record_init(&r);
		r.vol = v + 1;
		r.fd = v * 0.01;
		r.decision = v % 3 - 1.0;
		for (i = 0; i < p->pipeline.n_rois; i++)
			for (k = 0; k < 3; k++) {
				snprintf(name, sizeof(name), "%s.%s",
				    p->pipeline.rois[i].name, stats[k]);
				(void)rtc_fb_record_set_roi(&r, name, v * 1.5);
			}
		(void)rtc_fb_record_set_value(&r, "classifier.prob", 0.5);
		x = rtc_project_feedback(p, &st, &r);
		if (p->feedback.clip && !isnan(x))
			FUZZ_CHECK(x >= p->feedback.clip_lo &&
			    x <= p->feedback.clip_hi);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_project *p = NULL;
	char *cause = NULL;
	int r;

	r = rtc_project_parse((const char *)data, size, "project.toml",
	    proj_dir, &p, &cause);
	free(cause);
	if (r != RTC_OK) {
		FUZZ_CHECK(p == NULL);
		return 0;
	}
	check(p);
	feedback(p);
	rtc_project_free(p);
	return 0;
}

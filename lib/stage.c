/*
 * stage: a thin layer over rtc_fetch(). The stage directory is named
 * after the source so that a second submit of the same dataset reuses
 * what is there (fetch re-verifies and downloads only what is missing or
 * wrong). Participant selection becomes anchored include patterns
 * ("/sub-01"); OpenNeuro fetches add the dataset's top-level files by
 * themselves, S3 prefixes get a pattern for every top-level file name
 * with a dot in it.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bids.h"
#include "config.h"
#include "error.h"
#include "fetch.h"
#include "fsutil.h"
#include "openneuro.h"
#include "stage.h"

int
rtc_stage_is_remote(const char *dataset)
{
	if (dataset == NULL || rtc_fs_is_dir(dataset))
		return 0;
	return rtc_openneuro_is_ref(dataset) || strncmp(dataset, "s3://", 5) == 0;
}

static char *
default_root(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char buf[4096];

	if (xdg != NULL && *xdg == '/')
		snprintf(buf, sizeof(buf), "%s/rtc/datasets", xdg);
	else if (home != NULL && *home == '/')
		snprintf(buf, sizeof(buf), "%s/.cache/rtc/datasets", home);
	else
		snprintf(buf, sizeof(buf), "/tmp/rtc-datasets");
	return strdup(buf);
}

/* The stage's folder name under the root. RET: malloc'd or NULL with
 * *cause. */
static char *
stage_name(const char *dataset, char **cause)
{
	char name[1024];
	const char *p;
	size_t n;

	if (rtc_openneuro_is_ref(dataset)) {
		snprintf(name, sizeof(name), "%.8s", dataset);
		return strdup(name);
	}
	p = dataset + 5;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || n > 900) {
		rtc_cause_set(cause, "%s: not s3://bucket[/prefix]", dataset);
		return NULL;
	}
	snprintf(name, sizeof(name), "s3/%.*s", (int)n, p);
	if (!rtc_fs_safe_relpath(name, strlen(name))) {
		rtc_cause_set(cause, "%s: the bucket or prefix has an unsafe "
		    "path component", dataset);
		return NULL;
	}
	return strdup(name);
}

void
rtc_stage_result_clear(struct rtc_stage_result *res)
{
	if (res == NULL)
		return;
	free(res->dir);
	free(res->url);
	free(res->doi);
	memset(res, 0, sizeof(*res));
}

int
rtc_stage_dataset(struct rtc_ctx *ctx, const struct rtc_stage_opts *o,
    struct rtc_stage_result *res, char **cause)
{
	static const char *const skip[] = { "/sourcedata", "/derivatives" };
	struct rtc_fetch_opts fo;
	struct rtc_fetch_stats st;
	struct rtc_stage_result out;
	char **inc = NULL, *root = NULL, *name = NULL, url[1200];
	size_t i, ninc = 0;
	int r, accession = rtc_openneuro_is_ref(o->dataset);

	memset(&out, 0, sizeof(out));
	if (!accession && strncmp(o->dataset, "s3://", 5) != 0) {
		rtc_cause_set(cause, "%s: not dsNNNNNN[:TAG] or s3://bucket/prefix",
		    o->dataset);
		return RTC_ERR_INVAL;
	}
	if (o->root == NULL) {
		const char *v = NULL;

		r = rtc_config_string(ctx->conf, "batch.stage", &v, cause);
		if (r != RTC_OK && r != RTC_ERR_NOT_FOUND)
			goto out;
		root = r == RTC_OK ? strdup(v) : default_root();
	} else {
		root = strdup(o->root);
	}
	if ((name = stage_name(o->dataset, cause)) == NULL) {
		r = RTC_ERR_INVAL;
		goto out;
	}
	inc = calloc(o->nlabels + 2, sizeof(*inc));
	if (root == NULL || inc == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < o->nlabels; i++) {
		if (!rtc_bids_label_valid(o->labels[i])) {
			rtc_cause_set(cause, "participant label '%s' is not "
			    "letters and digits", o->labels[i]);
			r = RTC_ERR_INVAL;
			goto out;
		}
		if (asprintf(&inc[ninc++], "/sub-%s", o->labels[i]) < 0) {
			inc[--ninc] = NULL;
			r = RTC_ERR_NOMEM;
			goto out;
		}
	}
	if (ninc > 0 && !accession && (inc[ninc++] = strdup("/*.*")) == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	if (asprintf(&out.dir, "%s/%s", root, name) < 0) {
		out.dir = NULL;
		r = RTC_ERR_NOMEM;
		goto out;
	}
	memset(&fo, 0, sizeof(fo));
	fo.source = o->dataset;
	fo.dir = out.dir;
	fo.include = (const char *const *)inc;
	fo.ninclude = ninc;
	fo.exclude = ninc == 0 ? skip : NULL;
	fo.nexclude = ninc == 0 ? sizeof(skip) / sizeof(skip[0]) : 0;
	fo.jobs = o->jobs;
	fo.progress = o->progress;
	memset(&st, 0, sizeof(st));
	r = rtc_fetch(ctx, &fo, &st, cause);
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "fetching %s into %s", o->dataset, out.dir);
		goto out;
	}
	if (accession && st.tag[0] != '\0')
		snprintf(url, sizeof(url),
		    "https://openneuro.org/datasets/%.8s/versions/%s",
		    o->dataset, st.tag);
	else
		snprintf(url, sizeof(url), "%s", o->dataset);
	out.url = strdup(url);
	out.doi = st.doi[0] != '\0' ? strdup(st.doi) : NULL;
	if (out.url == NULL || (st.doi[0] != '\0' && out.doi == NULL)) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	out.files = st.files;
	out.fetched = st.fetched;
	*res = out;
	memset(&out, 0, sizeof(out));
	r = RTC_OK;
out:
	rtc_stage_result_clear(&out);
	for (i = 0; inc != NULL && i < ninc; i++)
		free(inc[i]);
	free(inc);
	free(root);
	free(name);
	return r;
}

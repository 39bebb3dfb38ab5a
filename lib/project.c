/*
 * project: design notes (the format is in rtc-project(5), the structure
 * in project.h).
 *
 * TOML goes through lib/config (libcpptoml -> jansson); this file only
 * walks the tree. Each table is first checked against its list of known
 * keys (rtc_config_check_keys, so an unknown key is named), then each key
 * is read with a typed helper that also checks the range and says which
 * key was wrong in the message ("pipeline.roi[2].radius_mm: ..."). Values
 * absent keep the defaults set before parsing.
 *
 * Strings stay in the jansson tree (p->root lives as long as p); resolved
 * paths and argv are the only allocations of their own.
 */
#include "rtc_build.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "project.h"

#ifndef RTC_PKGDATADIR
#define RTC_PKGDATADIR "/usr/local/share/rtc"
#endif

/* ---- typed lookups with range checks ---------------------------------- */

/* prefix.key (or key) into buf. */
static const char *
kname(char *buf, size_t n, const char *prefix, const char *key)
{
	if (prefix != NULL && *prefix != '\0')
		snprintf(buf, n, "%s.%s", prefix, key);
	else
		snprintf(buf, n, "%s", key);
	return buf;
}

static int
bad(char **cause, const char *key, const char *what)
{
	rtc_cause_set(cause, "%s: %s", key, what);
	return RTC_ERR_INVAL;
}

static int
get_str(json_t *t, const char *prefix, const char *key, const char **out,
    size_t maxlen, char **cause)
{
	json_t *v = json_object_get(t, key);
	char k[160];

	if (v == NULL)
		return RTC_OK;
	kname(k, sizeof(k), prefix, key);
	if (!json_is_string(v))
		return bad(cause, k, "expected a string");
	if (json_string_length(v) > maxlen) {
		rtc_cause_set(cause, "%s: longer than %zu characters", k, maxlen);
		return RTC_ERR_INVAL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(cause, k, "contains a NUL character");
	*out = json_string_value(v);
	return RTC_OK;
}

static int
get_int(json_t *t, const char *prefix, const char *key, long long lo,
    long long hi, int *out, char **cause)
{
	json_t *v = json_object_get(t, key);
	char k[160];
	long long x;

	if (v == NULL)
		return RTC_OK;
	kname(k, sizeof(k), prefix, key);
	if (!json_is_integer(v))
		return bad(cause, k, "expected an integer");
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		rtc_cause_set(cause, "%s: %lld is out of range (%lld to %lld)", k,
		    x, lo, hi);
		return RTC_ERR_INVAL;
	}
	*out = (int)x;
	return RTC_OK;
}

static int
get_num(json_t *t, const char *prefix, const char *key, double lo, double hi,
    double *out, char **cause)
{
	json_t *v = json_object_get(t, key);
	char k[160];
	double x;

	if (v == NULL)
		return RTC_OK;
	kname(k, sizeof(k), prefix, key);
	if (!json_is_number(v))
		return bad(cause, k, "expected a number");
	x = json_number_value(v);
	if (!isfinite(x) || x < lo || x > hi) {
		rtc_cause_set(cause, "%s: %g is out of range (%g to %g)", k, x, lo,
		    hi);
		return RTC_ERR_INVAL;
	}
	*out = x;
	return RTC_OK;
}

static int
get_bool(json_t *t, const char *prefix, const char *key, int *out,
    char **cause)
{
	json_t *v = json_object_get(t, key);
	char k[160];

	if (v == NULL)
		return RTC_OK;
	if (!json_is_boolean(v))
		return bad(cause, kname(k, sizeof(k), prefix, key),
		    "expected true or false");
	*out = json_is_true(v);
	return RTC_OK;
}

/* A string that must be one of names (NULL-terminated); *out its index. */
static int
get_enum(json_t *t, const char *prefix, const char *key,
    const char *const *names, int *out, char **cause)
{
	const char *s = NULL;
	char k[160], list[256];
	size_t i, off = 0;
	int r;

	r = get_str(t, prefix, key, &s, 64, cause);
	if (r != RTC_OK || s == NULL)
		return r;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			return RTC_OK;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", names[i]);
		if (off >= sizeof(list))
			off = sizeof(list) - 1;
	}
	rtc_cause_set(cause, "%s: '%s' is not one of %s",
	    kname(k, sizeof(k), prefix, key), s, list);
	return RTC_ERR_INVAL;
}

/* The table at key (absent: NULL with RTC_OK). */
static int
get_table(json_t *t, const char *prefix, const char *key, json_t **out,
    char **cause)
{
	json_t *v = json_object_get(t, key);
	char k[160];

	*out = NULL;
	if (v == NULL)
		return RTC_OK;
	if (!json_is_object(v))
		return bad(cause, kname(k, sizeof(k), prefix, key),
		    "expected a table");
	*out = v;
	return RTC_OK;
}

/* Every key of table t must be in known; the message names the first
 * that is not, with its full dotted name. */
static int
check_keys(json_t *t, const char *prefix, const char *const *known,
    char **cause)
{
	const char *key;
	json_t *v;
	size_t i;
	char k[160];

	if (t == NULL)
		return RTC_OK;
	json_object_foreach(t, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			rtc_cause_set(cause, "%s: unknown key",
			    kname(k, sizeof(k), prefix, key));
			return RTC_ERR_INVAL;
		}
	}
	return RTC_OK;
}

/* [A-Za-z0-9_-], starting with a letter, shorter than RTC_PROJ_NAME_MAX */
static int
valid_ident(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= RTC_PROJ_NAME_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
get_ident(json_t *t, const char *prefix, const char *key, char *out,
    char **cause)
{
	const char *s = NULL;
	char k[160];
	int r = get_str(t, prefix, key, &s, 64, cause);

	if (r != RTC_OK || s == NULL)
		return r;
	if (!valid_ident(s)) {
		rtc_cause_set(cause, "%s: '%s' is not a valid name (a letter, then "
		    "letters, digits, '_' or '-', at most %d)",
		    kname(k, sizeof(k), prefix, key), s, RTC_PROJ_NAME_MAX - 1);
		return RTC_ERR_INVAL;
	}
	snprintf(out, RTC_PROJ_NAME_MAX, "%s", s);
	return RTC_OK;
}

/*
 * A file path: absolute, or relative to the project directory and not
 * leaving it. must_exist: a regular file must be there.
 */
static int
resolve(struct rtc_project *p, const char *key, const char *s, int must_exist,
    char **out, char **cause)
{
	char *path = NULL;

	if (s[0] == '/') {
		path = strdup(s);
		if (path == NULL)
			return RTC_ERR_NOMEM;
	} else {
		const char *rel = s;

		while (rel[0] == '.' && rel[1] == '/')
			rel += 2;
		if (!rtc_fs_safe_relpath(rel, strlen(rel)) ||
		    rtc_fs_join_safe(p->dir, rel, &path) != RTC_OK) {
			rtc_cause_set(cause, "%s: '%s' leaves the project "
			    "directory (use a path inside it, or an absolute "
			    "one)", key, s);
			return RTC_ERR_INVAL;
		}
	}
	if (must_exist && !rtc_fs_is_file(path)) {
		rtc_cause_set(cause, "%s: %s: no such file", key, path);
		free(path);
		return RTC_ERR_NOT_FOUND;
	}
	free(*out);
	*out = path;
	return RTC_OK;
}

static int
get_path(struct rtc_project *p, json_t *t, const char *prefix, const char *key,
    char **out, char **cause)
{
	const char *s = NULL;
	char k[160];
	int r = get_str(t, prefix, key, &s, PATH_MAX - 1, cause);

	if (r != RTC_OK || s == NULL)
		return r;
	kname(k, sizeof(k), prefix, key);
	if (*s == '\0')
		return bad(cause, k, "empty path");
	return resolve(p, k, s, 1, out, cause);
}

/* An integer or an array of integers (runNum, scanNum). */
static int
get_int_list(json_t *t, const char *key, int *out, int *n, char **cause)
{
	json_t *v = json_object_get(t, key), *e;
	size_t i;

	if (v == NULL)
		return RTC_OK;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
			return bad(cause, key, "out of range (0 to 1000000)");
		out[0] = (int)json_integer_value(v);
		*n = 1;
		return RTC_OK;
	}
	if (!json_is_array(v))
		return bad(cause, key, "expected an integer or a list of them");
	if (json_array_size(v) > RTC_PROJ_MAX_LIST)
		return bad(cause, key, "too many entries");
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > 1000000)
			return bad(cause, key, "expected integers 0 to 1000000");
		out[i] = (int)json_integer_value(e);
	}
	*n = (int)json_array_size(v);
	return RTC_OK;
}

/* ---- top level -------------------------------------------------------- */

static const char *const top_keys[] = {
	/* RT-Cloud's project configuration */
	"title", "projectName", "subjectName", "subjectNum", "subjectDay",
	"sessionId", "sessionNum", "taskName", "runNum", "scanNum", "datestr",
	"date", "plotTitle", "plotXLabel", "plotYLabel", "plotXRangeLow",
	"plotXRangeHigh", "plotYRangeLow", "plotYRangeHigh", "plotAutoRangeX",
	"plotAutoRangeY", "dicomNamePattern", "minExpectedDicomSize",
	"watchFilePattern", "trInterval", "dsAccessionNumber", "numRuns",
	"totalNumberRuns", "rtData",
	/* rtc */
	"intake", "pipeline", "feedback", "analysis", "custom", NULL
};

static int
parse_top(struct rtc_project *p, char **cause)
{
	json_t *t = p->root;
	const char *watch_pattern = NULL, *ignored = NULL;
	int r = RTC_OK, dummy = 0;

	if (check_keys(t, NULL, top_keys, cause) != RTC_OK) {
		rtc_cause_wrap(cause, "settings of a project's own code go "
		    "under [custom]");
		return RTC_ERR_INVAL;
	}
	r = r ? r : get_str(t, NULL, "title", &p->title, 200, cause);
	r = r ? r : get_str(t, NULL, "subjectName", &p->subject_name, 200, cause);
	r = r ? r : get_str(t, NULL, "sessionId", &p->session_id, 200, cause);
	r = r ? r : get_str(t, NULL, "taskName", &p->task_name, 200, cause);
	r = r ? r : get_str(t, NULL, "datestr", &p->datestr, 64, cause);
	if (r == RTC_OK && p->datestr == NULL)
		r = get_str(t, NULL, "date", &p->datestr, 64, cause);
	r = r ? r : get_str(t, NULL, "dicomNamePattern", &p->dicom_name_pattern,
	    200, cause);
	r = r ? r : get_str(t, NULL, "plotTitle", &p->plot_title, 200, cause);
	r = r ? r : get_str(t, NULL, "plotXLabel", &p->plot_x_label, 200, cause);
	r = r ? r : get_str(t, NULL, "plotYLabel", &p->plot_y_label, 200, cause);
	r = r ? r : get_str(t, NULL, "dsAccessionNumber", &p->ds_accession, 64,
	    cause);
	r = r ? r : get_str(t, NULL, "projectName", &ignored, 200, cause);
	r = r ? r : get_str(t, NULL, "watchFilePattern", &watch_pattern, 200,
	    cause);
	r = r ? r : get_int(t, NULL, "subjectNum", 0, 100000000, &p->subject_num,
	    cause);
	r = r ? r : get_int(t, NULL, "subjectDay", 0, 100000, &p->subject_day,
	    cause);
	r = r ? r : get_int(t, NULL, "sessionNum", 0, 100000, &p->session_num,
	    cause);
	r = r ? r : get_int(t, NULL, "numRuns", 0, 100000, &dummy, cause);
	r = r ? r : get_int(t, NULL, "totalNumberRuns", 0, 100000, &dummy, cause);
	r = r ? r : get_int_list(t, "runNum", p->run_num, &p->n_run_num, cause);
	r = r ? r : get_int_list(t, "scanNum", p->scan_num, &p->n_scan_num, cause);
	r = r ? r : get_num(t, NULL, "plotXRangeLow", -1e12, 1e12, &p->plot_x_low,
	    cause);
	r = r ? r : get_num(t, NULL, "plotXRangeHigh", -1e12, 1e12,
	    &p->plot_x_high, cause);
	r = r ? r : get_num(t, NULL, "plotYRangeLow", -1e12, 1e12, &p->plot_y_low,
	    cause);
	r = r ? r : get_num(t, NULL, "plotYRangeHigh", -1e12, 1e12,
	    &p->plot_y_high, cause);
	r = r ? r : get_bool(t, NULL, "plotAutoRangeX", &p->plot_auto_x, cause);
	r = r ? r : get_bool(t, NULL, "plotAutoRangeY", &p->plot_auto_y, cause);
	r = r ? r : get_bool(t, NULL, "rtData", &dummy, cause);
	r = r ? r : get_num(t, NULL, "trInterval", 0.01, 600, &p->tr_s, cause);
	if (r == RTC_OK) {
		double m = 0;

		r = get_num(t, NULL, "minExpectedDicomSize", 0, 1e10, &m, cause);
		p->min_dicom_bytes = (long long)m;
	}
	if (r == RTC_OK && watch_pattern != NULL)
		p->intake.pattern = watch_pattern;
	if (r == RTC_OK && json_object_get(t, "custom") != NULL &&
	    !json_is_object(json_object_get(t, "custom")))
		r = bad(cause, "custom", "expected a table");
	if (r == RTC_OK)
		p->custom = json_object_get(t, "custom");
	return r;
}

/* ---- [intake] --------------------------------------------------------- */

static int
parse_intake(struct rtc_project *p, char **cause)
{
	static const char *const keys[] = { "dummies", "reorder_wait_ms",
	    "queue_warn_mb", "watch", "scp", NULL };
	static const char *const wkeys[] = { "mode", "poll_ms", "stable_polls",
	    "timeout_ms", "existing", "pattern", NULL };
	static const char *const skeys[] = { "aet", "allow_calling",
	    "max_associations", "timeout_s", NULL };
	static const char *const modes[] = { "auto", "inotify", "poll", NULL };
	static const char *const existing[] = { "ignore", "process", NULL };
	json_t *t = NULL, *w = NULL, *s = NULL, *a, *e;
	int r, mode = -1;
	size_t i;

	r = get_table(p->root, NULL, "intake", &t, cause);
	if (r != RTC_OK || t == NULL)
		return r;
	r = check_keys(t, "intake", keys, cause);
	r = r ? r : get_int(t, "intake", "dummies", 0, 1000, &p->intake.dummies,
	    cause);
	r = r ? r : get_int(t, "intake", "reorder_wait_ms", 0, 60000,
	    &p->intake.reorder_wait_ms, cause);
	r = r ? r : get_int(t, "intake", "queue_warn_mb", 1, 1048576,
	    &p->intake.queue_warn_mb, cause);
	r = r ? r : get_table(t, "intake", "watch", &w, cause);
	r = r ? r : get_table(t, "intake", "scp", &s, cause);
	if (r != RTC_OK)
		return r;
	if (w != NULL) {
		r = check_keys(w, "intake.watch", wkeys, cause);
		r = r ? r : get_enum(w, "intake.watch", "mode", modes, &mode, cause);
		r = r ? r : get_int(w, "intake.watch", "poll_ms", 1, 60000,
		    &p->intake.poll_ms, cause);
		r = r ? r : get_int(w, "intake.watch", "stable_polls", 0, 100,
		    &p->intake.stable_polls, cause);
		r = r ? r : get_int(w, "intake.watch", "timeout_ms", 0, 3600000,
		    &p->intake.timeout_ms, cause);
		r = r ? r : get_enum(w, "intake.watch", "existing", existing,
		    &p->intake.process_existing, cause);
		r = r ? r : get_str(w, "intake.watch", "pattern",
		    &p->intake.pattern, 200, cause);
		if (r != RTC_OK)
			return r;
		if (mode >= 0)
			p->intake.watch_mode = (enum rtc_watch_mode)mode;
	}
	if (s != NULL) {
		r = check_keys(s, "intake.scp", skeys, cause);
		r = r ? r : get_str(s, "intake.scp", "aet", &p->intake.aet, 16,
		    cause);
		r = r ? r : get_int(s, "intake.scp", "max_associations", 1, 64,
		    &p->intake.max_associations, cause);
		r = r ? r : get_int(s, "intake.scp", "timeout_s", 1, 3600,
		    &p->intake.scp_timeout_s, cause);
		if (r != RTC_OK)
			return r;
		if (p->intake.aet != NULL && (p->intake.aet[0] == '\0' ||
		    strchr(p->intake.aet, '\\') != NULL))
			return bad(cause, "intake.scp.aet", "not a valid AE title");
		a = json_object_get(s, "allow_calling");
		if (a != NULL) {
			if (!json_is_array(a) ||
			    json_array_size(a) > RTC_PROJ_MAX_ALLOW)
				return bad(cause, "intake.scp.allow_calling",
				    "expected a list of at most 32 AE titles");
			json_array_foreach(a, i, e) {
				const char *v = json_string_value(e);

				if (v == NULL || *v == '\0' || strlen(v) > 16 ||
				    strchr(v, '\\') != NULL)
					return bad(cause,
					    "intake.scp.allow_calling",
					    "expected AE titles (1 to 16 "
					    "characters)");
				p->intake.allow[p->intake.n_allow++] = v;
			}
			p->intake.allow[p->intake.n_allow] = NULL;
		}
	}
	return RTC_OK;
}

/* ---- [pipeline] ------------------------------------------------------- */

static int
find_condition(const struct rtc_project *p, const char *name)
{
	int i;

	for (i = 0; i < p->pipeline.n_conditions; i++)
		if (strcmp(p->pipeline.conditions[i], name) == 0)
			return i;
	return -1;
}

int
rtc_project_roi_index(const struct rtc_project *p, const char *name)
{
	int i;

	for (i = 0; i < p->pipeline.n_rois; i++)
		if (strcmp(p->pipeline.rois[i].name, name) == 0)
			return i;
	return -1;
}

int
rtc_project_contrast_index(const struct rtc_project *p, const char *name)
{
	int i;

	for (i = 0; i < p->pipeline.n_contrasts; i++)
		if (strcmp(p->pipeline.contrasts[i].name, name) == 0)
			return i;
	return -1;
}

static int
parse_glm(struct rtc_project *p, json_t *g, char **cause)
{
	static const char *const keys[] = { "enabled", "drift_order",
	    "motion_regressors", "hrf", "events", "blocks", "contrasts", NULL };
	static const char *const bkeys[] = { "condition", "onset_s",
	    "duration_s", "period_s", "repeats", NULL };
	static const char *const ckeys[] = { "name", "weights", NULL };
	static const char *const hrfs[] = { "spm", "glover", NULL };
	json_t *a, *e;
	size_t i;
	int r, hrf = -1;
	char pre[64];

	r = check_keys(g, "pipeline.glm", keys, cause);
	r = r ? r : get_bool(g, "pipeline.glm", "enabled", &p->pipeline.glm,
	    cause);
	r = r ? r : get_int(g, "pipeline.glm", "drift_order", 0, 5,
	    &p->pipeline.drift_order, cause);
	r = r ? r : get_bool(g, "pipeline.glm", "motion_regressors",
	    &p->pipeline.motion_regressors, cause);
	r = r ? r : get_enum(g, "pipeline.glm", "hrf", hrfs, &hrf, cause);
	r = r ? r : get_path(p, g, "pipeline.glm", "events", &p->pipeline.events,
	    cause);
	if (r != RTC_OK)
		return r;
	if (hrf >= 0)
		p->pipeline.hrf = hrfs[hrf];
	a = json_object_get(g, "blocks");
	if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) > RTC_PROJ_MAX_BLOCKS)
			return bad(cause, "pipeline.glm.blocks",
			    "expected at most 16 [[pipeline.glm.blocks]] tables");
		if (p->pipeline.events != NULL)
			return bad(cause, "pipeline.glm", "give events or blocks, "
			    "not both");
		json_array_foreach(a, i, e) {
			struct rtc_proj_block *b = &p->pipeline.blocks[i];

			snprintf(pre, sizeof(pre), "pipeline.glm.blocks[%zu]", i);
			if (!json_is_object(e))
				return bad(cause, pre, "expected a table");
			b->period_s = 0;
			b->repeats = 0;
			b->onset_s = -1;
			b->duration_s = -1;
			b->condition[0] = '\0';
			r = check_keys(e, pre, bkeys, cause);
			r = r ? r : get_ident(e, pre, "condition", b->condition,
			    cause);
			r = r ? r : get_num(e, pre, "onset_s", 0, 1e6, &b->onset_s,
			    cause);
			r = r ? r : get_num(e, pre, "duration_s", 0.001, 1e6,
			    &b->duration_s, cause);
			r = r ? r : get_num(e, pre, "period_s", 0, 1e6, &b->period_s,
			    cause);
			r = r ? r : get_int(e, pre, "repeats", 0, 100000,
			    &b->repeats, cause);
			if (r != RTC_OK)
				return r;
			if (b->condition[0] == '\0' || b->onset_s < 0 ||
			    b->duration_s < 0)
				return bad(cause, pre, "needs condition, onset_s "
				    "and duration_s");
			if (strcmp(b->condition, "rest") == 0)
				return bad(cause, pre, "'rest' means no condition "
				    "on; it is not a block");
			if (b->period_s > 0 && b->period_s < b->duration_s)
				return bad(cause, pre, "period_s is shorter than "
				    "duration_s");
			if (find_condition(p, b->condition) < 0)
				snprintf(p->pipeline.conditions[
				    p->pipeline.n_conditions++],
				    RTC_PROJ_NAME_MAX, "%s", b->condition);
			p->pipeline.n_blocks++;
		}
	}
	a = json_object_get(g, "contrasts");
	if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) > RTC_PROJ_MAX_CONTRASTS)
			return bad(cause, "pipeline.glm.contrasts", "expected at "
			    "most 16 [[pipeline.glm.contrasts]] tables");
		json_array_foreach(a, i, e) {
			struct rtc_proj_contrast *c = &p->pipeline.contrasts[i];
			json_t *w, *wv;
			const char *cond;

			snprintf(pre, sizeof(pre), "pipeline.glm.contrasts[%zu]",
			    i);
			if (!json_is_object(e))
				return bad(cause, pre, "expected a table");
			r = check_keys(e, pre, ckeys, cause);
			r = r ? r : get_ident(e, pre, "name", c->name, cause);
			if (r != RTC_OK)
				return r;
			if (c->name[0] == '\0')
				return bad(cause, pre, "needs a name");
			if (rtc_project_contrast_index(p, c->name) >= 0)
				return bad(cause, pre, "a contrast of that name "
				    "exists");
			w = json_object_get(e, "weights");
			if (w == NULL || !json_is_object(w) ||
			    json_object_size(w) == 0 ||
			    json_object_size(w) > RTC_PROJ_MAX_CONDITIONS)
				return bad(cause, pre, "needs weights = { "
				    "condition = number, ... }");
			json_object_foreach(w, cond, wv) {
				if (!valid_ident(cond) || !json_is_number(wv) ||
				    !isfinite(json_number_value(wv)))
					return bad(cause, pre, "weights: expected "
					    "condition = number");
				if (p->pipeline.events == NULL &&
				    find_condition(p, cond) < 0) {
					rtc_cause_set(cause, "%s.weights: no block "
					    "has the condition '%s'", pre, cond);
					return RTC_ERR_INVAL;
				}
				snprintf(c->condition[c->n], RTC_PROJ_NAME_MAX,
				    "%s", cond);
				c->weight[c->n++] = json_number_value(wv);
			}
			p->pipeline.n_contrasts++;
		}
	}
	if (p->pipeline.glm && p->pipeline.n_blocks == 0 &&
	    p->pipeline.events == NULL)
		return bad(cause, "pipeline.glm", "needs events or blocks");
	return RTC_OK;
}

static int
parse_rois(struct rtc_project *p, json_t *a, char **cause)
{
	static const char *const keys[] = { "name", "mask", "sphere", "brain",
	    "baseline_vols", NULL };
	static const char *const skeys[] = { "center_mm", "radius_mm",
	    "relative_to", NULL };
	static const char *const anchors[] = { "brain_centroid", "grid_center",
	    "scanner", NULL };
	json_t *e;
	size_t i;
	char pre[64], spre[80];
	int r;

	if (!json_is_array(a) || json_array_size(a) > RTC_PROJ_MAX_ROIS)
		return bad(cause, "pipeline.roi",
		    "expected at most 16 [[pipeline.roi]] tables");
	json_array_foreach(a, i, e) {
		struct rtc_proj_roi *roi = &p->pipeline.rois[i];
		json_t *s = NULL;
		int brain = 0, anchor = RTC_PROJ_ANCHOR_BRAIN, kinds = 0;

		snprintf(pre, sizeof(pre), "pipeline.roi[%zu]", i);
		if (!json_is_object(e))
			return bad(cause, pre, "expected a table");
		roi->baseline_vols = 20;
		r = check_keys(e, pre, keys, cause);
		r = r ? r : get_ident(e, pre, "name", roi->name, cause);
		r = r ? r : get_bool(e, pre, "brain", &brain, cause);
		r = r ? r : get_path(p, e, pre, "mask", &roi->mask, cause);
		r = r ? r : get_table(e, pre, "sphere", &s, cause);
		r = r ? r : get_int(e, pre, "baseline_vols", 2, 10000,
		    &roi->baseline_vols, cause);
		if (r != RTC_OK)
			return r;
		if (roi->name[0] == '\0')
			return bad(cause, pre, "needs a name");
		if (rtc_project_roi_index(p, roi->name) >= 0)
			return bad(cause, pre, "an ROI of that name exists");
		kinds = brain + (roi->mask != NULL) + (s != NULL);
		if (kinds != 1)
			return bad(cause, pre, "give exactly one of mask, sphere "
			    "or brain = true");
		if (brain) {
			roi->kind = RTC_PROJ_ROI_BRAIN;
		} else if (roi->mask != NULL) {
			roi->kind = RTC_PROJ_ROI_MASK;
		} else {
			json_t *c = json_object_get(s, "center_mm"), *x;
			size_t k;

			snprintf(spre, sizeof(spre), "%s.sphere", pre);
			roi->kind = RTC_PROJ_ROI_SPHERE;
			roi->radius_mm = -1;
			r = check_keys(s, spre, skeys, cause);
			r = r ? r : get_num(s, spre, "radius_mm", 0.5, 200,
			    &roi->radius_mm, cause);
			r = r ? r : get_enum(s, spre, "relative_to", anchors,
			    &anchor, cause);
			if (r != RTC_OK)
				return r;
			if (roi->radius_mm < 0)
				return bad(cause, spre, "needs radius_mm");
			if (c == NULL || !json_is_array(c) ||
			    json_array_size(c) != 3)
				return bad(cause, spre, "needs center_mm = "
				    "[x, y, z]");
			json_array_foreach(c, k, x) {
				if (!json_is_number(x) ||
				    fabs(json_number_value(x)) > 1000)
					return bad(cause, spre, "center_mm: "
					    "expected 3 numbers within 1000 mm");
				roi->center_mm[k] = json_number_value(x);
			}
			roi->anchor = (enum rtc_proj_anchor)anchor;
		}
		p->pipeline.n_rois++;
	}
	return RTC_OK;
}

static int
parse_classifier(struct rtc_project *p, json_t *c, char **cause)
{
	static const char *const keys[] = { "enabled", "kind", "mode",
	    "weights", "bias", "train_after_blocks", "positive", "negative",
	    "features", "shift_s", "lambda", NULL };
	static const char *const kinds[] = { "logistic", "svm", NULL };
	static const char *const modes[] = { "weights", "online", NULL };
	const char *features = NULL;
	int r, kind = 0, mode = -1;

	r = check_keys(c, "pipeline.classifier", keys, cause);
	r = r ? r : get_bool(c, "pipeline.classifier", "enabled",
	    &p->pipeline.classifier.enabled, cause);
	r = r ? r : get_enum(c, "pipeline.classifier", "kind", kinds, &kind,
	    cause);
	r = r ? r : get_enum(c, "pipeline.classifier", "mode", modes, &mode,
	    cause);
	r = r ? r : get_path(p, c, "pipeline.classifier", "weights",
	    &p->pipeline.classifier.weights, cause);
	r = r ? r : get_num(c, "pipeline.classifier", "bias", -1e9, 1e9,
	    &p->pipeline.classifier.bias, cause);
	r = r ? r : get_int(c, "pipeline.classifier", "train_after_blocks", 1,
	    1000, &p->pipeline.classifier.train_after_blocks, cause);
	r = r ? r : get_ident(c, "pipeline.classifier", "positive",
	    p->pipeline.classifier.positive, cause);
	r = r ? r : get_ident(c, "pipeline.classifier", "negative",
	    p->pipeline.classifier.negative, cause);
	r = r ? r : get_str(c, "pipeline.classifier", "features", &features, 64,
	    cause);
	r = r ? r : get_num(c, "pipeline.classifier", "shift_s", 0, 60,
	    &p->pipeline.classifier.shift_s, cause);
	r = r ? r : get_num(c, "pipeline.classifier", "lambda", 0, 1e6,
	    &p->pipeline.classifier.lambda, cause);
	if (r != RTC_OK)
		return r;
	p->pipeline.classifier.kind = kinds[kind];
	if (json_object_get(c, "enabled") == NULL)
		p->pipeline.classifier.enabled = 1;
	if (mode < 0)
		mode = p->pipeline.classifier.weights != NULL ? 0 : 1;
	p->pipeline.classifier.online = mode == 1;
	if (features != NULL && strcmp(features, "brain") != 0) {
		p->pipeline.classifier.features_roi =
		    rtc_project_roi_index(p, features);
		if (p->pipeline.classifier.features_roi < 0) {
			rtc_cause_set(cause, "pipeline.classifier.features: no ROI "
			    "named '%s' (or use \"brain\")", features);
			return RTC_ERR_INVAL;
		}
	}
	if (!p->pipeline.classifier.enabled)
		return RTC_OK;
	if (p->pipeline.classifier.online) {
		const char *pos = p->pipeline.classifier.positive;
		const char *neg = p->pipeline.classifier.negative;

		if (p->pipeline.classifier.weights != NULL)
			return bad(cause, "pipeline.classifier", "mode \"online\" "
			    "takes no weights file");
		if (!p->pipeline.glm)
			return bad(cause, "pipeline.classifier", "online training "
			    "takes its labels from the GLM design: enable "
			    "[pipeline.glm]");
		if (pos[0] == '\0' || neg[0] == '\0')
			return bad(cause, "pipeline.classifier", "online training "
			    "needs positive and negative conditions");
		if (strcmp(pos, neg) == 0)
			return bad(cause, "pipeline.classifier", "positive and "
			    "negative are the same condition");
		if (p->pipeline.events == NULL &&
		    ((strcmp(pos, "rest") != 0 && find_condition(p, pos) < 0) ||
		    (strcmp(neg, "rest") != 0 && find_condition(p, neg) < 0)))
			return bad(cause, "pipeline.classifier", "positive and "
			    "negative must be block conditions or \"rest\"");
	} else if (p->pipeline.classifier.weights == NULL) {
		return bad(cause, "pipeline.classifier", "mode \"weights\" needs "
		    "a weights file");
	}
	return RTC_OK;
}

static int
parse_pipeline(struct rtc_project *p, char **cause)
{
	static const char *const keys[] = { "reference", "mask", "motion",
	    "smooth", "glm", "roi", "classifier", NULL };
	static const char *const mkeys[] = { "enabled", "reslice",
	    "interpolation", "fd_threshold_mm", "fd_radius_mm", NULL };
	static const char *const skeys[] = { "fwhm_mm", NULL };
	static const char *const interps[] = { "trilinear", "cubic", NULL };
	json_t *t = NULL, *m = NULL, *s = NULL, *g = NULL, *c = NULL, *ref, *a;
	int r, interp = -1;

	r = get_table(p->root, NULL, "pipeline", &t, cause);
	if (r != RTC_OK || t == NULL)
		return r;
	r = check_keys(t, "pipeline", keys, cause);
	if (r != RTC_OK)
		return r;
	ref = json_object_get(t, "reference");
	if (ref != NULL) {
		if (json_is_integer(ref)) {
			if (json_integer_value(ref) < 1 ||
			    json_integer_value(ref) > 100000)
				return bad(cause, "pipeline.reference", "a volume "
				    "number counts from 1");
			p->pipeline.reference = RTC_PROJ_REF_INDEX;
			p->pipeline.reference_index = (int)json_integer_value(ref);
			if (p->pipeline.reference_index <= p->intake.dummies)
				return bad(cause, "pipeline.reference", "that "
				    "volume is a dummy");
		} else if (json_is_string(ref)) {
			if (strcmp(json_string_value(ref), "first") == 0) {
				p->pipeline.reference = RTC_PROJ_REF_FIRST;
			} else {
				r = get_path(p, t, "pipeline", "reference",
				    &p->pipeline.reference_path, cause);
				if (r != RTC_OK)
					return r;
				p->pipeline.reference = RTC_PROJ_REF_NIFTI;
			}
		} else {
			return bad(cause, "pipeline.reference", "expected \"first\", "
			    "a volume number, or a NIfTI path");
		}
	}
	if (json_is_string(json_object_get(t, "mask")) &&
	    strcmp(json_string_value(json_object_get(t, "mask")), "auto") != 0) {
		r = get_path(p, t, "pipeline", "mask", &p->pipeline.mask, cause);
		if (r != RTC_OK)
			return r;
	} else if (json_object_get(t, "mask") != NULL &&
	    !json_is_string(json_object_get(t, "mask"))) {
		return bad(cause, "pipeline.mask", "expected \"auto\" or a path");
	}
	r = get_table(t, "pipeline", "motion", &m, cause);
	r = r ? r : get_table(t, "pipeline", "smooth", &s, cause);
	r = r ? r : get_table(t, "pipeline", "glm", &g, cause);
	r = r ? r : get_table(t, "pipeline", "classifier", &c, cause);
	if (r != RTC_OK)
		return r;
	if (m != NULL) {
		r = check_keys(m, "pipeline.motion", mkeys, cause);
		r = r ? r : get_bool(m, "pipeline.motion", "enabled",
		    &p->pipeline.motion, cause);
		r = r ? r : get_bool(m, "pipeline.motion", "reslice",
		    &p->pipeline.reslice, cause);
		r = r ? r : get_enum(m, "pipeline.motion", "interpolation",
		    interps, &interp, cause);
		r = r ? r : get_num(m, "pipeline.motion", "fd_threshold_mm", 0.01,
		    100, &p->pipeline.fd_threshold_mm, cause);
		r = r ? r : get_num(m, "pipeline.motion", "fd_radius_mm", 1, 500,
		    &p->pipeline.fd_radius_mm, cause);
		if (r != RTC_OK)
			return r;
		if (json_object_get(m, "enabled") == NULL)
			p->pipeline.motion = 1;
		if (interp >= 0)
			p->pipeline.interpolation = interps[interp];
	}
	if (s != NULL) {
		r = check_keys(s, "pipeline.smooth", skeys, cause);
		r = r ? r : get_num(s, "pipeline.smooth", "fwhm_mm", 0, 20,
		    &p->pipeline.smooth_fwhm_mm, cause);
		if (r != RTC_OK)
			return r;
	}
	if (g != NULL) {
		p->pipeline.glm = 1;
		r = parse_glm(p, g, cause);
		if (r != RTC_OK)
			return r;
	}
	a = json_object_get(t, "roi");
	if (a != NULL) {
		r = parse_rois(p, a, cause);
		if (r != RTC_OK)
			return r;
	}
	if (c != NULL) {
		r = parse_classifier(p, c, cause);
		if (r != RTC_OK)
			return r;
	}
	if (p->pipeline.motion_regressors && !p->pipeline.motion)
		return bad(cause, "pipeline.glm.motion_regressors", "needs "
		    "[pipeline.motion] enabled");
	return RTC_OK;
}

/* ---- measures and [feedback] ------------------------------------------ */

static int
parse_feedback(struct rtc_project *p, char **cause)
{
	static const char *const keys[] = { "value", "scale", "offset",
	    "smooth_vols", "clip", NULL };
	json_t *t = NULL, *clip;
	const char *v = NULL, *minus;
	char a[64];
	int r;

	r = get_table(p->root, NULL, "feedback", &t, cause);
	if (r != RTC_OK || t == NULL)
		return r;
	r = check_keys(t, "feedback", keys, cause);
	r = r ? r : get_str(t, "feedback", "value", &v, 130, cause);
	r = r ? r : get_num(t, "feedback", "scale", -1e9, 1e9,
	    &p->feedback.scale, cause);
	r = r ? r : get_num(t, "feedback", "offset", -1e9, 1e9,
	    &p->feedback.offset, cause);
	r = r ? r : get_int(t, "feedback", "smooth_vols", 1, RTC_PROJ_MAX_SMOOTH,
	    &p->feedback.smooth_vols, cause);
	if (r != RTC_OK)
		return r;
	clip = json_object_get(t, "clip");
	if (clip != NULL) {
		if (!json_is_array(clip) || json_array_size(clip) != 2 ||
		    !json_is_number(json_array_get(clip, 0)) ||
		    !json_is_number(json_array_get(clip, 1)))
			return bad(cause, "feedback.clip", "expected [low, high]");
		p->feedback.clip_lo = json_number_value(json_array_get(clip, 0));
		p->feedback.clip_hi = json_number_value(json_array_get(clip, 1));
		if (!(p->feedback.clip_lo < p->feedback.clip_hi))
			return bad(cause, "feedback.clip", "low must be below high");
		p->feedback.clip = 1;
	}
	if (v == NULL)
		return RTC_OK;
	/* "A" or "A - B" (spaces around the minus: names may hold '-') */
	minus = strstr(v, " - ");
	if (minus != NULL) {
		if ((size_t)(minus - v) >= sizeof(a))
			return bad(cause, "feedback.value", "measure name too long");
		memcpy(a, v, (size_t)(minus - v));
		a[minus - v] = '\0';
		r = rtc_project_measure(p, a, &p->feedback.a, cause);
		r = r ? r : rtc_project_measure(p, minus + 3, &p->feedback.b,
		    cause);
		p->feedback.difference = 1;
	} else {
		r = rtc_project_measure(p, v, &p->feedback.a, cause);
	}
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "feedback.value");
		return r;
	}
	p->feedback.has_value = 1;
	return RTC_OK;
}

/* ---- [analysis] ------------------------------------------------------- */

static int
parse_analysis(struct rtc_project *p, char **cause)
{
	static const char *const keys[] = { "command", "plugin", "timeout_ms",
	    "startup_timeout_ms", "shm_dir", "config", NULL };
	json_t *t = NULL, *cmd, *e;
	size_t i, n;
	int r;

	r = get_table(p->root, NULL, "analysis", &t, cause);
	if (r != RTC_OK || t == NULL)
		return r;
	r = check_keys(t, "analysis", keys, cause);
	r = r ? r : get_int(t, "analysis", "timeout_ms", 1, 60000,
	    &p->analysis.timeout_ms, cause);
	r = r ? r : get_int(t, "analysis", "startup_timeout_ms", 1, 600000,
	    &p->analysis.startup_timeout_ms, cause);
	r = r ? r : get_str(t, "analysis", "shm_dir", &p->analysis.shm_dir,
	    PATH_MAX - 64, cause);
	r = r ? r : get_path(p, t, "analysis", "plugin", &p->analysis.plugin,
	    cause);
	r = r ? r : get_table(t, "analysis", "config", &e, cause);
	if (r != RTC_OK)
		return r;
	if (e != NULL)
		p->analysis.config = e;
	if (p->analysis.shm_dir[0] != '/' || !rtc_fs_is_dir(p->analysis.shm_dir))
		return bad(cause, "analysis.shm_dir", "expected an existing "
		    "absolute directory");
	cmd = json_object_get(t, "command");
	if (cmd == NULL)
		return RTC_OK;
	n = json_is_array(cmd) ? json_array_size(cmd) : 0;
	if (n == 0 || n > RTC_PROJ_MAX_ARGV)
		return bad(cause, "analysis.command", "expected a list of "
		    "strings: [\"program\", \"argument\", ...]");
	p->analysis.argv = calloc(n + 1, sizeof(char *));
	if (p->analysis.argv == NULL)
		return RTC_ERR_NOMEM;
	p->analysis.argc = (int)n;
	json_array_foreach(cmd, i, e) {
		const char *s = json_string_value(e);

		if (s == NULL || strlen(s) != json_string_length(e) ||
		    strlen(s) > 4096)
			return bad(cause, "analysis.command", "expected strings");
		if (i == 0 && strchr(s, '/') != NULL) {
			/* a program of the project's own: a path */
			r = resolve(p, "analysis.command[0]", s, 1,
			    &p->analysis.argv[0], cause);
			if (r != RTC_OK)
				return r;
			if (access(p->analysis.argv[0], X_OK) != 0)
				return bad(cause, "analysis.command[0]",
				    "not executable");
			continue;
		}
		if (i == 0 && *s == '\0')
			return bad(cause, "analysis.command", "empty program name");
		p->analysis.argv[i] = strdup(s);
		if (p->analysis.argv[i] == NULL)
			return RTC_ERR_NOMEM;
	}
	return RTC_OK;
}

/* ---- the whole file --------------------------------------------------- */

static void
defaults(struct rtc_project *p)
{
	p->subject_num = p->subject_day = p->session_num = -1;
	p->plot_x_low = p->plot_x_high = NAN;
	p->plot_y_low = p->plot_y_high = NAN;
	p->plot_auto_x = p->plot_auto_y = -1;
	p->intake.dummies = 0;
	p->intake.reorder_wait_ms = 1000;
	p->intake.queue_warn_mb = 1024;
	p->intake.watch_mode = RTC_WATCH_AUTO;
	p->intake.poll_ms = 100;
	p->intake.stable_polls = 1;
	p->intake.timeout_ms = 10000;
	p->intake.process_existing = 0;
	p->intake.aet = "RTC";
	p->intake.max_associations = 4;
	p->intake.scp_timeout_s = 60;
	p->pipeline.reference = RTC_PROJ_REF_FIRST;
	p->pipeline.motion = 0;
	p->pipeline.interpolation = "trilinear";
	p->pipeline.fd_threshold_mm = 0.5;
	p->pipeline.fd_radius_mm = 50;
	p->pipeline.drift_order = 2;
	p->pipeline.hrf = "spm";
	p->pipeline.classifier.kind = "logistic";
	p->pipeline.classifier.train_after_blocks = 2;
	p->pipeline.classifier.features_roi = -1;
	p->pipeline.classifier.shift_s = 4.0;
	p->pipeline.classifier.lambda = 1.0;
	snprintf(p->pipeline.classifier.negative, RTC_PROJ_NAME_MAX, "rest");
	p->feedback.scale = 1.0;
	p->feedback.offset = 0.0;
	p->feedback.smooth_vols = 1;
	p->analysis.timeout_ms = 500;
	p->analysis.startup_timeout_ms = 5000;
	p->analysis.shm_dir = "/dev/shm";
}

int
rtc_project_parse(const char *text, size_t len, const char *name,
    const char *dir, struct rtc_project **out, char **cause)
{
	struct rtc_project *p;
	char *real;
	int r;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return RTC_ERR_NOMEM;
	defaults(p);
	real = realpath(dir, NULL);
	if (real == NULL || !rtc_fs_is_dir(real)) {
		rtc_cause_set(cause, "%s: not a directory", dir);
		free(real);
		free(p);
		return RTC_ERR_NOT_FOUND;
	}
	p->dir = real;
	r = rtc_config_parse(text, len, name, &p->root, cause);
	if (r != RTC_OK)
		goto fail;
	/* order matters: the pipeline refers to dummies, the feedback to
	 * ROIs, contrasts, the classifier and the analysis */
	r = parse_top(p, cause);
	r = r ? r : parse_intake(p, cause);
	r = r ? r : parse_pipeline(p, cause);
	r = r ? r : parse_analysis(p, cause);
	r = r ? r : parse_feedback(p, cause);
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "%s", name);
		goto fail;
	}
	*out = p;
	return RTC_OK;
fail:
	rtc_project_free(p);
	return r;
}

static int
valid_project_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int
rtc_project_find(const char *spec, char **path, char **cause)
{
	char buf[PATH_MAX * 2], tried[2048];
	const char *env;
	size_t n = strlen(spec ? spec : ""), off = 0;

	if (spec == NULL || n == 0) {
		rtc_cause_set(cause, "no project given");
		return RTC_ERR_INVAL;
	}
	if (strchr(spec, '/') != NULL || (n > 5 &&
	    strcmp(spec + n - 5, ".toml") == 0)) {
		if (rtc_fs_is_dir(spec))
			snprintf(buf, sizeof(buf), "%s/project.toml", spec);
		else
			snprintf(buf, sizeof(buf), "%s", spec);
		if (!rtc_fs_is_file(buf)) {
			rtc_cause_set(cause, "project %s: %s not found", spec, buf);
			return RTC_ERR_NOT_FOUND;
		}
		*path = strdup(buf);
		return *path != NULL ? RTC_OK : RTC_ERR_NOMEM;
	}
	if (!valid_project_name(spec)) {
		rtc_cause_set(cause, "'%s' is not a project name (letters, digits, "
		    "'_', '-', '.') or a path", spec);
		return RTC_ERR_INVAL;
	}
	tried[0] = '\0';
	env = getenv("RTC_PROJECTS_DIR");
	if (env != NULL && *env != '\0') {
		const char *p = env;

		while (*p != '\0') {
			const char *end = strchr(p, ':');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (len > 0 && len < PATH_MAX) {
				snprintf(buf, sizeof(buf), "%.*s/%s/project.toml",
				    (int)len, p, spec);
				if (rtc_fs_is_file(buf)) {
					*path = strdup(buf);
					return *path ? RTC_OK : RTC_ERR_NOMEM;
				}
				off += (size_t)snprintf(tried + off,
				    sizeof(tried) - off, "%s%.*s",
				    off ? ", " : "", (int)len, p);
				if (off >= sizeof(tried))
					off = sizeof(tried) - 1;
			}
			if (end == NULL)
				break;
			p = end + 1;
		}
	}
	snprintf(buf, sizeof(buf), "%s/projects/%s/project.toml", RTC_PKGDATADIR,
	    spec);
	if (rtc_fs_is_file(buf)) {
		*path = strdup(buf);
		return *path ? RTC_OK : RTC_ERR_NOMEM;
	}
#ifdef RTC_SRC_PROJECTS
	/* rtc run from its build tree, not installed: the source's projects */
	snprintf(buf, sizeof(buf), "%s/%s/project.toml", RTC_SRC_PROJECTS, spec);
	if (rtc_fs_is_file(buf)) {
		*path = strdup(buf);
		return *path ? RTC_OK : RTC_ERR_NOMEM;
	}
#endif
	rtc_cause_set(cause, "project '%s' not found in %s%s%s/projects (set "
	    "RTC_PROJECTS_DIR, or give a path)", spec, tried, off ? ", " : "",
	    RTC_PKGDATADIR);
	return RTC_ERR_NOT_FOUND;
}

int
rtc_project_load(struct rtc_ctx *ctx, const char *spec,
    struct rtc_project **out, char **cause)
{
	struct rtc_project *p = NULL;
	char *path = NULL, *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	int r;

	r = rtc_project_find(spec, &path, cause);
	if (r != RTC_OK)
		return r;
	r = rtc_fs_read_file(path, RTC_CONFIG_MAX_BYTES, &text, &len, cause);
	if (r != RTC_OK)
		goto out;
	dir = strdup(path);
	if (dir == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	r = rtc_project_parse(text, len, path, dir, &p, cause);
	if (r != RTC_OK)
		goto out;
	p->file = path;
	path = NULL;
	rtc_debug(ctx, RT, "project %s: %s", p->file,
	    p->title ? p->title : "(no title)");
	*out = p;
out:
	free(path);
	free(text);
	free(dir);
	return r;
}

void
rtc_project_free(struct rtc_project *p)
{
	int i;

	if (p == NULL)
		return;
	free(p->dir);
	free(p->file);
	json_decref(p->root);
	free(p->pipeline.reference_path);
	free(p->pipeline.mask);
	free(p->pipeline.events);
	free(p->pipeline.classifier.weights);
	for (i = 0; i < RTC_PROJ_MAX_ROIS; i++)
		free(p->pipeline.rois[i].mask);
	if (p->analysis.argv != NULL) {
		for (i = 0; i < p->analysis.argc; i++)
			free(p->analysis.argv[i]);
		free(p->analysis.argv);
	}
	free(p->analysis.plugin);
	free(p);
}

/*
 * feedback_json: the per-volume record and its JSON form.
 *
 * The encoder keeps one jansson tree with the record's layout and updates
 * numbers in place (json_real_set, json_integer_set; flags are the
 * true/false singletons), so encoding a volume allocates nothing of ours
 * unless a field turns from null to a number or the ROI/value names
 * change. json_dumpb() writes into the encoder's fixed buffer.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "feedback.h"

static const char *const stage_names[RTC_STAGE__COUNT] = {
	"intake", "decoded", "motion", "smooth", "glm", "roi", "classifier",
	"feedback"
};

static const char *const flag_names[RTC_FB_NFLAGS] = {
	"dummy", "lagging", "motion_outlier", "gap", "analysis_timeout",
	"analysis_skipped", "analysis_failed"
};

static const char *const motion_names[6] = {
	"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"
};

const char *
rtc_stage_name(enum rtc_stage s)
{
	if ((int)s < 0 || s >= RTC_STAGE__COUNT)
		return NULL;
	return stage_names[s];
}

const char *
rtc_fb_flag_name(unsigned bit)
{
	int i;

	for (i = 0; i < RTC_FB_NFLAGS; i++)
		if (bit == (1u << i))
			return flag_names[i];
	return NULL;
}

const char *
rtc_fb_motion_name(int i)
{
	return i >= 0 && i < 6 ? motion_names[i] : NULL;
}

void
rtc_fb_record_init(struct rtc_fb_record *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->series = -1;
	r->acquisition_time = -1.0;
	for (i = 0; i < RTC_STAGE__COUNT; i++)
		r->stage_ms[i] = NAN;
	r->stage_ms[RTC_STAGE_INTAKE] = 0.0;
	r->feedback = NAN;
	r->decision = NAN;
	for (i = 0; i < 6; i++)
		r->motion[i] = NAN;
	r->fd = NAN;
}

void
rtc_fb_record_stamp(struct rtc_fb_record *r, enum rtc_stage s)
{
	if ((int)s < 0 || s >= RTC_STAGE__COUNT)
		return;
	r->stage_ms[s] = (double)(rtc_clock_mono_ns() - r->intake_ns) / 1e6;
}

int
rtc_fb_valid_name(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n >= RTC_FB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int
set_named(struct rtc_fb_value *tab, int *n, int max, const char *name,
    double v)
{
	int i;

	if (!rtc_fb_valid_name(name))
		return RTC_ERR_INVAL;
	for (i = 0; i < *n; i++) {
		if (strcmp(tab[i].name, name) == 0) {
			tab[i].value = v;
			return RTC_OK;
		}
	}
	if (*n >= max)
		return RTC_ERR_TOO_BIG;
	snprintf(tab[*n].name, sizeof(tab[*n].name), "%s", name);
	tab[*n].value = v;
	(*n)++;
	return RTC_OK;
}

int
rtc_fb_record_set_roi(struct rtc_fb_record *r, const char *name, double v)
{
	return set_named(r->roi, &r->n_roi, RTC_FB_MAX_ROI, name, v);
}

int
rtc_fb_record_set_value(struct rtc_fb_record *r, const char *name, double v)
{
	return set_named(r->values, &r->n_values, RTC_FB_MAX_VALUES, name, v);
}

/* ---- encoder ---------------------------------------------------------- */

struct rtc_fb_encoder {
	json_t *root;
	json_t *roi, *values, *motion, *flags, *stages;
	char roi_names[RTC_FB_MAX_ROI][RTC_FB_NAME_MAX];
	int n_roi;
	char val_names[RTC_FB_MAX_VALUES][RTC_FB_NAME_MAX];
	int n_values;
	char buf[RTC_FB_LINE_MAX + 2];
};

/* Set a number (NaN/inf: null). RET: RTC_OK or RTC_ERR_NOMEM. */
static int
set_num(json_t *obj, const char *key, double v)
{
	json_t *cur = json_object_get(obj, key);

	if (!isfinite(v)) {
		if (cur != NULL && json_is_null(cur))
			return RTC_OK;
		return json_object_set_new(obj, key, json_null()) == 0 ?
		    RTC_OK : RTC_ERR_NOMEM;
	}
	if (cur != NULL && json_is_real(cur)) {
		json_real_set(cur, v);
		return RTC_OK;
	}
	return json_object_set_new(obj, key, json_real(v)) == 0 ? RTC_OK :
	    RTC_ERR_NOMEM;
}

static int
set_int(json_t *obj, const char *key, long long v)
{
	json_t *cur = json_object_get(obj, key);

	if (cur != NULL && json_is_integer(cur)) {
		json_integer_set(cur, v);
		return RTC_OK;
	}
	return json_object_set_new(obj, key, json_integer(v)) == 0 ? RTC_OK :
	    RTC_ERR_NOMEM;
}

static json_t *
add_obj(json_t *root, const char *key)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(root, key, o) != 0)
		return NULL;
	return o;
}

struct rtc_fb_encoder *
rtc_fb_encoder_new(void)
{
	struct rtc_fb_encoder *e = calloc(1, sizeof(*e));
	json_t *r;
	int i, bad = 0;

	if (e == NULL)
		return NULL;
	e->root = r = json_object();
	if (r == NULL) {
		free(e);
		return NULL;
	}
	/* the documented key order */
	bad |= set_int(r, "run", 0);
	bad |= set_int(r, "vol", 0);
	bad |= set_int(r, "series", -1);
	bad |= set_num(r, "acquisition_time", NAN);
	bad |= set_num(r, "feedback", NAN);
	bad |= set_num(r, "decision", NAN);
	e->roi = add_obj(r, "roi");
	e->values = add_obj(r, "values");
	e->motion = add_obj(r, "motion");
	for (i = 0; i < 6 && e->motion != NULL; i++)
		bad |= set_num(e->motion, motion_names[i], NAN);
	bad |= set_num(r, "framewise_displacement", NAN);
	e->flags = add_obj(r, "flags");
	for (i = 0; i < RTC_FB_NFLAGS && e->flags != NULL; i++)
		bad |= json_object_set_new(e->flags, flag_names[i], json_false());
	e->stages = add_obj(r, "stages_ms");
	for (i = 0; i < RTC_STAGE__COUNT && e->stages != NULL; i++)
		bad |= set_num(e->stages, stage_names[i], NAN);
	bad |= set_int(r, "runId", 0);
	bad |= set_int(r, "trId", 0);
	bad |= set_num(r, "value", NAN);
	bad |= set_num(r, "timestamp", NAN);
	if (bad || e->roi == NULL || e->values == NULL || e->motion == NULL ||
	    e->flags == NULL || e->stages == NULL) {
		rtc_fb_encoder_free(e);
		return NULL;
	}
	return e;
}

void
rtc_fb_encoder_free(struct rtc_fb_encoder *e)
{
	if (e == NULL)
		return;
	json_decref(e->root);
	free(e);
}

/* Make obj hold exactly the names of tab (in order), remembering them. */
static int
sync_names(json_t *obj, char names[][RTC_FB_NAME_MAX], int *n,
    const struct rtc_fb_value *tab, int ntab)
{
	int i, same = *n == ntab;

	for (i = 0; same && i < ntab; i++)
		same = strcmp(names[i], tab[i].name) == 0;
	if (!same) {
		json_object_clear(obj);
		for (i = 0; i < ntab; i++) {
			snprintf(names[i], RTC_FB_NAME_MAX, "%s", tab[i].name);
			if (json_object_set_new(obj, tab[i].name, json_null()) != 0)
				return RTC_ERR_NOMEM;
		}
		*n = ntab;
	}
	for (i = 0; i < ntab; i++)
		if (set_num(obj, tab[i].name, tab[i].value) != RTC_OK)
			return RTC_ERR_NOMEM;
	return RTC_OK;
}

static int
update(struct rtc_fb_encoder *e, const struct rtc_fb_record *r)
{
	json_t *root = e->root;
	int i, bad = 0;

	bad |= set_int(root, "run", r->run);
	bad |= set_int(root, "vol", r->vol);
	bad |= set_int(root, "series", r->series);
	bad |= set_num(root, "acquisition_time",
	    r->acquisition_time >= 0 ? r->acquisition_time : NAN);
	bad |= set_num(root, "feedback", r->feedback);
	bad |= set_num(root, "decision", r->decision);
	bad |= sync_names(e->roi, e->roi_names, &e->n_roi, r->roi,
	    r->n_roi < 0 ? 0 : r->n_roi > RTC_FB_MAX_ROI ? RTC_FB_MAX_ROI :
	    r->n_roi);
	bad |= sync_names(e->values, e->val_names, &e->n_values, r->values,
	    r->n_values < 0 ? 0 : r->n_values > RTC_FB_MAX_VALUES ?
	    RTC_FB_MAX_VALUES : r->n_values);
	for (i = 0; i < 6; i++)
		bad |= set_num(e->motion, motion_names[i], r->motion[i]);
	bad |= set_num(root, "framewise_displacement", r->fd);
	for (i = 0; i < RTC_FB_NFLAGS; i++)
		bad |= json_object_set_new(e->flags, flag_names[i],
		    (r->flags & (1u << i)) ? json_true() : json_false());
	for (i = 0; i < RTC_STAGE__COUNT; i++)
		bad |= set_num(e->stages, stage_names[i], r->stage_ms[i]);
	bad |= set_int(root, "runId", r->run);
	bad |= set_int(root, "trId", r->vol);
	bad |= set_num(root, "value", r->feedback);
	bad |= set_num(root, "timestamp",
	    r->wall_time > 0 ? r->wall_time : rtc_clock_wall());
	return bad ? RTC_ERR_NOMEM : RTC_OK;
}

int
rtc_fb_encode(struct rtc_fb_encoder *e, const struct rtc_fb_record *r,
    const char **line, size_t *len)
{
	size_t n;
	int ret;

	ret = update(e, r);
	if (ret != RTC_OK)
		return ret;
	n = json_dumpb(e->root, e->buf, RTC_FB_LINE_MAX,
	    JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (n == 0)
		return RTC_ERR_NOMEM;
	if (n > RTC_FB_LINE_MAX)
		return RTC_ERR_TOO_BIG;
	e->buf[n] = '\n';
	e->buf[n + 1] = '\0';
	*line = e->buf;
	*len = n;
	return RTC_OK;
}

json_t *
rtc_fb_record_to_json(const struct rtc_fb_record *r)
{
	struct rtc_fb_encoder *e = rtc_fb_encoder_new();
	json_t *j = NULL;

	if (e == NULL)
		return NULL;
	if (update(e, r) == RTC_OK)
		j = json_deep_copy(e->root);
	rtc_fb_encoder_free(e);
	return j;
}

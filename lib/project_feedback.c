/*
 * project_feedback: a project's named measures and its feedback value
 * (the grammar is in rtc-project(5), [feedback]): parsing "ROI.psc",
 * "ROI.t.CONTRAST", "classifier", "analysis.NAME"..., reading them from a
 * volume's record, and the scale / moving mean / clip of the value.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "project.h"

int
rtc_project_measure(const struct rtc_project *p, const char *s,
    struct rtc_proj_measure *m, char **cause)
{
	static const char *const stats[] = { "mean", "psc", "z", "t", NULL };
	struct rtc_proj_measure x;
	char roi[64], rest[64];
	const char *dot;
	int i;

	memset(&x, 0, sizeof(x));
	x.roi = x.contrast = -1;
	if (strcmp(s, "classifier") == 0 ||
	    strcmp(s, "classifier.decision") == 0) {
		if (!p->pipeline.classifier.enabled)
			goto no_classifier;
		x.kind = RTC_PROJ_MEAS_DECISION;
		snprintf(x.key, sizeof(x.key), "classifier");
		goto ok;
	}
	if (strcmp(s, "classifier.prob") == 0) {
		if (!p->pipeline.classifier.enabled)
			goto no_classifier;
		if (strcmp(p->pipeline.classifier.kind, "logistic") != 0) {
			rtc_cause_set(cause, "'%s': only a logistic classifier "
			    "gives probabilities", s);
			return RTC_ERR_INVAL;
		}
		x.kind = RTC_PROJ_MEAS_PROB;
		snprintf(x.key, sizeof(x.key), "classifier.prob");
		goto ok;
	}
	if (strcmp(s, "fd") == 0) {
		if (!p->pipeline.motion) {
			rtc_cause_set(cause, "'fd' needs [pipeline.motion]");
			return RTC_ERR_INVAL;
		}
		x.kind = RTC_PROJ_MEAS_FD;
		snprintf(x.key, sizeof(x.key), "fd");
		goto ok;
	}
	if (strncmp(s, "analysis.", 9) == 0) {
		if (!rtc_fb_valid_name(s + 9) || strchr(s + 9, '.') != NULL) {
			rtc_cause_set(cause, "'%s': expected analysis.NAME (letters, "
			    "digits, '_', '-')", s);
			return RTC_ERR_INVAL;
		}
		if (p->analysis.argv == NULL && p->analysis.plugin == NULL) {
			rtc_cause_set(cause, "'%s' needs [analysis] (a command or "
			    "a plugin)", s);
			return RTC_ERR_INVAL;
		}
		x.kind = RTC_PROJ_MEAS_ANALYSIS;
		snprintf(x.key, sizeof(x.key), "%s", s + 9);
		goto ok;
	}
	dot = strchr(s, '.');
	if (dot == NULL || (size_t)(dot - s) >= sizeof(roi) ||
	    strlen(dot + 1) >= sizeof(rest)) {
		rtc_cause_set(cause, "'%s' is not a measure (ROI.mean, ROI.psc, "
		    "ROI.z, ROI.t.CONTRAST, classifier, classifier.prob, fd, "
		    "analysis.NAME)", s);
		return RTC_ERR_INVAL;
	}
	memcpy(roi, s, (size_t)(dot - s));
	roi[dot - s] = '\0';
	snprintf(rest, sizeof(rest), "%s", dot + 1);
	x.kind = RTC_PROJ_MEAS_ROI;
	x.roi = rtc_project_roi_index(p, roi);
	if (x.roi < 0) {
		rtc_cause_set(cause, "'%s': no ROI named '%s'", s, roi);
		return RTC_ERR_INVAL;
	}
	if (strncmp(rest, "t.", 2) == 0) {
		if (!p->pipeline.glm) {
			rtc_cause_set(cause, "'%s' needs [pipeline.glm]", s);
			return RTC_ERR_INVAL;
		}
		x.stat = RTC_PROJ_STAT_T;
		x.contrast = rtc_project_contrast_index(p, rest + 2);
		if (x.contrast < 0) {
			rtc_cause_set(cause, "'%s': no contrast named '%s'", s,
			    rest + 2);
			return RTC_ERR_INVAL;
		}
	} else {
		for (i = 0; stats[i] != NULL; i++)
			if (strcmp(stats[i], rest) == 0)
				break;
		if (stats[i] == NULL || i == RTC_PROJ_STAT_T) {
			rtc_cause_set(cause, "'%s': '%s' is not mean, psc, z or "
			    "t.CONTRAST", s, rest);
			return RTC_ERR_INVAL;
		}
		x.stat = (enum rtc_proj_stat)i;
	}
	snprintf(x.key, sizeof(x.key), "%s", s);
ok:
	snprintf(x.name, sizeof(x.name), "%s", s);
	*m = x;
	return RTC_OK;
no_classifier:
	rtc_cause_set(cause, "'%s' needs [pipeline.classifier]", s);
	return RTC_ERR_INVAL;
}

static double
lookup(const struct rtc_fb_value *tab, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i].name, key) == 0)
			return tab[i].value;
	return NAN;
}

double
rtc_project_measure_value(const struct rtc_proj_measure *m,
    const struct rtc_fb_record *r)
{
	switch (m->kind) {
	case RTC_PROJ_MEAS_ROI:
		return lookup(r->roi, r->n_roi, m->key);
	case RTC_PROJ_MEAS_DECISION:
		return r->decision;
	case RTC_PROJ_MEAS_PROB:
		return lookup(r->values, r->n_values, m->key);
	case RTC_PROJ_MEAS_FD:
		return r->fd;
	case RTC_PROJ_MEAS_ANALYSIS:
		return lookup(r->values, r->n_values, m->key);
	}
	return NAN;
}

/* ---- the feedback value ----------------------------------------------- */

void
rtc_project_fbstate_init(struct rtc_proj_fbstate *st)
{
	memset(st, 0, sizeof(*st));
}

double
rtc_project_feedback(const struct rtc_project *p, struct rtc_proj_fbstate *st,
    const struct rtc_fb_record *r)
{
	double v, sum = 0;
	int k, i;

	if (!p->feedback.has_value)
		return NAN;
	v = rtc_project_measure_value(&p->feedback.a, r);
	if (p->feedback.difference)
		v -= rtc_project_measure_value(&p->feedback.b, r);
	if (!isfinite(v))
		return NAN;
	v = v * p->feedback.scale + p->feedback.offset;
	k = p->feedback.smooth_vols < 1 ? 1 : p->feedback.smooth_vols;
	st->hist[st->pos] = v;
	st->pos = (st->pos + 1) % k;
	if (st->n < k)
		st->n++;
	for (i = 0; i < st->n; i++)
		sum += st->hist[i];
	v = sum / st->n;
	if (p->feedback.clip) {
		if (v < p->feedback.clip_lo)
			v = p->feedback.clip_lo;
		if (v > p->feedback.clip_hi)
			v = p->feedback.clip_hi;
	}
	return v;
}

/*
 * pipeline: see pipeline.h.
 *
 * Design: the per-volume path (analyse) is a straight line of kernel
 * calls on three float buffers made at setup: raw (the decoded frame),
 * sm (smoothed) and rs (resliced); `cur` points at the newest version of
 * the volume and each stage reads it. A stage that fails (a motion
 * estimate that breaks down) leaves its record fields null and the later
 * stages go on with what there is. The record's ROI slots are filled by
 * index in a fixed order (the keys, chosen once), so its JSON shape never
 * changes between volumes.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_ext.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "nifti.h"
#include "pipeline_int.h"
#include "plugin.h"
#include "volume.h"

#define MAX_SETUP_TRIES 3

void
rtc_pipeline_opts_init(struct rtc_pipeline_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/* ---- record keys ------------------------------------------------------ */

static int
key_wanted(const struct rtc_project *p, const char *k)
{
	return p->feedback.has_value &&
	    ((p->feedback.a.kind == RTC_PROJ_MEAS_ROI &&
	    strcmp(p->feedback.a.key, k) == 0) ||
	    (p->feedback.difference && p->feedback.b.kind == RTC_PROJ_MEAS_ROI &&
	    strcmp(p->feedback.b.key, k) == 0));
}

static int
key_index(const struct rtc_pipeline *pl, const char *k)
{
	int i;

	for (i = 0; i < pl->nkeys; i++)
		if (strcmp(pl->keys[i], k) == 0)
			return i;
	return -1;
}

/*
 * The ROI measures a record carries: per ROI mean, psc, z and (with a
 * GLM) the mean t of each contrast; at most RTC_FB_MAX_ROI, those the
 * feedback value reads first.
 */
static void
make_keys(struct rtc_pipeline *pl)
{
	static const char *const stat[3] = { "mean", "psc", "z" };
	const struct rtc_project *p = pl->p;
	char k[96];
	int pass, i, s, c, dropped = 0;

	pl->nkeys = 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < p->pipeline.n_rois; i++)
			for (s = 0; s < 3 + (p->pipeline.glm ?
			    p->pipeline.n_contrasts : 0); s++) {
				const char *roi = p->pipeline.rois[i].name;

				if (s < 3)
					snprintf(k, sizeof(k), "%s.%s", roi,
					    stat[s]);
				else
					snprintf(k, sizeof(k), "%s.t.%s", roi,
					    p->pipeline.contrasts[s - 3].name);
				if (key_wanted(p, k) != (pass == 0))
					continue;
				if (!rtc_fb_valid_name(k) ||
				    pl->nkeys >= RTC_FB_MAX_ROI) {
					dropped++;
					continue;
				}
				memcpy(pl->keys[pl->nkeys++], k,
				    strlen(k) + 1);
			}
	if (dropped > 0)
		rtc_log(pl->ctx, WARN, "%d ROI measures left out of the record "
		    "(names over %d characters, or more than %d measures)",
		    dropped, RTC_FB_NAME_MAX - 1, RTC_FB_MAX_ROI);
	for (i = 0; i < p->pipeline.n_rois; i++) {
		struct pl_roi *ro = &pl->rois[i];
		const char *roi = p->pipeline.rois[i].name;

		snprintf(k, sizeof(k), "%s.mean", roi);
		ro->key_mean = key_index(pl, k);
		snprintf(k, sizeof(k), "%s.psc", roi);
		ro->key_psc = key_index(pl, k);
		snprintf(k, sizeof(k), "%s.z", roi);
		ro->key_z = key_index(pl, k);
		for (c = 0; c < RTC_PROJ_MAX_CONTRASTS; c++) {
			ro->key_t[c] = -1;
			if (c < p->pipeline.n_contrasts) {
				snprintf(k, sizeof(k), "%s.t.%s", roi,
				    p->pipeline.contrasts[c].name);
				ro->key_t[c] = key_index(pl, k);
			}
		}
	}
}

int
rtc_pipeline_nkeys(const struct rtc_pipeline *pl)
{
	return pl->nkeys;
}

const char *
rtc_pipeline_key(const struct rtc_pipeline *pl, int i)
{
	return i >= 0 && i < pl->nkeys ? pl->keys[i] : NULL;
}

/* ---- life cycle ------------------------------------------------------- */

static int
write_volume(void *arg, const struct rtc_volume *v, const char *path,
    char **cause)
{
	(void)arg;
	return rtc_nifti_write(path, v, NULL, cause);
}

static int
start_custom(struct rtc_pipeline *pl, char **cause)
{
	const struct rtc_project *p = pl->p;
	struct rtc_analysis_ext_opts eo;
	json_t *proj;
	int r;

	if (p->analysis.plugin != NULL)
		return rtc_plugin_load(pl->ctx, p->analysis.plugin,
		    p->analysis.config, p->analysis.timeout_ms, &pl->plugin,
		    cause);
	if (p->analysis.argv == NULL)
		return RTC_OK;
	proj = json_pack("{s:s, s:s?}", "dir", p->dir, "title", p->title);
	if (proj == NULL)
		return RTC_ERR_NOMEM;
	rtc_analysis_ext_opts_init(&eo);
	eo.argv = (const char *const *)p->analysis.argv;
	eo.cwd = p->dir;
	eo.shm_dir = p->analysis.shm_dir;
	eo.timeout_ms = p->analysis.timeout_ms;
	eo.startup_timeout_ms = p->analysis.startup_timeout_ms;
	eo.config = p->analysis.config;
	eo.project = proj;
	eo.write_volume = write_volume;
	r = rtc_analysis_ext_start(pl->ctx, &eo, &pl->ext, cause);
	json_decref(proj);
	return r;
}

int
rtc_pipeline_new(struct rtc_ctx *ctx, const struct rtc_project *p,
    const struct rtc_pipeline_opts *o, struct rtc_pipeline **out,
    char **cause)
{
	struct rtc_pipeline *pl;
	int r;

	if (p == NULL || out == NULL)
		return RTC_ERR_INVAL;
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return RTC_ERR_NOMEM;
	pl->ctx = ctx;
	pl->p = p;
	if (o != NULL)
		pl->o = *o;
	pl->pos_cond = pl->neg_cond = -1;
	pl->need_setup = 1;
	make_keys(pl);
	if ((r = pl_load_files(pl, cause)) != RTC_OK)
		goto fail;
	if (!pl->o.no_custom && (r = start_custom(pl, cause)) != RTC_OK) {
		rtc_cause_wrap(cause, "custom analysis");
		goto fail;
	}
	*out = pl;
	return RTC_OK;
fail:
	rtc_pipeline_free(pl);
	return r;
}

void
rtc_pipeline_free(struct rtc_pipeline *pl)
{
	if (pl == NULL)
		return;
	pl_teardown(pl);
	pl_free_files(pl);
	rtc_analysis_ext_free(pl->ext);
	rtc_plugin_free(pl->plugin);
	free(pl);
}

void
rtc_pipeline_run_start(struct rtc_pipeline *pl)
{
	int i;

	pl->failed_logged = 0;
	if (pl->p->pipeline.reference != RTC_PROJ_REF_NIFTI || !pl->ready) {
		pl->need_setup = 1;
		return;
	}
	/* a NIfTI reference stays: reset what one run learnt */
	if (pl->motion != NULL)
		rtc_motion_reset(pl->motion);
	if (pl->glm != NULL)
		rtc_glm_reset(pl->glm);
	for (i = 0; i < RTC_PROJ_MAX_ROIS; i++)
		if (pl->rois[i].roi != NULL)
			rtc_roi_reset(pl->rois[i].roi);
	if (pl->clf != NULL)
		rtc_clf_reset(pl->clf);
	memset(pl->last_motion, 0, sizeof(pl->last_motion));
	rtc_project_fbstate_init(&pl->fb);
}

int
rtc_pipeline_grid(const struct rtc_pipeline *pl, struct rtc_grid *g)
{
	if (!pl->ready)
		return RTC_ERR_AGAIN;
	*g = pl->g;
	return RTC_OK;
}

const uint8_t *
rtc_pipeline_mask(const struct rtc_pipeline *pl)
{
	return pl->ready ? pl->mask : NULL;
}

void
rtc_pipeline_get_stats(const struct rtc_pipeline *pl,
    struct rtc_pipeline_stats *st)
{
	*st = pl->st;
}

/* ---- one volume ------------------------------------------------------- */

static void
set_key(struct rtc_fb_record *r, int k, double v)
{
	if (k >= 0)
		r->roi[k].value = v;
}

/* The classifier's label of the volume at time t: 1, 0 or -1 (none). */
static int
volume_label(const struct rtc_pipeline *pl, double t)
{
	int c;

	if (pl->ev == NULL)
		return -1;
	c = rtc_events_label(pl->ev, t, pl->p->pipeline.classifier.shift_s);
	if (c == -2)
		return -1;
	if (c == pl->pos_cond)
		return 1;
	if (c == pl->neg_cond)
		return 0;
	return -1;
}

/* Mean of img over the voxel list. */
static double
list_mean(const float *img, const size_t *idx, size_t n)
{
	double s = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		s += img[idx[i]];
	return n > 0 ? s / (double)n : NAN;
}

static void
analyse(struct rtc_pipeline *pl, const struct rtc_volume *v,
    struct rtc_fb_record *r)
{
	const struct rtc_project *p = pl->p;
	struct rtc_motion_result mr;
	struct rtc_roi_value rv;
	struct rtc_clf_result cr;
	const float *cur;
	double t = (r->vol - 1) * pl->tr;
	int i, c, tvalid = 0, is_baseline = 1;
	char *cause = NULL;

	rtc_volume_frame_to_float(v, 0, pl->raw);
	cur = pl->raw;
	if (pl->motion != NULL) {
		const float *in = pl->raw;

		if (pl->share_smooth) {
			rtc_smooth_apply(pl->smooth, pl->raw, pl->sm);
			in = pl->sm;
		}
		cur = in;
		if (rtc_motion_register(pl->motion, in, v->affine, &mr) ==
		    RTC_OK) {
			for (i = 0; i < 3; i++) {
				r->motion[i] = pl->last_motion[i] = mr.trans[i];
				r->motion[3 + i] = pl->last_motion[3 + i] =
				    mr.rot[i];
			}
			r->fd = mr.fd;
			if (mr.fd > p->pipeline.fd_threshold_mm)
				r->flags |= RTC_FB_MOTION_OUTLIER;
			if (p->pipeline.reslice &&
			    rtc_motion_reslice(pl->motion, in, v->affine, &mr,
			    strcmp(p->pipeline.interpolation, "cubic") == 0 ?
			    RTC_INTERP_BSPLINE : RTC_INTERP_LINEAR, pl->rs) ==
			    RTC_OK)
				cur = pl->rs;
		} else
			pl->st.motion_failures++;
		rtc_fb_record_stamp(r, RTC_STAGE_MOTION);
		if (pl->share_smooth)
			rtc_fb_record_stamp(r, RTC_STAGE_SMOOTH);
	}
	if (pl->smooth != NULL && !pl->share_smooth) {
		rtc_smooth_apply(pl->smooth, cur, pl->sm);
		cur = pl->sm;
		rtc_fb_record_stamp(r, RTC_STAGE_SMOOTH);
	}
	if (pl->glm != NULL) {
		rtc_design_row(pl->design, r->vol - 1, pl->last_motion, pl->row);
		(void)rtc_glm_add(pl->glm, pl->row, cur);
		if (pl->ncon > 0 && rtc_glm_compute(pl->glm, pl->C, pl->ncon,
		    pl->tmaps, NULL, NULL, NULL) == RTC_OK)
			tvalid = 1;
		rtc_fb_record_stamp(r, RTC_STAGE_GLM);
	}
	if (p->pipeline.n_rois > 0) {
		if (pl->ev != NULL && rtc_events_ncond(pl->ev) > 0)
			is_baseline = rtc_events_label(pl->ev, t,
			    p->pipeline.classifier.shift_s) == -1;
		for (i = 0; i < p->pipeline.n_rois; i++) {
			struct pl_roi *ro = &pl->rois[i];

			if (ro->roi == NULL)
				continue;
			rtc_roi_update(ro->roi, cur, is_baseline, &rv);
			set_key(r, ro->key_mean, rv.mean);
			set_key(r, ro->key_psc, rv.valid_psc ? rv.psc : NAN);
			set_key(r, ro->key_z, rv.valid_z ? rv.z : NAN);
			for (c = 0; tvalid && c < pl->ncon; c++)
				if (ro->key_t[c] >= 0)
					set_key(r, ro->key_t[c],
					    list_mean(pl->tmaps[c], ro->idx,
					    ro->n));
		}
		rtc_fb_record_stamp(r, RTC_STAGE_ROI);
	}
	if (pl->clf != NULL) {
		if (rtc_clf_update(pl->clf, cur, p->pipeline.classifier.online ?
		    volume_label(pl, t) : -1, &cr) == RTC_OK && cr.ready) {
			r->decision = cr.decision;
			if (strcmp(p->pipeline.classifier.kind, "logistic") == 0)
				(void)rtc_fb_record_set_value(r,
				    "classifier.prob", cr.prob);
		}
		rtc_fb_record_stamp(r, RTC_STAGE_CLASSIFIER);
	}
	if (pl->ext != NULL &&
	    rtc_analysis_ext_process(pl->ext, v, r, &cause) != RTC_OK) {
		rtc_debug(pl->ctx, RT, "custom analysis, volume %d: %s", r->vol,
		    cause != NULL ? cause : "failed");
		free(cause);
		cause = NULL;
	}
	if (pl->plugin != NULL &&
	    rtc_plugin_process(pl->plugin, v, r, &cause) != RTC_OK) {
		rtc_debug(pl->ctx, RT, "plugin, volume %d: %s", r->vol,
		    cause != NULL ? cause : "failed");
		free(cause);
	}
	r->feedback = rtc_project_feedback(p, &pl->fb, r);
	rtc_fb_record_stamp(r, RTC_STAGE_FEEDBACK);
	pl->st.analysed++;
}

int
rtc_pipeline_process(struct rtc_pipeline *pl, const struct rtc_volume *v,
    int dummy, struct rtc_fb_record *r, char **cause)
{
	const struct rtc_project *p = pl->p;
	int i, ret;

	pl->st.volumes++;
	r->n_roi = pl->nkeys;
	for (i = 0; i < pl->nkeys; i++) {
		memcpy(r->roi[i].name, pl->keys[i], RTC_FB_NAME_MAX);
		r->roi[i].value = NAN;
	}
	if (dummy) {
		r->flags |= RTC_FB_DUMMY;
		pl->st.not_analysed++;
		return RTC_OK;
	}
	/* a NIfTI reference meets a new geometry */
	if (pl->ready && (v->nx != pl->g.nx || v->ny != pl->g.ny ||
	    v->nz != pl->g.nz) && p->pipeline.reference == RTC_PROJ_REF_NIFTI)
		pl->need_setup = 1;
	if (pl->need_setup) {
		if (p->pipeline.reference == RTC_PROJ_REF_INDEX &&
		    r->vol < p->pipeline.reference_index) {
			pl->st.not_analysed++;
			return RTC_OK;
		}
		if (pl->failed_logged >= MAX_SETUP_TRIES) {
			pl->st.rejected++;
			rtc_cause_set(cause, "no reference for this run (setup "
			    "failed %d times)", MAX_SETUP_TRIES);
			return RTC_ERR_INVAL;
		}
		if ((ret = pl_setup(pl, v, cause)) != RTC_OK) {
			pl->failed_logged++;
			pl->st.rejected++;
			rtc_cause_wrap(cause, "setting up from volume %d",
			    r->vol);
			return ret;
		}
		pl->need_setup = 0;
		pl->st.setups++;
	}
	if (v->nx != pl->g.nx || v->ny != pl->g.ny || v->nz != pl->g.nz) {
		pl->st.rejected++;
		rtc_cause_set(cause, "volume %d is %dx%dx%d, its run's reference "
		    "%dx%dx%d: not analysed", r->vol, v->nx, v->ny, v->nz,
		    pl->g.nx, pl->g.ny, pl->g.nz);
		return RTC_ERR_FORMAT;
	}
	analyse(pl, v, r);
	return RTC_OK;
}

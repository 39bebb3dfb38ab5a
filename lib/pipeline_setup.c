/*
 * pipeline_setup: what the pipeline makes before the first volume
 * (the project's files, its events) and from each run's reference volume
 * (masks, ROIs, models, buffers). See pipeline.h, SETUP.
 *
 * Design: every image a project names is read once, as floats in its own
 * grid; each setup brings it into the run's grid through world
 * coordinates (nearest grid: masks by trilinear interpolation and a 0.5
 * threshold, weights trilinearly, a reference by cubic B-spline), so no
 * project file needs to match the scanner's matrix. All allocation of the
 * realtime path happens here; the per-volume path only reuses it.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_ext.h"
#include "ctx.h"
#include "error.h"
#include "kern_interp.h"
#include "log.h"
#include "mask.h"
#include "nifti.h"
#include "pipeline_int.h"
#include "plugin.h"
#include "volume.h"

#define MAX_IMAGE_BYTES ((size_t)1 << 30)
#define MAX_RUN_S 14400.0          /* open-ended blocks: 4 hours of them */
#define MIN_MASK 64                /* voxels, as the motion kernel */

/* Read a NIfTI's first frame as floats in its own grid. */
static int
load_image(const char *path, const char *what, struct pl_image *img,
    char **cause)
{
	struct rtc_volume *v = NULL;
	int r;

	if ((r = rtc_nifti_read(path, MAX_IMAGE_BYTES, &v, cause)) != RTC_OK) {
		rtc_cause_wrap(cause, "%s", what);
		return r;
	}
	rtc_grid_from_volume(v, &img->grid);
	if ((r = rtc_grid_check(&img->grid, cause)) != RTC_OK) {
		rtc_cause_wrap(cause, "%s %s", what, path);
		rtc_volume_free(v);
		return r;
	}
	img->data = malloc(rtc_grid_nvox(&img->grid) * sizeof(float));
	if (img->data == NULL) {
		rtc_volume_free(v);
		return RTC_ERR_NOMEM;
	}
	rtc_volume_frame_to_float(v, 0, img->data);
	rtc_volume_free(v);
	return RTC_OK;
}

static void
free_image(struct pl_image *img)
{
	free(img->data);
	img->data = NULL;
}

/* The condition index of a label name; -1 for rest. RET: 0 or -1 when the
 * events have no such condition. */
static int
label_cond(const struct rtc_events *ev, const char *name, int *out)
{
	if (strcmp(name, "rest") == 0) {
		*out = -1;
		return 0;
	}
	*out = rtc_events_cond_index(ev, name);
	return *out >= 0 ? 0 : -1;
}

static int
load_events(struct rtc_pipeline *pl, char **cause)
{
	const struct rtc_project *p = pl->p;
	struct rtc_hrf h;
	int i, j, r;

	if (p->pipeline.events == NULL && p->pipeline.n_blocks == 0)
		return RTC_OK;
	if ((r = rtc_events_new(&pl->ev)) != RTC_OK)
		return r;
	if (strcmp(p->pipeline.hrf, "glover") == 0) {
		/* Glover (1999) as nilearn has it: peaks at 6 and 12 s,
		 * dispersions 0.9, undershoot 0.35 of the peak */
		h.peak_delay = 6.0;
		h.under_delay = 12.0;
		h.peak_disp = 0.9;
		h.under_disp = 0.9;
		h.ratio = 1.0 / 0.35;
		if ((r = rtc_events_set_hrf(pl->ev, &h)) != RTC_OK)
			return r;
	}
	if (p->pipeline.events != NULL) {
		if ((r = rtc_events_load_tsv(pl->ev, p->pipeline.events,
		    cause)) != RTC_OK)
			return r;
	}
	for (i = 0; i < p->pipeline.n_blocks; i++) {
		const struct rtc_proj_block *b = &p->pipeline.blocks[i];
		int count = b->repeats > 0 ? b->repeats : b->period_s > 0 ?
		    (int)ceil((MAX_RUN_S - b->onset_s) / b->period_s) : 1;

		if (count < 1)
			count = 1;
		if ((r = rtc_events_add_blocks(pl->ev, b->condition, b->onset_s,
		    b->duration_s, b->period_s > 0 ? b->period_s : 1.0, count,
		    cause)) != RTC_OK)
			return r;
	}
	/* every condition a contrast or the classifier names must exist */
	for (i = 0; i < p->pipeline.n_contrasts; i++)
		for (j = 0; j < p->pipeline.contrasts[i].n; j++)
			if (rtc_events_cond_index(pl->ev,
			    p->pipeline.contrasts[i].condition[j]) < 0) {
				rtc_cause_set(cause, "contrast '%s': the events "
				    "have no condition '%s'",
				    p->pipeline.contrasts[i].name,
				    p->pipeline.contrasts[i].condition[j]);
				return RTC_ERR_INVAL;
			}
	if (p->pipeline.classifier.enabled && p->pipeline.classifier.online) {
		if (label_cond(pl->ev, p->pipeline.classifier.positive,
		    &pl->pos_cond) != 0 ||
		    label_cond(pl->ev, p->pipeline.classifier.negative,
		    &pl->neg_cond) != 0) {
			rtc_cause_set(cause, "classifier: the events have no "
			    "condition '%s' or '%s'",
			    p->pipeline.classifier.positive,
			    p->pipeline.classifier.negative);
			return RTC_ERR_INVAL;
		}
	}
	return RTC_OK;
}

int
pl_load_files(struct rtc_pipeline *pl, char **cause)
{
	const struct rtc_project *p = pl->p;
	int i, r;

	if (p->pipeline.reference == RTC_PROJ_REF_NIFTI &&
	    (r = load_image(p->pipeline.reference_path, "reference",
	    &pl->ref_nii, cause)) != RTC_OK)
		return r;
	if (p->pipeline.mask != NULL &&
	    (r = load_image(p->pipeline.mask, "mask", &pl->mask_nii,
	    cause)) != RTC_OK)
		return r;
	for (i = 0; i < p->pipeline.n_rois; i++)
		if (p->pipeline.rois[i].kind == RTC_PROJ_ROI_MASK &&
		    (r = load_image(p->pipeline.rois[i].mask, "ROI mask",
		    &pl->roi_nii[i], cause)) != RTC_OK)
			return r;
	if (p->pipeline.classifier.enabled && !p->pipeline.classifier.online &&
	    (r = load_image(p->pipeline.classifier.weights,
	    "classifier weights", &pl->weights_nii, cause)) != RTC_OK)
		return r;
	return load_events(pl, cause);
}

void
pl_free_files(struct rtc_pipeline *pl)
{
	int i;

	free_image(&pl->ref_nii);
	free_image(&pl->mask_nii);
	free_image(&pl->weights_nii);
	for (i = 0; i < RTC_PROJ_MAX_ROIS; i++)
		free_image(&pl->roi_nii[i]);
	rtc_events_free(pl->ev);
	pl->ev = NULL;
}

void
pl_teardown(struct rtc_pipeline *pl)
{
	int i;

	rtc_motion_free(pl->motion);
	rtc_smooth_free(pl->smooth);
	rtc_design_free(pl->design);
	rtc_glm_free(pl->glm);
	rtc_clf_free(pl->clf);
	pl->motion = NULL;
	pl->smooth = NULL;
	pl->design = NULL;
	pl->glm = NULL;
	pl->clf = NULL;
	for (i = 0; i < RTC_PROJ_MAX_CONTRASTS; i++) {
		free(pl->tmaps[i]);
		pl->tmaps[i] = NULL;
	}
	for (i = 0; i < RTC_PROJ_MAX_ROIS; i++) {
		rtc_roi_free(pl->rois[i].roi);
		free(pl->rois[i].idx);
		pl->rois[i].roi = NULL;
		pl->rois[i].idx = NULL;
		pl->rois[i].n = 0;
	}
	free(pl->C);
	free(pl->row);
	free(pl->mask);
	free(pl->raw);
	free(pl->sm);
	free(pl->rs);
	pl->C = pl->row = NULL;
	pl->mask = NULL;
	pl->raw = pl->sm = pl->rs = NULL;
	pl->ncon = 0;
	pl->ready = 0;
}

/* Bring img into grid g through world coordinates. */
static int
resample_image(const struct pl_image *img, const struct rtc_grid *g,
    enum rtc_interp interp, float *out, char **cause)
{
	float *coef = NULL;
	const float *src = img->data;
	size_t n = rtc_grid_nvox(&img->grid);
	int r;

	if (img->grid.nx == g->nx && img->grid.ny == g->ny &&
	    img->grid.nz == g->nz && rtc_grid_same(&img->grid, g, 1e-3)) {
		memcpy(out, img->data, n * sizeof(float));
		return RTC_OK;
	}
	if (interp == RTC_INTERP_BSPLINE) {
		if ((coef = malloc(n * sizeof(float))) == NULL)
			return RTC_ERR_NOMEM;
		memcpy(coef, img->data, n * sizeof(float));
		rtc_interp_bspline_coeffs(coef, img->grid.nx, img->grid.ny,
		    img->grid.nz);
		src = coef;
	}
	r = rtc_interp_resample(src, &img->grid, g, NULL, interp, 0.0f, out);
	free(coef);
	if (r != RTC_OK)
		rtc_cause_set(cause, "cannot resample an image into the data's "
		    "grid");
	return r;
}

static void
mask_centroid(const uint8_t *mask, const struct rtc_grid *g, double c[3])
{
	double s[3] = { 0, 0, 0 }, n = 0;
	size_t v = 0;
	int i, j, k;

	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++, v++)
				if (mask[v]) {
					s[0] += i;
					s[1] += j;
					s[2] += k;
					n++;
				}
	if (n == 0) {
		rtc_grid_center(g, c);
		return;
	}
	rtc_grid_vox2world(g, s[0] / n, s[1] / n, s[2] / n, c);
}

static int
setup_mask(struct rtc_pipeline *pl, const float *ref, char **cause)
{
	int r;

	if (pl->mask_nii.data != NULL)
		r = rtc_roi_mask_resample(pl->mask_nii.data, &pl->mask_nii.grid,
		    &pl->g, 0.5, pl->mask, &pl->mask_count, cause);
	else
		r = rtc_mask_auto(ref, &pl->g, NULL, pl->mask, &pl->mask_count,
		    cause);
	if (r != RTC_OK)
		return r;
	if (pl->mask_count < MIN_MASK) {
		rtc_cause_set(cause, "the brain mask has %zu voxels in the "
		    "data's grid (at least %d needed)", pl->mask_count,
		    MIN_MASK);
		return RTC_ERR_INVAL;
	}
	mask_centroid(pl->mask, &pl->g, pl->centroid);
	return RTC_OK;
}

static int
setup_motion(struct rtc_pipeline *pl, const float *ref, char **cause)
{
	const struct rtc_project *p = pl->p;
	struct rtc_motion_opts mo;

	rtc_motion_opts_init(&mo);
	mo.fd_radius_mm = p->pipeline.fd_radius_mm;
	if (pl->share_smooth) {
		mo.smooth_fwhm_mm = 0.0;
		rtc_smooth_apply(pl->smooth, ref, pl->sm);
		ref = pl->sm;
	}
	return rtc_motion_new(ref, &pl->g, pl->mask, &mo, &pl->motion, cause);
}

static int
setup_glm(struct rtc_pipeline *pl, const struct rtc_volume *v, char **cause)
{
	const struct rtc_project *p = pl->p;
	struct rtc_design_opts dopt;
	int ncols, c, j, r;

	rtc_design_opts_init(&dopt);
	dopt.poly_order = p->pipeline.drift_order;
	dopt.motion = p->pipeline.motion_regressors && p->pipeline.motion;
	dopt.tr = pl->tr;
	dopt.expected_volumes = pl->o.expected_volumes > 1 ?
	    pl->o.expected_volumes : 300;
	dopt.slice_ref = 0.5;
	if (pl->ev != NULL && rtc_events_ncond(pl->ev) > 0 && !(pl->tr > 0)) {
		rtc_cause_set(cause, "the task regressors need the TR: the "
		    "data do not say it; give trInterval or --tr");
		return RTC_ERR_INVAL;
	}
	(void)v;
	if ((r = rtc_design_new(&dopt, pl->ev, &pl->design, cause)) != RTC_OK)
		return r;
	ncols = rtc_design_ncols(pl->design);
	if ((r = rtc_glm_new(&pl->g, pl->mask, ncols, &pl->glm, cause)) !=
	    RTC_OK)
		return r;
	pl->row = calloc((size_t)ncols, sizeof(double));
	pl->ncon = p->pipeline.n_contrasts;
	pl->C = calloc((size_t)(pl->ncon > 0 ? pl->ncon : 1) * (size_t)ncols,
	    sizeof(double));
	if (pl->row == NULL || pl->C == NULL)
		return RTC_ERR_NOMEM;
	for (c = 0; c < pl->ncon; c++) {
		const struct rtc_proj_contrast *k = &p->pipeline.contrasts[c];

		for (j = 0; j < k->n; j++) {
			int col = rtc_design_col_index(pl->design,
			    k->condition[j]);

			if (col < 0) {
				rtc_cause_set(cause, "contrast '%s': no design "
				    "column '%s'", k->name, k->condition[j]);
				return RTC_ERR_INVAL;
			}
			pl->C[(size_t)c * (size_t)ncols + (size_t)col] +=
			    k->weight[j];
		}
		if ((pl->tmaps[c] = calloc(pl->nvox, sizeof(float))) == NULL)
			return RTC_ERR_NOMEM;
	}
	return RTC_OK;
}

/* One ROI's mask in the run's grid. OUT: m (nvox bytes), *count. */
static int
roi_mask(struct rtc_pipeline *pl, int i, uint8_t *m, size_t *count,
    char **cause)
{
	const struct rtc_proj_roi *pr = &pl->p->pipeline.rois[i];
	double c[3], a[3] = { 0, 0, 0 };
	int k;

	switch (pr->kind) {
	case RTC_PROJ_ROI_BRAIN:
		memcpy(m, pl->mask, pl->nvox);
		*count = pl->mask_count;
		return RTC_OK;
	case RTC_PROJ_ROI_MASK:
		return rtc_roi_mask_resample(pl->roi_nii[i].data,
		    &pl->roi_nii[i].grid, &pl->g, 0.5, m, count, cause);
	case RTC_PROJ_ROI_SPHERE:
		if (pr->anchor == RTC_PROJ_ANCHOR_BRAIN)
			memcpy(a, pl->centroid, sizeof(a));
		else if (pr->anchor == RTC_PROJ_ANCHOR_GRID)
			rtc_grid_center(&pl->g, a);
		for (k = 0; k < 3; k++)
			c[k] = pr->center_mm[k] + a[k];
		return rtc_roi_mask_sphere(&pl->g, c, pr->radius_mm, m, count,
		    cause);
	}
	return RTC_ERR_INTERNAL;
}

static int
setup_rois(struct rtc_pipeline *pl, uint8_t **masks, char **cause)
{
	const struct rtc_project *p = pl->p;
	int i, r;

	for (i = 0; i < p->pipeline.n_rois; i++) {
		struct pl_roi *ro = &pl->rois[i];
		struct rtc_roi_opts opt;
		const uint8_t *mp;
		size_t count = 0, v, n = 0;

		if ((masks[i] = malloc(pl->nvox)) == NULL)
			return RTC_ERR_NOMEM;
		if ((r = roi_mask(pl, i, masks[i], &count, cause)) != RTC_OK) {
			rtc_cause_wrap(cause, "ROI '%s'",
			    p->pipeline.rois[i].name);
			return r;
		}
		if (count == 0) {
			rtc_log(pl->ctx, WARN, "ROI '%s' has no voxel in this "
			    "scan's field of view: its measures stay null",
			    p->pipeline.rois[i].name);
			continue;
		}
		rtc_roi_opts_init(&opt);
		opt.baseline_window = p->pipeline.rois[i].baseline_vols;
		opt.zscore_window = p->pipeline.rois[i].baseline_vols;
		mp = masks[i];
		if ((r = rtc_roi_new(&pl->g, 1, &mp, &opt, &ro->roi, cause)) !=
		    RTC_OK)
			return r;
		if ((ro->idx = malloc(count * sizeof(size_t))) == NULL)
			return RTC_ERR_NOMEM;
		for (v = 0; v < pl->nvox; v++)
			if (masks[i][v])
				ro->idx[n++] = v;
		ro->n = n;
	}
	return RTC_OK;
}

/* IN/OUT: need, where the voxels the classifier reads are set. */
static int
setup_classifier(struct rtc_pipeline *pl, uint8_t **masks, uint8_t *need,
    char **cause)
{
	const struct rtc_project *p = pl->p;
	struct rtc_clf_opts co;
	const uint8_t *fmask = pl->mask;
	float *w = NULL;
	size_t nf, v;
	int r;

	if (!p->pipeline.classifier.enabled)
		return RTC_OK;
	rtc_clf_opts_init(&co);
	/* each voxel z-scored over the run so far: the anatomy every volume
	 * shares drops out, what is left are its changes (as decoders of
	 * fMRI z-score voxels over time); with pattern normalisation the
	 * samples would be nearly collinear and training ill-conditioned */
	co.norm = RTC_CLF_NORM_RUNNING;
	co.loss = strcmp(p->pipeline.classifier.kind, "svm") == 0 ?
	    RTC_CLF_SVM : RTC_CLF_LOGISTIC;
	co.C = p->pipeline.classifier.lambda > 0 ?
	    1.0 / p->pipeline.classifier.lambda : 1e6;
	co.train_after_blocks = p->pipeline.classifier.train_after_blocks;
	if (p->pipeline.classifier.features_roi >= 0)
		fmask = masks[p->pipeline.classifier.features_roi];
	if (!p->pipeline.classifier.online) {
		if ((w = malloc(pl->nvox * sizeof(float))) == NULL)
			return RTC_ERR_NOMEM;
		r = resample_image(&pl->weights_nii, &pl->g, RTC_INTERP_LINEAR,
		    w, cause);
		for (v = 0; r == RTC_OK && v < pl->nvox; v++)
			if (w[v] != 0.0f)
				need[v] = 1;
		if (r == RTC_OK)
			r = rtc_clf_new_linear(&pl->g, w, p->pipeline.classifier.bias,
			    NULL, &co, &pl->clf, cause);
		free(w);
		return r;
	}
	/* keep the stored samples within the classifier's memory cap */
	nf = rtc_mask_count(fmask, pl->nvox);
	if (nf > 0 && nf * (size_t)co.max_samples > RTC_CLF_MAX_STORE)
		co.max_samples = (int)(RTC_CLF_MAX_STORE / nf);
	if (co.max_samples < 8) {
		rtc_cause_set(cause, "classifier: %zu feature voxels are too "
		    "many to train on", nf);
		return RTC_ERR_TOO_BIG;
	}
	return rtc_clf_new_online(&pl->g, fmask, &co, &pl->clf, cause);
}

/*
 * The resliced volume is read only where the GLM (the brain mask), the
 * ROIs and the classifier look, unless it is smoothed after reslicing (the
 * kernel reaches further): reslice just those voxels; the rest of rs
 * stays 0. IN: masks (the ROIs'), need (the mask and the classifier's
 * voxels; the ROIs' are added).
 */
static int
limit_reslice(struct rtc_pipeline *pl, uint8_t **masks, uint8_t *need)
{
	const struct rtc_project *p = pl->p;
	size_t v;
	int i;

	if (pl->motion == NULL || !p->pipeline.reslice ||
	    (pl->smooth != NULL && !pl->share_smooth))
		return RTC_OK;
	for (i = 0; i < p->pipeline.n_rois; i++)
		for (v = 0; masks[i] != NULL && v < pl->nvox; v++)
			if (masks[i][v])
				need[v] = 1;
	memset(pl->rs, 0, pl->nvox * sizeof(float));
	return rtc_motion_reslice_only(pl->motion, need);
}

int
pl_setup(struct rtc_pipeline *pl, const struct rtc_volume *v, char **cause)
{
	const struct rtc_project *p = pl->p;
	uint8_t *masks[RTC_PROJ_MAX_ROIS] = { NULL }, *need = NULL;
	float *ref;
	double fwhm = p->pipeline.smooth_fwhm_mm;
	int i, r;

	pl_teardown(pl);
	rtc_grid_from_volume(v, &pl->g);
	if ((r = rtc_grid_check(&pl->g, cause)) != RTC_OK)
		return r;
	pl->nvox = rtc_grid_nvox(&pl->g);
	pl->raw = malloc(pl->nvox * sizeof(float));
	pl->sm = malloc(pl->nvox * sizeof(float));
	pl->rs = malloc(pl->nvox * sizeof(float));
	pl->mask = calloc(pl->nvox, 1);
	if (pl->raw == NULL || pl->sm == NULL || pl->rs == NULL ||
	    pl->mask == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	/* the reference, in raw (rs serves as its buffer during setup) */
	ref = pl->rs;
	if (p->pipeline.reference == RTC_PROJ_REF_NIFTI)
		r = resample_image(&pl->ref_nii, &pl->g, RTC_INTERP_BSPLINE,
		    ref, cause);
	else {
		rtc_volume_frame_to_float(v, 0, ref);
		r = RTC_OK;
	}
	if (r != RTC_OK)
		goto out;
	pl->tr = pl->o.tr > 0 ? pl->o.tr : v->tr > 0 ? v->tr : p->tr_s;
	if ((r = setup_mask(pl, ref, cause)) != RTC_OK)
		goto out;
	if (fwhm > 0 && (r = rtc_smooth_new(&pl->g, fwhm, &pl->smooth,
	    cause)) != RTC_OK)
		goto out;
	pl->share_smooth = p->pipeline.motion && fwhm >= 3.0 && fwhm <= 8.0;
	if (p->pipeline.motion && (r = setup_motion(pl, ref, cause)) != RTC_OK)
		goto out;
	if (p->pipeline.glm && (r = setup_glm(pl, v, cause)) != RTC_OK)
		goto out;
	if ((r = setup_rois(pl, masks, cause)) != RTC_OK)
		goto out;
	if ((need = malloc(pl->nvox)) == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	memcpy(need, pl->mask, pl->nvox);
	if ((r = setup_classifier(pl, masks, need, cause)) != RTC_OK)
		goto out;
	if ((r = limit_reslice(pl, masks, need)) != RTC_OK)
		goto out;
	memset(pl->last_motion, 0, sizeof(pl->last_motion));
	rtc_project_fbstate_init(&pl->fb);
	pl->st.mask_voxels = pl->mask_count;
	memcpy(pl->st.centroid, pl->centroid, sizeof(pl->centroid));
	pl->ready = 1;
	rtc_log(pl->ctx, INFO, "reference set: %dx%dx%d, %.2fx%.2fx%.2f mm, "
	    "TR %.3g s; brain mask %zu voxels, centroid (%.1f, %.1f, %.1f) "
	    "mm", pl->g.nx, pl->g.ny, pl->g.nz, v->dx, v->dy, v->dz, pl->tr,
	    pl->mask_count, pl->centroid[0], pl->centroid[1],
	    pl->centroid[2]);
out:
	free(need);
	for (i = 0; i < RTC_PROJ_MAX_ROIS; i++)
		free(masks[i]);
	if (r != RTC_OK)
		pl_teardown(pl);
	return r;
}

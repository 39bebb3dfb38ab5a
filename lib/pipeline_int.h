/*
 * pipeline_int: the pipeline's state, shared by lib/pipeline.c (the
 * per-volume path) and lib/pipeline_setup.c (what is made from a run's
 * reference volume). Not for use outside these two files.
 */
#ifndef RTC_PIPELINE_INT_H
#define RTC_PIPELINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "feedback.h"
#include "kern_classify.h"
#include "kern_glm.h"
#include "kern_grid.h"
#include "kern_motion.h"
#include "kern_roi.h"
#include "kern_smooth.h"
#include "pipeline.h"
#include "project.h"

struct rtc_analysis_ext;
struct rtc_plugin_host;

/* An image read from the project's files, in its own grid. */
struct pl_image {
	float *data;
	struct rtc_grid grid;
};

/* One ROI of the project, in the current run's grid. */
struct pl_roi {
	struct rtc_roi *roi;      /* NULL: empty in this geometry */
	size_t *idx;              /* its voxels (for mean t) */
	size_t n;
	int key_mean, key_psc, key_z;     /* record slots, -1: none */
	int key_t[RTC_PROJ_MAX_CONTRASTS];
};

struct rtc_pipeline {
	struct rtc_ctx *ctx;
	const struct rtc_project *p;
	struct rtc_pipeline_opts o;

	/* from the project's files (rtc_pipeline_new) */
	struct pl_image ref_nii, mask_nii, weights_nii;
	struct pl_image roi_nii[RTC_PROJ_MAX_ROIS];
	struct rtc_events *ev;        /* NULL without events or blocks */
	int pos_cond, neg_cond;       /* label conditions; -1 rest */
	struct rtc_analysis_ext *ext;
	struct rtc_plugin_host *plugin;

	/* record keys: "ROI.mean" ... */
	int nkeys;
	char keys[RTC_FB_MAX_ROI][RTC_FB_NAME_MAX];

	/* per run */
	int need_setup;               /* take the next reference */
	int ready;                    /* set up for this run */
	int failed_logged;
	struct rtc_grid g;
	size_t nvox;
	uint8_t *mask;
	size_t mask_count;
	double centroid[3];
	double tr;                    /* the design's TR */
	int share_smooth;             /* motion on the pipeline's smoothing */
	struct rtc_motion *motion;
	struct rtc_smooth *smooth;
	struct rtc_design *design;
	struct rtc_glm *glm;
	int ncon;
	double *C;                    /* ncon x ncols */
	float *tmaps[RTC_PROJ_MAX_CONTRASTS];
	double *row;
	struct pl_roi rois[RTC_PROJ_MAX_ROIS];
	struct rtc_clf *clf;
	float *raw, *sm, *rs;         /* nvox each */
	double last_motion[6];        /* the last good estimate */
	struct rtc_proj_fbstate fb;

	struct rtc_pipeline_stats st;
};

/* pipeline_setup.c */

/* Read the project's files and events. RET: RTC_OK or an error. */
int pl_load_files(struct rtc_pipeline *pl, char **cause);

/* Free what pl_load_files() made. */
void pl_free_files(struct rtc_pipeline *pl);

/* Make the run's state from its reference: v when the project's
 * reference is a volume, else the NIfTI (resampled into v's grid when
 * they differ). RET: RTC_OK or an error (*cause). */
int pl_setup(struct rtc_pipeline *pl, const struct rtc_volume *v,
    char **cause);

/* Free the run's state (pl->ready = 0). */
void pl_teardown(struct rtc_pipeline *pl);

#endif

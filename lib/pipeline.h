/*
 * pipeline: a project's analysis of one volume at a time, composed from
 * the realtime kernels (rtc-project(5) says what each stage does):
 *
 *   float conversion
 *   -> motion (rigid registration to the run's reference; optional
 *      reslicing onto it)
 *   -> smoothing (Gaussian, FWHM in mm)
 *   -> incremental GLM (drift, motion, task regressors from events or
 *      blocks) and its contrasts' t maps
 *   -> ROI measures (mean, percent signal change, z, mean t)
 *   -> classifier (fixed weights or trained online)
 *   -> the project's own analysis (external process or C plugin)
 *   -> the feedback value (measure, scale, moving mean, clip)
 *
 * and the record (struct rtc_fb_record) filled on the way, with the
 * time at which each stage ended.
 *
 * SETUP. Everything that depends on the input's geometry is made from
 * the run's reference volume when it arrives: the first volume after the
 * dummies, the volume the project names, or the project's NIfTI
 * (resampled through world coordinates into the grid of the run's first
 * analysed volume when their grids differ). From it: the brain mask
 * (automatic, or the project's mask resampled), its centroid (where
 * spheres are placed), the motion model, the smoothing kernel, the GLM,
 * the ROI masks (NIfTI masks resampled, spheres in world mm), the
 * classifier (weights resampled, or an online learner). So any matrix,
 * voxel size, orientation or TR works without editing the project. Every
 * run sets up again from its own reference (a new series may have a new
 * geometry); with a NIfTI reference only a new geometry does. Volumes of
 * a run before its reference (a later reference index) are not analysed.
 * Files the project names are read once, by rtc_pipeline_new(); the
 * external analysis process and plugin are started there too.
 *
 * SHARED SMOOTHING. Motion estimation works on smoothed volumes (5 mm by
 * default). When the project smooths with 3 to 8 mm anyway, the volume is
 * smoothed once, registered smoothed, and resliced from the smoothed
 * volume (a rigid move and an isotropic Gaussian commute); the record's
 * motion stage then includes the smoothing and the smooth stage takes no
 * time of its own.
 *
 * HOT PATH. After setup, rtc_pipeline_process() allocates nothing on the
 * analysis path (every buffer is made at setup; the kernels allocate
 * nothing; tests/unit/check_pipeline_noalloc proves it); the kernels run
 * OpenMP-parallel. The external analysis writes one NIfTI per volume
 * (a file on a RAM-backed directory).
 *
 * Not thread-safe: one pipeline thread calls it.
 */
#ifndef RTC_PIPELINE_H
#define RTC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "feedback.h"
#include "kern_grid.h"

struct rtc_ctx;
struct rtc_project;
struct rtc_volume;
struct rtc_pipeline;

struct rtc_pipeline_opts {
	double tr;                /* s; 0: the volumes' own TR, else the
	                           * project's trInterval */
	int expected_volumes;     /* the run's length, for the drift
	                           * polynomials (0: 300) */
	int no_custom;            /* 1: do not start the custom analysis */
};

struct rtc_pipeline_stats {
	unsigned long long volumes;      /* process() calls */
	unsigned long long analysed;     /* volumes through the stages */
	unsigned long long not_analysed; /* dummies, before the reference */
	unsigned long long rejected;     /* wrong geometry, setup failed */
	unsigned long long motion_failures;
	unsigned long long setups;       /* references taken */
	size_t mask_voxels;              /* brain mask of the last setup */
	double centroid[3];              /* its centroid, world mm */
};

void rtc_pipeline_opts_init(struct rtc_pipeline_opts *o);

/*
 * IN: ctx (logging; may be NULL), p (the project, borrowed: keep it alive
 * while the pipeline lives), o (NULL: defaults). Reads the files the
 * project names (reference, masks, weights, events), checks the design
 * (contrast conditions exist), starts the custom analysis. OUT: *out,
 * freed with rtc_pipeline_free(). RET: RTC_OK; RTC_ERR_INVAL (the
 * project's files do not fit: *cause says which); RTC_ERR_NOT_FOUND,
 * RTC_ERR_FORMAT (a file); an error of the custom analysis' start;
 * RTC_ERR_NOMEM.
 */
int rtc_pipeline_new(struct rtc_ctx *ctx, const struct rtc_project *p,
    const struct rtc_pipeline_opts *o, struct rtc_pipeline **out,
    char **cause);

/* A new run begins (the next analysed volume's run): per-run state is
 * reset and, unless the reference is a NIfTI, a new reference taken. */
void rtc_pipeline_run_start(struct rtc_pipeline *pl);

/*
 * Analyse one volume. IN: v (frame 0 is used; not kept), dummy (nonzero:
 * flag it and do not analyse it). IN/OUT: r, prepared by the caller
 * (rtc_fb_record_init, run, vol (1-based place in the run: it sets the
 * design's time (vol - 1) * TR), series, acquisition_time, intake_ns, the
 * decoded stamp, flags) and filled here: motion, fd, ROI measures,
 * decision, custom values, feedback, stage stamps, flags (dummy,
 * motion_outlier, analysis_*). RET: RTC_OK (also for a volume that is not
 * analysed); RTC_ERR_FORMAT (a volume whose matrix differs from its
 * run's reference: not analysed); an error of the setup on the reference
 * volume (the run stays without analysis until the next reference).
 * *cause says why; the record is still complete enough to write.
 */
int rtc_pipeline_process(struct rtc_pipeline *pl, const struct rtc_volume *v,
    int dummy, struct rtc_fb_record *r, char **cause);

/* RET: names of the record's ROI measures the pipeline fills, in order
 * ("target.mean", "target.psc", "target.z", "target.t.task", ...): what a
 * feedback table's columns are. Known from rtc_pipeline_new() on. */
int rtc_pipeline_nkeys(const struct rtc_pipeline *pl);
const char *rtc_pipeline_key(const struct rtc_pipeline *pl, int i);

/* OUT: the analysis grid of the current run (RET: RTC_OK) or
 * RTC_ERR_AGAIN before its reference. */
int rtc_pipeline_grid(const struct rtc_pipeline *pl, struct rtc_grid *g);

/* OUT: the brain mask of the current run (nvox bytes of the grid; owned
 * by pl, valid until the next setup), or NULL before the reference. */
const uint8_t *rtc_pipeline_mask(const struct rtc_pipeline *pl);

void rtc_pipeline_get_stats(const struct rtc_pipeline *pl,
    struct rtc_pipeline_stats *st);

/* Stop the custom analysis, free everything. NULL is a no-op. */
void rtc_pipeline_free(struct rtc_pipeline *pl);

#endif

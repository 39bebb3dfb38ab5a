/*
 * kern_roi: per-volume measures of regions of interest, and the masks
 * that define them.
 *
 * For each ROI and volume: the mean over the ROI's voxels; the percent
 * signal change against a running baseline, 100 (mean - b) / b, b the
 * mean of the ROI means of earlier volumes marked as baseline (all of
 * them, or the last baseline_window); and a z-score (mean - mu) / sd
 * against the ROI means of earlier volumes (all, or the last
 * zscore_window; sd with n - 1). The current volume joins the history
 * after its own values are computed. Until there is a baseline volume
 * (PSC) or two earlier volumes with sd > 0 (z), the value is 0 and its
 * valid flag 0.
 *
 * Masks: an ROI is a byte mask in the functional grid, made from a
 * sphere in world coordinates, or resampled by world coordinates from a
 * mask given in another grid (its own affine, e.g. an anatomical-space
 * NIfTI).
 *
 * HOT PATH. rtc_roi_update() allocates nothing; large ROIs are summed in
 * parallel over fixed chunks added in order (thread-count independent).
 */
#ifndef RTC_KERN_ROI_H
#define RTC_KERN_ROI_H

#include <stddef.h>
#include <stdint.h>

#include "kern_grid.h"

#define RTC_ROI_MAX 256
#define RTC_ROI_MAX_WINDOW 100000

struct rtc_roi;

struct rtc_roi_opts {
	int baseline_window;      /* 0: all baseline volumes so far */
	int zscore_window;        /* 0: all earlier volumes */
};

struct rtc_roi_value {
	double mean;
	double psc;               /* percent signal change */
	double z;
	double baseline;          /* b used for psc */
	int valid_psc, valid_z;
};

void rtc_roi_opts_init(struct rtc_roi_opts *o);

/*
 * IN: g, nroi (1..RTC_ROI_MAX) masks of nvox bytes (nonzero = in; each
 * non-empty; copied), o (NULL = defaults). OUT: *rp, free with
 * rtc_roi_free(). RET: RTC_OK, RTC_ERR_INVAL, RTC_ERR_NOMEM.
 */
int rtc_roi_new(const struct rtc_grid *g, int nroi,
    const uint8_t *const *masks, const struct rtc_roi_opts *o,
    struct rtc_roi **rp, char **cause);
void rtc_roi_free(struct rtc_roi *r);

/* Forget the history (a new run). */
void rtc_roi_reset(struct rtc_roi *r);

/* RET: number of ROIs / voxels in ROI i. */
int rtc_roi_count(const struct rtc_roi *r);
size_t rtc_roi_nvox(const struct rtc_roi *r, int i);

/*
 * One volume. IN: vol (nvox floats), is_baseline (nonzero: this volume
 * joins the PSC baseline). OUT: out[nroi]. Non-finite voxels are left
 * out of the mean. Allocates nothing.
 */
void rtc_roi_update(struct rtc_roi *r, const float *vol, int is_baseline,
    struct rtc_roi_value *out);

/*
 * Sphere: voxels whose centre lies within radius_mm of center (world mm).
 * OUT: mask (nvox bytes), *count (may be NULL). RET: RTC_OK or
 * RTC_ERR_INVAL (bad grid, radius not > 0, non-finite centre).
 */
int rtc_roi_mask_sphere(const struct rtc_grid *g, const double center[3],
    double radius_mm, uint8_t *mask, size_t *count, char **cause);

/*
 * Resample a mask from its own grid into dst: each dst voxel centre is
 * mapped to src through the world coordinates, src is interpolated
 * trilinearly (0 outside), and the voxel is in when the value is >=
 * threshold (0.5 for a binary mask; for a label image pass a 0/1 image
 * of the wanted label). IN: src (nvox(src_grid) floats). OUT: mask
 * (nvox(dst) bytes), *count (may be NULL). RET: RTC_OK or RTC_ERR_INVAL.
 */
int rtc_roi_mask_resample(const float *src, const struct rtc_grid *src_grid,
    const struct rtc_grid *dst, double threshold, uint8_t *mask,
    size_t *count, char **cause);

#endif

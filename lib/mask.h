/*
 * mask: a brain mask from one volume (EPI or anatomical), for motion
 * estimation, the GLM and classifiers when the project gives none.
 *
 * Method: intensity threshold at a fraction of the robust range (2nd to
 * 98th percentile of nonzero voxels), keep the largest 6-connected
 * component, fill holes (in 3D, then in each axial slice, since EPI often
 * cuts the brain at the top and bottom of the field of view), then an
 * optional dilation.
 */
#ifndef RTC_MASK_H
#define RTC_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "kern_grid.h"

struct rtc_mask_opts {
	double frac;              /* threshold = p2 + frac * (p98 - p2)
	                           * (default 0.25) */
	int largest;              /* keep only the largest component (1) */
	int fill;                 /* fill holes (1) */
	int dilate;               /* dilate by this many voxels (0) */
};

/* OUT: *o with the defaults above. */
void rtc_mask_opts_init(struct rtc_mask_opts *o);

/*
 * IN: vol (rtc_grid_nvox(g) floats), g, o (NULL = defaults). OUT: mask
 * (nvox bytes, 1 = brain, 0 = not), *count (voxels in the mask; may be
 * NULL). RET: RTC_OK, RTC_ERR_INVAL (bad grid or options, or no voxel
 * passes the threshold), RTC_ERR_NOMEM. Allocates working memory: a setup
 * step, not for the per-volume path.
 */
int rtc_mask_auto(const float *vol, const struct rtc_grid *g,
    const struct rtc_mask_opts *o, uint8_t *mask, size_t *count,
    char **cause);

/* RET: the number of nonzero bytes in mask[0..n). */
size_t rtc_mask_count(const uint8_t *mask, size_t n);

/*
 * Morphology on a mask of grid g, in place, 6-connected, by r voxels.
 * RET: RTC_OK or RTC_ERR_NOMEM.
 */
int rtc_mask_dilate(uint8_t *mask, const struct rtc_grid *g, int r);
int rtc_mask_erode(uint8_t *mask, const struct rtc_grid *g, int r);

/*
 * Keep only the largest 6-connected component of mask (in place).
 * OUT: *count (may be NULL). RET: RTC_OK or RTC_ERR_NOMEM.
 */
int rtc_mask_largest_component(uint8_t *mask, const struct rtc_grid *g,
    size_t *count);

/* Fill holes: set every 0 voxel not 6-connected to the grid's border.
 * RET: RTC_OK or RTC_ERR_NOMEM. */
int rtc_mask_fill_holes(uint8_t *mask, const struct rtc_grid *g);

#endif

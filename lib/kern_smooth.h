/*
 * kern_smooth: separable Gaussian smoothing with the FWHM given in mm.
 *
 * The kernel along voxel axis a has sigma = FWHM / (sqrt(8 ln 2) * d_a),
 * d_a the voxel size along a (column norm of the affine), so anisotropic
 * voxels get the same width in mm on every axis. Taps are the sampled
 * Gaussian out to ceil(3 sigma), normalised; at the edges of the grid the
 * taps that fall outside are dropped and the rest renormalised, so a
 * constant image stays constant. An axis with sigma under 0.05 voxel is
 * left alone. (For oblique grids the axes are the voxel axes, which
 * scanners keep orthogonal.)
 *
 * HOT PATH. rtc_smooth_apply() allocates nothing (two scratch volumes
 * are made by rtc_smooth_new()), runs OpenMP-parallel over slices and
 * gives identical results for any number of threads.
 */
#ifndef RTC_KERN_SMOOTH_H
#define RTC_KERN_SMOOTH_H

#include "kern_grid.h"

struct rtc_smooth;

/* Widest kernel accepted: sigma up to 64 voxels. */
#define RTC_SMOOTH_MAX_RADIUS 192

/*
 * IN: g (the grid the volumes will have), fwhm_mm (>= 0; 0 copies).
 * OUT: *sp, free with rtc_smooth_free(). RET: RTC_OK, RTC_ERR_INVAL
 * (bad grid, negative or non-finite FWHM, kernel wider than
 * RTC_SMOOTH_MAX_RADIUS), RTC_ERR_NOMEM.
 */
int rtc_smooth_new(const struct rtc_grid *g, double fwhm_mm,
    struct rtc_smooth **sp, char **cause);
void rtc_smooth_free(struct rtc_smooth *s);

/* Smooth in (nvox floats) into out; in == out is allowed. */
void rtc_smooth_apply(struct rtc_smooth *s, const float *in, float *out);

/* OUT: sigma[3] in voxels and radius[3] in taps along i, j, k. */
void rtc_smooth_kernel_info(const struct rtc_smooth *s, double sigma[3],
    int radius[3]);

#endif

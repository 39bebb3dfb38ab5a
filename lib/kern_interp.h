/*
 * kern_interp: sampling a volume between its voxels, and resampling it
 * into another grid. Two interpolators: trilinear (cheap, what motion
 * estimation uses) and cubic B-spline (Unser's prefilter then a 4x4x4
 * kernel; smoother and far more accurate on smooth anatomy).
 *
 * Continuous voxel coordinates: voxel (i, j, k) sits at integer (i, j, k);
 * a point is inside when every coordinate lies in [-0.5, n - 0.5], the
 * extent of the voxels themselves. Near the border, trilinear clamps and
 * the B-spline mirrors.
 */
#ifndef RTC_KERN_INTERP_H
#define RTC_KERN_INTERP_H

#include <stdint.h>

#include "kern_grid.h"

enum rtc_interp {
	RTC_INTERP_LINEAR = 1,    /* trilinear */
	RTC_INTERP_BSPLINE = 2    /* cubic B-spline */
};

/*
 * Turn the samples in c (nx*ny*nz floats, in place) into cubic B-spline
 * coefficients with mirror boundaries. Parallel over lines (OpenMP);
 * allocates nothing.
 */
void rtc_interp_bspline_coeffs(float *c, int nx, int ny, int nz);

/*
 * IN: img (nx*ny*nz floats: samples for LINEAR, coefficients from
 * rtc_interp_bspline_coeffs() for BSPLINE), a continuous voxel position.
 * RET: the interpolated value, or outside when the point is not inside.
 */
float rtc_interp_sample(const float *img, int nx, int ny, int nz,
    enum rtc_interp interp, double x, double y, double z, float outside);

/*
 * Resample src into dst's grid: dst voxel v takes src's value at world
 * point M(A_dst v), M = map (a world -> world affine; NULL = identity),
 * converted into src's voxels. IN: src as for rtc_interp_sample(),
 * outside for points outside src. OUT: dst (rtc_grid_nvox(dst_grid)
 * floats). Parallel over slices; allocates nothing. RET: RTC_OK, or
 * RTC_ERR_INVAL when src_grid's affine is singular.
 */
int rtc_interp_resample(const float *src, const struct rtc_grid *src_grid,
    const struct rtc_grid *dst_grid, const double map[4][4],
    enum rtc_interp interp, float outside, float *dst);

/*
 * rtc_interp_resample() on part of dst only: on row r (voxels r * nx ..
 * r * nx + nx - 1 of dst, r = k * ny + j) the voxels i with rows[2r] <= i <
 * rows[2r + 1]; the others are left as they are. IN: rows (2 * ny * nz
 * ints; NULL: every voxel), see rtc_interp_rows().
 */
int rtc_interp_resample_rows(const float *src,
    const struct rtc_grid *src_grid, const struct rtc_grid *dst_grid,
    const double map[4][4], enum rtc_interp interp, float outside,
    const int *rows, float *dst);

/* OUT: rows (2 * ny * nz ints), on each row of g the span from the first
 * to the last voxel where need is nonzero (empty: 0, 0). */
void rtc_interp_rows(const struct rtc_grid *g, const uint8_t *need,
    int *rows);

#endif

/*
 * kern_grid: the geometry every realtime kernel works on. A grid is a
 * voxel lattice (nx, ny, nz; i fastest in memory) and the affine that maps
 * a voxel index (i, j, k, 1) to scanner RAS+ millimetres, as in NIfTI and
 * struct rtc_volume. Kernels take float voxels plus a grid; the caller
 * converts a decoded volume with rtc_volume_frame_to_float().
 */
#ifndef RTC_KERN_GRID_H
#define RTC_KERN_GRID_H

#include <stddef.h>

#include "volume.h"

struct rtc_grid {
	int nx, ny, nz;
	double affine[4][4];      /* voxel -> world (scanner RAS+, mm) */
};

/* Largest grid the kernels accept: 2^28 voxels, 2^15 along an axis. */
#define RTC_GRID_MAX_VOX ((size_t)1 << 28)
#define RTC_GRID_MAX_DIM 32768

/* OUT: *g with v's shape and affine. */
void rtc_grid_from_volume(const struct rtc_volume *v, struct rtc_grid *g);

/* IN: nx, ny, nz, affine (NULL: identity). OUT: *g. */
void rtc_grid_set(struct rtc_grid *g, int nx, int ny, int nz,
    const double affine[4][4]);

/* RET: RTC_OK when the shape is within the limits above and the affine is
 * invertible, else RTC_ERR_INVAL (*cause says why). */
int rtc_grid_check(const struct rtc_grid *g, char **cause);

/* RET: nx*ny*nz. */
size_t rtc_grid_nvox(const struct rtc_grid *g);

/* OUT: vs[3], the voxel size along i, j, k (column norms of the affine). */
void rtc_grid_voxel_size(const struct rtc_grid *g, double vs[3]);

/* Voxel (i, j, k) -> world. OUT: w[3]. */
void rtc_grid_vox2world(const struct rtc_grid *g, double i, double j,
    double k, double w[3]);

/* OUT: c[3], world position of the centre of the grid, the voxel point
 * ((nx-1)/2, (ny-1)/2, (nz-1)/2). */
void rtc_grid_center(const struct rtc_grid *g, double c[3]);

/* RET: nonzero when a and b have the same shape and affines equal within
 * tol (mm, per element). */
int rtc_grid_same(const struct rtc_grid *a, const struct rtc_grid *b,
    double tol);

#endif

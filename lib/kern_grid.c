/*
 * kern_grid: shape checks and affine utilities shared by the kernels. Pure
 * functions on small structs; nothing here allocates.
 */
#include "rtc_build.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "kern_grid.h"

void
rtc_grid_set(struct rtc_grid *g, int nx, int ny, int nz,
    const double affine[4][4])
{
	g->nx = nx;
	g->ny = ny;
	g->nz = nz;
	if (affine != NULL)
		memcpy(g->affine, affine, sizeof(g->affine));
	else
		rtc_affine_identity(g->affine);
}

void
rtc_grid_from_volume(const struct rtc_volume *v, struct rtc_grid *g)
{
	rtc_grid_set(g, v->nx, v->ny, v->nz, v->affine);
}

int
rtc_grid_check(const struct rtc_grid *g, char **cause)
{
	double inv[4][4];
	int r, c;

	if (g->nx < 1 || g->ny < 1 || g->nz < 1 || g->nx > RTC_GRID_MAX_DIM ||
	    g->ny > RTC_GRID_MAX_DIM || g->nz > RTC_GRID_MAX_DIM ||
	    (size_t)g->nx * (size_t)g->ny * (size_t)g->nz > RTC_GRID_MAX_VOX) {
		rtc_cause_set(cause, "grid %dx%dx%d outside 1..%d per axis or "
		    "over %zu voxels", g->nx, g->ny, g->nz, RTC_GRID_MAX_DIM,
		    RTC_GRID_MAX_VOX);
		return RTC_ERR_INVAL;
	}
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			if (!isfinite(g->affine[r][c])) {
				rtc_cause_set(cause, "affine has a non-finite "
				    "element");
				return RTC_ERR_INVAL;
			}
	if (g->affine[3][0] != 0.0 || g->affine[3][1] != 0.0 ||
	    g->affine[3][2] != 0.0 || g->affine[3][3] != 1.0) {
		rtc_cause_set(cause, "affine's last row is not 0 0 0 1");
		return RTC_ERR_INVAL;
	}
	if (rtc_affine_invert(g->affine, inv) != RTC_OK) {
		rtc_cause_set(cause, "affine is singular");
		return RTC_ERR_INVAL;
	}
	return RTC_OK;
}

size_t
rtc_grid_nvox(const struct rtc_grid *g)
{
	return (size_t)g->nx * (size_t)g->ny * (size_t)g->nz;
}

void
rtc_grid_voxel_size(const struct rtc_grid *g, double vs[3])
{
	int c;

	for (c = 0; c < 3; c++)
		vs[c] = sqrt(g->affine[0][c] * g->affine[0][c] +
		    g->affine[1][c] * g->affine[1][c] +
		    g->affine[2][c] * g->affine[2][c]);
}

void
rtc_grid_vox2world(const struct rtc_grid *g, double i, double j, double k,
    double w[3])
{
	int r;

	for (r = 0; r < 3; r++)
		w[r] = g->affine[r][0] * i + g->affine[r][1] * j +
		    g->affine[r][2] * k + g->affine[r][3];
}

void
rtc_grid_center(const struct rtc_grid *g, double c[3])
{
	rtc_grid_vox2world(g, 0.5 * (g->nx - 1), 0.5 * (g->ny - 1),
	    0.5 * (g->nz - 1), c);
}

int
rtc_grid_same(const struct rtc_grid *a, const struct rtc_grid *b, double tol)
{
	int r, c;

	if (a->nx != b->nx || a->ny != b->ny || a->nz != b->nz)
		return 0;
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			if (fabs(a->affine[r][c] - b->affine[r][c]) > tol)
				return 0;
	return 1;
}

/*
 * kern_interp: trilinear and cubic B-spline interpolation.
 *
 * The B-spline prefilter is the recursive filter of Unser, Aldroubi and
 * Eden (IEEE TSP 1993) with Thevenaz's mirror-boundary initial values: one
 * causal and one anti-causal pass along every line of every axis, in
 * place, pole z = sqrt(3) - 2. Lines are independent, so each axis runs in
 * parallel and needs no scratch memory; the recursion itself is done in
 * double precision and stored as float.
 */
#include "rtc_build.h"

#include <math.h>
#include <stddef.h>

#include "error.h"
#include "kern_interp.h"

#define BSPLINE_POLE (-0.2679491924311227)    /* sqrt(3) - 2 */
#define BSPLINE_TOL 1e-9

static double
causal_init(const float *c, size_t n, ptrdiff_t s, double z)
{
	long horizon = (long)ceil(log(BSPLINE_TOL) / log(fabs(z)));
	double sum, zn, iz, z2n;
	size_t i;

	if ((size_t)horizon < n) {
		zn = z;
		sum = c[0];
		for (i = 1; i < (size_t)horizon; i++) {
			sum += zn * c[(ptrdiff_t)i * s];
			zn *= z;
		}
		return sum;
	}
	zn = z;
	iz = 1.0 / z;
	z2n = pow(z, (double)(n - 1));
	sum = c[0] + z2n * c[(ptrdiff_t)(n - 1) * s];
	z2n *= z2n * iz;
	for (i = 1; i + 1 < n; i++) {
		sum += (zn + z2n) * c[(ptrdiff_t)i * s];
		zn *= z;
		z2n *= iz;
	}
	return sum / (1.0 - zn * zn);
}

/* One line of n samples spaced s floats apart, in place. */
static void
prefilter_line(float *c, size_t n, ptrdiff_t s)
{
	const double z = BSPLINE_POLE, lambda = (1.0 - z) * (1.0 - 1.0 / z);
	double prev, next, last;
	size_t i;

	if (n < 2)
		return;
	prev = lambda * causal_init(c, n, s, z);
	c[0] = (float)prev;
	for (i = 1; i < n; i++) {
		prev = lambda * c[(ptrdiff_t)i * s] + z * prev;
		c[(ptrdiff_t)i * s] = (float)prev;
	}
	/* anti-causal: c[n-1] from the last two causal values */
	last = (z / (z * z - 1.0)) * (z * c[(ptrdiff_t)(n - 2) * s] + prev);
	c[(ptrdiff_t)(n - 1) * s] = (float)last;
	next = last;
	for (i = n - 1; i-- > 0;) {
		next = z * (next - c[(ptrdiff_t)i * s]);
		c[(ptrdiff_t)i * s] = (float)next;
	}
}

void
rtc_interp_bspline_coeffs(float *c, int nx, int ny, int nz)
{
	ptrdiff_t sx = 1, sy = nx, sz = (ptrdiff_t)nx * ny;
	long line, nlines;

	nlines = (long)ny * nz;
#pragma omp parallel for schedule(static)
	for (line = 0; line < nlines; line++)
		prefilter_line(c + line * sy, (size_t)nx, sx);
	nlines = (long)nx * nz;
#pragma omp parallel for schedule(static)
	for (line = 0; line < nlines; line++) {
		long i = line % nx, k = line / nx;

		prefilter_line(c + k * sz + i, (size_t)ny, sy);
	}
	nlines = (long)nx * ny;
#pragma omp parallel for schedule(static)
	for (line = 0; line < nlines; line++)
		prefilter_line(c + line, (size_t)nz, sz);
}

static inline int
mirror(int i, int n)
{
	if (n == 1)
		return 0;
	while (i < 0 || i >= n) {
		if (i < 0)
			i = -i;
		if (i >= n)
			i = 2 * (n - 1) - i;
	}
	return i;
}

static inline void
bspline_weights(double t, double w[4])
{
	double t2 = t * t, t3 = t2 * t, u = 1.0 - t;

	w[0] = u * u * u / 6.0;
	w[1] = (4.0 - 6.0 * t2 + 3.0 * t3) / 6.0;
	w[2] = (1.0 + 3.0 * t + 3.0 * t2 - 3.0 * t3) / 6.0;
	w[3] = t3 / 6.0;
}

static float
sample_bspline(const float *c, int nx, int ny, int nz, double x, double y,
    double z)
{
	double wx[4], wy[4], wz[4], fx = floor(x), fy = floor(y), fz = floor(z);
	double sum = 0.0;
	int ix[4], iy[4], iz[4], a, b, d;
	size_t sxy = (size_t)nx * ny;

	bspline_weights(x - fx, wx);
	bspline_weights(y - fy, wy);
	bspline_weights(z - fz, wz);
	for (a = 0; a < 4; a++) {
		ix[a] = mirror((int)fx - 1 + a, nx);
		iy[a] = mirror((int)fy - 1 + a, ny);
		iz[a] = mirror((int)fz - 1 + a, nz);
	}
	for (d = 0; d < 4; d++) {
		double sz_ = 0.0;

		for (b = 0; b < 4; b++) {
			const float *row = c + (size_t)iz[d] * sxy +
			    (size_t)iy[b] * (size_t)nx;
			double sr = wx[0] * row[ix[0]] + wx[1] * row[ix[1]] +
			    wx[2] * row[ix[2]] + wx[3] * row[ix[3]];

			sz_ += wy[b] * sr;
		}
		sum += wz[d] * sz_;
	}
	return (float)sum;
}

static inline double
clampd(double v, double hi)
{
	return v < 0.0 ? 0.0 : (v > hi ? hi : v);
}

static float
sample_linear(const float *img, int nx, int ny, int nz, double x, double y,
    double z)
{
	int i0, j0, k0, i1, j1, k1;
	double fx, fy, fz;
	size_t sxy = (size_t)nx * ny;
	const float *p00, *p01, *p10, *p11;
	double c00, c01, c10, c11;

	x = clampd(x, nx - 1);
	y = clampd(y, ny - 1);
	z = clampd(z, nz - 1);
	i0 = (int)x;
	j0 = (int)y;
	k0 = (int)z;
	fx = x - i0;
	fy = y - j0;
	fz = z - k0;
	i1 = i0 + 1 < nx ? i0 + 1 : i0;
	j1 = j0 + 1 < ny ? j0 + 1 : j0;
	k1 = k0 + 1 < nz ? k0 + 1 : k0;
	p00 = img + (size_t)k0 * sxy + (size_t)j0 * nx;
	p01 = img + (size_t)k0 * sxy + (size_t)j1 * nx;
	p10 = img + (size_t)k1 * sxy + (size_t)j0 * nx;
	p11 = img + (size_t)k1 * sxy + (size_t)j1 * nx;
	c00 = p00[i0] + fx * (p00[i1] - p00[i0]);
	c01 = p01[i0] + fx * (p01[i1] - p01[i0]);
	c10 = p10[i0] + fx * (p10[i1] - p10[i0]);
	c11 = p11[i0] + fx * (p11[i1] - p11[i0]);
	c00 += fy * (c01 - c00);
	c10 += fy * (c11 - c10);
	return (float)(c00 + fz * (c10 - c00));
}

float
rtc_interp_sample(const float *img, int nx, int ny, int nz,
    enum rtc_interp interp, double x, double y, double z, float outside)
{
	if (!(x >= -0.5 && x <= nx - 0.5 && y >= -0.5 && y <= ny - 0.5 &&
	    z >= -0.5 && z <= nz - 0.5))
		return outside;
	if (interp == RTC_INTERP_BSPLINE)
		return sample_bspline(img, nx, ny, nz, x, y, z);
	return sample_linear(img, nx, ny, nz, x, y, z);
}

int
rtc_interp_resample(const float *src, const struct rtc_grid *src_grid,
    const struct rtc_grid *dst_grid, const double map[4][4],
    enum rtc_interp interp, float outside, float *dst)
{
	double inv[4][4], m[4][4];
	int k, nx = dst_grid->nx, ny = dst_grid->ny, nz = dst_grid->nz;

	if (rtc_affine_invert(src_grid->affine, inv) != RTC_OK)
		return RTC_ERR_INVAL;
	/* m: dst voxel -> src voxel */
	if (map != NULL) {
		rtc_affine_mul(inv, map, m);
		rtc_affine_mul(m, dst_grid->affine, m);
	} else
		rtc_affine_mul(inv, dst_grid->affine, m);
#pragma omp parallel for schedule(static)
	for (k = 0; k < nz; k++) {
		int i, j;
		float *out = dst + (size_t)k * nx * ny;

		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				double x = m[0][0] * i + m[0][1] * j +
				    m[0][2] * k + m[0][3];
				double y = m[1][0] * i + m[1][1] * j +
				    m[1][2] * k + m[1][3];
				double z = m[2][0] * i + m[2][1] * j +
				    m[2][2] * k + m[2][3];

				out[(size_t)j * nx + i] = rtc_interp_sample(src,
				    src_grid->nx, src_grid->ny, src_grid->nz,
				    interp, x, y, z, outside);
			}
	}
	return RTC_OK;
}

/*
 * kern_interp: trilinear and cubic B-spline interpolation.
 *
 * The B-spline prefilter is the recursive filter of Unser, Aldroubi and
 * Eden (IEEE TSP 1993) with Thevenaz's mirror-boundary initial values: one
 * causal and one anti-causal pass along every line of every axis, in
 * place, pole z = sqrt(3) - 2, in single precision (the filter is stable
 * and short: |z|^16 < 1e-9). Lines are independent: each pass runs many
 * lines side by side (contiguous ones as SIMD vectors), in parallel over
 * slices or rows, and needs no scratch memory.
 */
#include "rtc_build.h"

#include <math.h>
#include <stddef.h>

#include "error.h"
#include "kern_interp.h"

#define BSPLINE_POLE (-0.2679491924311227)    /* sqrt(3) - 2 */
#define BSPLINE_HORIZON 16                     /* |z|^16 < 1e-9 */
#define TILE_MAX_NX 512                        /* 16 KiB on the stack */

/*
 * Prefilter m lines of n samples in place: line l, sample t at
 * c[l * ls + t * ts]. Every step is written for all m lines at once; with
 * ls = 1 (contiguous "lanes") the inner loops run over
 * contiguous memory and vectorise. All state lives in c itself: c[0]
 * accumulates the causal initial value, and each recursion reads the
 * value it stored one step before. Inlined into each caller, so the
 * stride is a constant where it is one.
 */
static inline __attribute__((always_inline)) void
prefilter(float *c, size_t n, ptrdiff_t ts, size_t m, ptrdiff_t ls)
{
	const float z = (float)BSPLINE_POLE;
	const float lambda = (float)((1.0 - BSPLINE_POLE) *
	    (1.0 - 1.0 / BSPLINE_POLE));
	const float za = (float)(BSPLINE_POLE / (BSPLINE_POLE * BSPLINE_POLE -
	    1.0));
	size_t l, t;

	if (n < 2)
		return;
	/* causal initial value (mirror boundary), accumulated into c[0] */
	if (n > BSPLINE_HORIZON) {
		float zt = z;

		for (t = 1; t < BSPLINE_HORIZON; t++) {
			float *ct = c + (ptrdiff_t)t * ts;

#pragma omp simd
			for (l = 0; l < m; l++)
				c[(ptrdiff_t)l * ls] += zt * ct[(ptrdiff_t)l * ls];
			zt *= z;
		}
	} else {
		double zn = BSPLINE_POLE, z2n = pow(BSPLINE_POLE, (double)(n - 1));
		float last = (float)z2n, norm;
		float *cl = c + (ptrdiff_t)(n - 1) * ts;

		z2n = z2n * z2n / BSPLINE_POLE;
		for (t = 1; t + 1 < n; t++) {
			float w = (float)(zn + z2n);
			float *ct = c + (ptrdiff_t)t * ts;

			for (l = 0; l < m; l++)
				c[(ptrdiff_t)l * ls] += w * ct[(ptrdiff_t)l * ls];
			zn *= BSPLINE_POLE;
			z2n /= BSPLINE_POLE;
		}
		norm = (float)(1.0 / (1.0 - zn * zn));
		for (l = 0; l < m; l++)
			c[(ptrdiff_t)l * ls] = (c[(ptrdiff_t)l * ls] +
			    last * cl[(ptrdiff_t)l * ls]) * norm;
	}
#pragma omp simd
	for (l = 0; l < m; l++)
		c[(ptrdiff_t)l * ls] *= lambda;
	/* causal recursion */
	for (t = 1; t < n; t++) {
		float *ct = c + (ptrdiff_t)t * ts, *cp = ct - ts;

#pragma omp simd
		for (l = 0; l < m; l++)
			ct[(ptrdiff_t)l * ls] = lambda * ct[(ptrdiff_t)l * ls] +
			    z * cp[(ptrdiff_t)l * ls];
	}
	/* anti-causal initial value and recursion */
	{
		float *cl = c + (ptrdiff_t)(n - 1) * ts, *cq = cl - ts;

#pragma omp simd
		for (l = 0; l < m; l++)
			cl[(ptrdiff_t)l * ls] = za * (cl[(ptrdiff_t)l * ls] +
			    z * cq[(ptrdiff_t)l * ls]);
	}
	for (t = n - 1; t-- > 0;) {
		float *ct = c + (ptrdiff_t)t * ts, *cn = ct + ts;

#pragma omp simd
		for (l = 0; l < m; l++)
			ct[(ptrdiff_t)l * ls] = z * (cn[(ptrdiff_t)l * ls] -
			    ct[(ptrdiff_t)l * ls]);
	}
}

void
rtc_interp_bspline_coeffs(float *c, int nx, int ny, int nz)
{
	const ptrdiff_t sy = nx, sz = (ptrdiff_t)nx * ny;
	long q, nq;
	int k, j;

	/* along i: groups of 8 rows, independent recursions side by side */
	nq = (long)nz * ((ny + 7) / 8);
#pragma omp parallel for schedule(static)
	for (q = 0; q < nq; q++) {
		long kk = q / ((ny + 7) / 8), j0 = (q % ((ny + 7) / 8)) * 8;
		size_t m = ny - j0 < 8 ? (size_t)(ny - j0) : 8;

		float *base = c + kk * sz + j0 * sy;

		if (nx <= TILE_MAX_NX) {
			/* transpose the rows into a tile whose 8 lanes are
			 * contiguous, filter it as vectors, transpose back */
			float tile[TILE_MAX_NX * 8];
			size_t t, l;

			for (l = 0; l < 8; l++)
				for (t = 0; t < (size_t)nx; t++)
					tile[t * 8 + l] = l < m ?
					    base[(ptrdiff_t)l * sy + t] : 0.0f;
			prefilter(tile, (size_t)nx, 8, 8, 1);
			for (l = 0; l < m; l++)
				for (t = 0; t < (size_t)nx; t++)
					base[(ptrdiff_t)l * sy + t] = tile[t * 8 + l];
		} else
			prefilter(base, (size_t)nx, 1, m, sy);
	}
	/* along j: per slice, all i at once */
#pragma omp parallel for schedule(static)
	for (k = 0; k < nz; k++)
		prefilter(c + (ptrdiff_t)k * sz, (size_t)ny, sy,
		    (size_t)nx, 1);
	/* along k: per row j, all i at once */
#pragma omp parallel for schedule(static)
	for (j = 0; j < ny; j++)
		prefilter(c + (ptrdiff_t)j * sy, (size_t)nz, sz,
		    (size_t)nx, 1);
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

/* sample_linear() for 0 <= x < nx - 1 (likewise y, z), where it clamps
 * nothing: the same result, bit for bit, without the checks. */
static inline float
linear_inside(const float *img, int nx, size_t sxy, double x, double y,
    double z)
{
	int i0 = (int)x, j0 = (int)y, k0 = (int)z;
	double fx = x - i0, fy = y - j0, fz = z - k0;
	const float *p00 = img + (size_t)k0 * sxy + (size_t)j0 * nx + i0;
	const float *p01 = p00 + nx, *p10 = p00 + sxy, *p11 = p10 + nx;
	double c00 = p00[0] + fx * (p00[1] - p00[0]);
	double c01 = p01[0] + fx * (p01[1] - p01[0]);
	double c10 = p10[0] + fx * (p10[1] - p10[0]);
	double c11 = p11[0] + fx * (p11[1] - p11[0]);

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
	return rtc_interp_resample_rows(src, src_grid, dst_grid, map, interp,
	    outside, NULL, dst);
}

void
rtc_interp_rows(const struct rtc_grid *g, const uint8_t *need, int *rows)
{
	size_t r, nrows = (size_t)g->ny * g->nz;
	int i;

	for (r = 0; r < nrows; r++) {
		const uint8_t *row = need + r * (size_t)g->nx;
		int lo = 0, hi = 0;

		for (i = 0; i < g->nx; i++)
			if (row[i]) {
				if (hi == 0)
					lo = i;
				hi = i + 1;
			}
		rows[2 * r] = lo;
		rows[2 * r + 1] = hi;
	}
}

int
rtc_interp_resample_rows(const float *src, const struct rtc_grid *src_grid,
    const struct rtc_grid *dst_grid, const double map[4][4],
    enum rtc_interp interp, float outside, const int *rows, float *dst)
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
		const int sx = src_grid->nx, sy = src_grid->ny;
		const int sz = src_grid->nz;
		const double hx = sx - 1, hy = sy - 1, hz = sz - 1;
		const size_t sxy = (size_t)sx * sy;
		int i, j;
		float *out = dst + (size_t)k * nx * ny;

		for (j = 0; j < ny; j++) {
			const int *span = rows != NULL ?
			    rows + 2 * ((size_t)k * ny + j) : NULL;
			int i0 = span != NULL ? span[0] : 0;
			int i1 = span != NULL ? span[1] : nx;

			for (i = i0; i < i1; i++) {
				double x = m[0][0] * i + m[0][1] * j +
				    m[0][2] * k + m[0][3];
				double y = m[1][0] * i + m[1][1] * j +
				    m[1][2] * k + m[1][3];
				double z = m[2][0] * i + m[2][1] * j +
				    m[2][2] * k + m[2][3];

				/* trilinear with all 8 taps inside: inline,
				 * the same arithmetic as sample_linear() */
				if (interp == RTC_INTERP_LINEAR && x >= 0.0 &&
				    x < hx && y >= 0.0 && y < hy && z >= 0.0 &&
				    z < hz)
					out[(size_t)j * nx + i] = linear_inside(
					    src, sx, sxy, x, y, z);
				else
					out[(size_t)j * nx + i] =
					    rtc_interp_sample(src, sx, sy, sz,
					    interp, x, y, z, outside);
			}
		}
	}
	return RTC_OK;
}

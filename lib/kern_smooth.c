/*
 * kern_smooth: three out-of-place passes, in -> tmp1 (along i), tmp1 ->
 * tmp2 (along j), tmp2 -> out (along k), each parallel over slices k.
 * Every pass is written as "for each tap, add w * shifted line" over
 * whole contiguous rows or slices, which the compiler vectorises; edge
 * renormalisation is one precomputed factor per position and axis.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kern_smooth.h"

struct axis {
	int n, r;
	double sigma;
	float *w;               /* 2r+1 taps, w[r] the centre */
	float *norm;            /* n factors: 1 / sum of in-range taps */
};

struct rtc_smooth {
	struct rtc_grid g;
	struct axis ax[3];
	float *tmp1, *tmp2;
};

static int
axis_init(struct axis *a, int n, double sigma)
{
	double sum = 0.0;
	int t, p;

	a->n = n;
	a->sigma = sigma;
	a->r = sigma < 0.05 ? 0 : (int)ceil(3.0 * sigma);
	if (a->r > RTC_SMOOTH_MAX_RADIUS)
		return RTC_ERR_INVAL;
	a->w = malloc((size_t)(2 * a->r + 1) * sizeof(float));
	a->norm = malloc((size_t)n * sizeof(float));
	if (a->w == NULL || a->norm == NULL)
		return RTC_ERR_NOMEM;
	for (t = -a->r; t <= a->r; t++) {
		double v = a->r == 0 ? 1.0 :
		    exp(-0.5 * (double)t * t / (sigma * sigma));

		a->w[t + a->r] = (float)v;
		sum += v;
	}
	for (t = 0; t <= 2 * a->r; t++)
		a->w[t] = (float)(a->w[t] / sum);
	for (p = 0; p < n; p++) {
		double s = 0.0;

		for (t = -a->r; t <= a->r; t++)
			if (p + t >= 0 && p + t < n)
				s += a->w[t + a->r];
		a->norm[p] = (float)(1.0 / s);
	}
	return RTC_OK;
}

int
rtc_smooth_new(const struct rtc_grid *g, double fwhm_mm,
    struct rtc_smooth **sp, char **cause)
{
	struct rtc_smooth *s;
	double vs[3];
	int rc, a, n[3];
	size_t nvox;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (!isfinite(fwhm_mm) || fwhm_mm < 0.0) {
		rtc_cause_set(cause, "smooth: FWHM must be a finite number "
		    ">= 0 mm");
		return RTC_ERR_INVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->g = *g;
	rtc_grid_voxel_size(g, vs);
	n[0] = g->nx;
	n[1] = g->ny;
	n[2] = g->nz;
	for (a = 0; a < 3; a++) {
		rc = axis_init(&s->ax[a], n[a],
		    fwhm_mm / (sqrt(8.0 * log(2.0)) * vs[a]));
		if (rc == RTC_ERR_NOMEM)
			goto nomem;
		if (rc != RTC_OK) {
			rtc_cause_set(cause, "smooth: FWHM %g mm is over %d "
			    "voxels of radius", fwhm_mm, RTC_SMOOTH_MAX_RADIUS);
			rtc_smooth_free(s);
			return rc;
		}
	}
	nvox = rtc_grid_nvox(g);
	s->tmp1 = malloc(nvox * sizeof(float));
	s->tmp2 = malloc(nvox * sizeof(float));
	if (s->tmp1 == NULL || s->tmp2 == NULL)
		goto nomem;
	*sp = s;
	return RTC_OK;
nomem:
	rtc_smooth_free(s);
	rtc_cause_set(cause, "smooth: out of memory");
	return RTC_ERR_NOMEM;
}

void
rtc_smooth_free(struct rtc_smooth *s)
{
	int a;

	if (s == NULL)
		return;
	for (a = 0; a < 3; a++) {
		free(s->ax[a].w);
		free(s->ax[a].norm);
	}
	free(s->tmp1);
	free(s->tmp2);
	free(s);
}

void
rtc_smooth_kernel_info(const struct rtc_smooth *s, double sigma[3],
    int radius[3])
{
	int a;

	for (a = 0; a < 3; a++) {
		sigma[a] = s->ax[a].sigma;
		radius[a] = s->ax[a].r;
	}
}

/* dst[0..n) = sum_t w[t] * src[(t - r) * stride ...]: one line or plane
 * of length len (contiguous), gathering the in-range neighbours at
 * positions p + t, p the line's index along the axis. */
static void
pass_lines(const struct axis *a, const float *src, float *dst, size_t len,
    size_t stride, int p)
{
	int t, lo = p - a->r < 0 ? -p : -a->r;
	int hi = p + a->r >= a->n ? a->n - 1 - p : a->r;
	float nrm = a->norm[p];
	size_t i;

	{
		const float *s0 = src + (ptrdiff_t)lo * (ptrdiff_t)stride;
		float w0 = a->w[lo + a->r];

#pragma omp simd
		for (i = 0; i < len; i++)
			dst[i] = w0 * s0[i];
	}
	for (t = lo + 1; t <= hi; t++) {
		const float *st = src + (ptrdiff_t)t * (ptrdiff_t)stride;
		float w = a->w[t + a->r];

#pragma omp simd
		for (i = 0; i < len; i++)
			dst[i] += w * st[i];
	}
	if (nrm != 1.0f) {
#pragma omp simd
		for (i = 0; i < len; i++)
			dst[i] *= nrm;
	}
}

/* Along i: each row independently. */
static void
pass_rows(const struct axis *a, const float *src, float *dst, int nx)
{
	int t, i;

	for (i = 0; i < nx; i++)
		dst[i] = 0.0f;
	for (t = -a->r; t <= a->r; t++) {
		int lo = t < 0 ? -t : 0, hi = t > 0 ? nx - t : nx;
		float w = a->w[t + a->r];

#pragma omp simd
		for (i = lo; i < hi; i++)
			dst[i] += w * src[i + t];
	}
#pragma omp simd
	for (i = 0; i < nx; i++)
		dst[i] *= a->norm[i];
}

/* Destination of a pass: out when it is the last one and does not alias
 * its source, else a scratch volume other than the source. */
static float *
pass_dst(struct rtc_smooth *s, const float *src, float *out, int last)
{
	if (last && src != out)
		return out;
	return src == s->tmp1 ? s->tmp2 : s->tmp1;
}

void
rtc_smooth_apply(struct rtc_smooth *s, const float *in, float *out)
{
	const int nx = s->g.nx, ny = s->g.ny, nz = s->g.nz;
	const size_t sxy = (size_t)nx * ny;
	const float *src = in;
	float *dst;
	int k, last;

	last = s->ax[2].r > 0 ? 2 : s->ax[1].r > 0 ? 1 : s->ax[0].r > 0 ? 0 : -1;
	if (last < 0) {
		if (in != out)
			memcpy(out, in, sxy * (size_t)nz * sizeof(float));
		return;
	}
	if (s->ax[0].r > 0) {
		dst = pass_dst(s, src, out, last == 0);
#pragma omp parallel for schedule(static)
		for (k = 0; k < nz; k++) {
			int j;

			for (j = 0; j < ny; j++) {
				size_t o = (size_t)k * sxy + (size_t)j * nx;

				pass_rows(&s->ax[0], src + o, dst + o, nx);
			}
		}
		src = dst;
	}
	if (s->ax[1].r > 0) {
		dst = pass_dst(s, src, out, last == 1);
#pragma omp parallel for schedule(static)
		for (k = 0; k < nz; k++) {
			int j;

			for (j = 0; j < ny; j++) {
				size_t o = (size_t)k * sxy + (size_t)j * nx;

				pass_lines(&s->ax[1], src + o, dst + o,
				    (size_t)nx, (size_t)nx, j);
			}
		}
		src = dst;
	}
	if (s->ax[2].r > 0) {
		dst = pass_dst(s, src, out, 1);
#pragma omp parallel for schedule(static)
		for (k = 0; k < nz; k++) {
			size_t o = (size_t)k * sxy;

			pass_lines(&s->ax[2], src + o, dst + o, sxy, sxy, k);
		}
		src = dst;
	}
	if (src != out)
		memcpy(out, src, sxy * (size_t)nz * sizeof(float));
}

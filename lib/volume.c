/*
 * volume: allocation, reshaping without churn, type conversion and affine
 * algebra (4x4 inverse by Gauss-Jordan with partial pivoting).
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "volume.h"

size_t
rtc_dtype_size(enum rtc_dtype t)
{
	switch (t) {
	case RTC_DT_UINT8: return 1;
	case RTC_DT_INT16:
	case RTC_DT_UINT16: return 2;
	case RTC_DT_INT32:
	case RTC_DT_UINT32:
	case RTC_DT_FLOAT32: return 4;
	case RTC_DT_FLOAT64: return 8;
	}
	return 0;
}

const char *
rtc_dtype_name(enum rtc_dtype t)
{
	switch (t) {
	case RTC_DT_UINT8: return "uint8";
	case RTC_DT_INT16: return "int16";
	case RTC_DT_UINT16: return "uint16";
	case RTC_DT_INT32: return "int32";
	case RTC_DT_UINT32: return "uint32";
	case RTC_DT_FLOAT32: return "float32";
	case RTC_DT_FLOAT64: return "float64";
	}
	return "unknown";
}

void
rtc_affine_identity(double a[4][4])
{
	int r, c;

	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			a[r][c] = r == c ? 1.0 : 0.0;
}

struct rtc_volume *
rtc_volume_new(int nx, int ny, int nz, int nt, enum rtc_dtype t)
{
	struct rtc_volume *v;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	rtc_affine_identity(v->affine);
	v->dx = v->dy = v->dz = 1.0;
	v->acq.series_number = v->acq.acquisition_number = -1;
	v->acq.instance_number = -1;
	v->acq.acquisition_time = -1.0;
	if (rtc_volume_reshape(v, nx, ny, nz, nt, t) != RTC_OK) {
		rtc_volume_free(v);
		return NULL;
	}
	if (v->data != NULL)
		memset(v->data, 0, v->cap);
	return v;
}

void
rtc_volume_free(struct rtc_volume *v)
{
	if (v == NULL)
		return;
	free(v->data);
	free(v->slice_timing);
	free(v);
}

int
rtc_volume_reshape(struct rtc_volume *v, int nx, int ny, int nz, int nt,
    enum rtc_dtype t)
{
	size_t es = rtc_dtype_size(t), n;
	void *p;

	if (nx <= 0 || ny <= 0 || nz <= 0 || nt <= 0 || es == 0)
		return RTC_ERR_INVAL;
	/* overflow-checked nx*ny*nz*nt*es */
	n = (size_t)nx;
	if (n > SIZE_MAX / (size_t)ny) return RTC_ERR_TOO_BIG;
	n *= (size_t)ny;
	if (n > SIZE_MAX / (size_t)nz) return RTC_ERR_TOO_BIG;
	n *= (size_t)nz;
	if (n > SIZE_MAX / (size_t)nt) return RTC_ERR_TOO_BIG;
	n *= (size_t)nt;
	if (n > SIZE_MAX / es) return RTC_ERR_TOO_BIG;
	n *= es;
	if (n > v->cap) {
		p = realloc(v->data, n);
		if (p == NULL)
			return RTC_ERR_NOMEM;
		v->data = p;
		v->cap = n;
	}
	if (v->nz != nz) {
		free(v->slice_timing);
		v->slice_timing = NULL;
	}
	v->nx = nx;
	v->ny = ny;
	v->nz = nz;
	v->nt = nt;
	v->dtype = t;
	return RTC_OK;
}

int
rtc_volume_copy_header(struct rtc_volume *dst, const struct rtc_volume *src)
{
	dst->dx = src->dx;
	dst->dy = src->dy;
	dst->dz = src->dz;
	dst->tr = src->tr;
	memcpy(dst->affine, src->affine, sizeof(dst->affine));
	dst->scl_slope = src->scl_slope;
	dst->scl_inter = src->scl_inter;
	dst->acq = src->acq;
	if (src->slice_timing != NULL && dst->nz == src->nz) {
		if (dst->slice_timing == NULL) {
			dst->slice_timing = malloc((size_t)src->nz * sizeof(double));
			if (dst->slice_timing == NULL)
				return RTC_ERR_NOMEM;
		}
		memcpy(dst->slice_timing, src->slice_timing,
		    (size_t)src->nz * sizeof(double));
	}
	return RTC_OK;
}

size_t
rtc_volume_nvox(const struct rtc_volume *v)
{
	return (size_t)v->nx * (size_t)v->ny * (size_t)v->nz;
}

size_t
rtc_volume_nbytes(const struct rtc_volume *v)
{
	return rtc_volume_nvox(v) * (size_t)v->nt * rtc_dtype_size(v->dtype);
}

#define CONVERT(type)                                                     \
	do {                                                              \
		const type *src = (const type *)v->data + off;            \
		if (scaled)                                               \
			for (i = 0; i < n; i++)                           \
				out[i] = (float)((double)src[i] * slope + inter); \
		else                                                      \
			for (i = 0; i < n; i++)                           \
				out[i] = (float)src[i];                   \
	} while (0)

void
rtc_volume_frame_to_float(const struct rtc_volume *v, int t, float *out)
{
	size_t n = rtc_volume_nvox(v), off = n * (size_t)t, i;
	double slope = v->scl_slope, inter = v->scl_inter;
	int scaled = slope != 0.0 && (slope != 1.0 || inter != 0.0);

	switch (v->dtype) {
	case RTC_DT_UINT8: CONVERT(uint8_t); break;
	case RTC_DT_INT16: CONVERT(int16_t); break;
	case RTC_DT_UINT16: CONVERT(uint16_t); break;
	case RTC_DT_INT32: CONVERT(int32_t); break;
	case RTC_DT_UINT32: CONVERT(uint32_t); break;
	case RTC_DT_FLOAT32: CONVERT(float); break;
	case RTC_DT_FLOAT64: CONVERT(double); break;
	}
}

void
rtc_volume_vox2world(const struct rtc_volume *v, double i, double j,
    double k, double out[3])
{
	int r;

	for (r = 0; r < 3; r++)
		out[r] = v->affine[r][0] * i + v->affine[r][1] * j +
		    v->affine[r][2] * k + v->affine[r][3];
}

void
rtc_volume_update_voxel_size(struct rtc_volume *v)
{
	double *d[3] = { &v->dx, &v->dy, &v->dz };
	int c;

	for (c = 0; c < 3; c++)
		*d[c] = sqrt(v->affine[0][c] * v->affine[0][c] +
		    v->affine[1][c] * v->affine[1][c] +
		    v->affine[2][c] * v->affine[2][c]);
}

void
rtc_rotation_zyx(const double rot[3], double R[3][3])
{
	double ca = cos(rot[0]), sa = sin(rot[0]);
	double cb = cos(rot[1]), sb = sin(rot[1]);
	double cg = cos(rot[2]), sg = sin(rot[2]);

	R[0][0] = cg * cb;
	R[0][1] = cg * sb * sa - sg * ca;
	R[0][2] = cg * sb * ca + sg * sa;
	R[1][0] = sg * cb;
	R[1][1] = sg * sb * sa + cg * ca;
	R[1][2] = sg * sb * ca - cg * sa;
	R[2][0] = -sb;
	R[2][1] = cb * sa;
	R[2][2] = cb * ca;
}

void
rtc_affine_mul(const double a[4][4], const double b[4][4], double out[4][4])
{
	double t[4][4];
	int r, c, k;

	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++) {
			t[r][c] = 0.0;
			for (k = 0; k < 4; k++)
				t[r][c] += a[r][k] * b[k][c];
		}
	memcpy(out, t, sizeof(t));
}

int
rtc_affine_invert(const double a[4][4], double out[4][4])
{
	double m[4][8];
	int r, c, p, best;

	for (r = 0; r < 4; r++)
		for (c = 0; c < 8; c++)
			m[r][c] = c < 4 ? a[r][c] : (c - 4 == r ? 1.0 : 0.0);
	for (p = 0; p < 4; p++) {
		best = p;
		for (r = p + 1; r < 4; r++)
			if (fabs(m[r][p]) > fabs(m[best][p]))
				best = r;
		if (fabs(m[best][p]) < 1e-12)
			return RTC_ERR_INVAL;
		if (best != p)
			for (c = 0; c < 8; c++) {
				double t = m[p][c];

				m[p][c] = m[best][c];
				m[best][c] = t;
			}
		{
			double d = m[p][p];

			for (c = 0; c < 8; c++)
				m[p][c] /= d;
		}
		for (r = 0; r < 4; r++) {
			double f;

			if (r == p)
				continue;
			f = m[r][p];
			if (f != 0.0)
				for (c = 0; c < 8; c++)
					m[r][c] -= f * m[p][c];
		}
	}
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			out[r][c] = m[r][c + 4];
	return RTC_OK;
}

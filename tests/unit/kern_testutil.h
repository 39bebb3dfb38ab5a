/*
 * kern_testutil: code shared by the kernel suites: a seeded random
 * number generator, and a real EPI series from the shared DICOM data
 * converted by dcm2niix (the reference converter) and read with
 * nifticlib, independent of rtc's own decoders.
 */
#ifndef RTC_KERN_TESTUTIL_H
#define RTC_KERN_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>

#include <nifti2_io.h>

#include "buf.h"
#include "check_common.h"
#include "error.h"
#include "fsutil.h"
#include "kern_grid.h"
#include "process.h"

struct trng {
	uint64_t s;
};

static inline uint64_t
trng_next(struct trng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double
trng_unif(struct trng *r)
{
	return (double)(trng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double
trng_normal(struct trng *r)
{
	double u1 = trng_unif(r), u2 = trng_unif(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A real series: nt volumes of a grid, float voxels (frames one after
 * another). */
struct real_series {
	struct rtc_grid g;
	int nt;
	float *data;
};

static inline void
real_series_free(struct real_series *s)
{
	free(s->data);
	s->data = NULL;
}

/*
 * Convert the DICOM series in $RTC_TEST_DATA/dicom/<name> with dcm2niix
 * and load it. RET: 1 loaded, 0 skipped (data or dcm2niix absent and not
 * CI; the caller returns).
 */
static inline int
real_series_load(const char *name, struct real_series *out)
{
	const char *data = check_data_dir();
	char dir[4096], *tmp, nii[4096] = "";
	const char *argv[12];
	struct rtc_buf ob, eb;
	int status = 0, rc, ci;
	nifti_image *nim;
	DIR *d;
	struct dirent *de;
	size_t nvox, v;
	int r, c, t;

	if (data == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s/dicom/%s", data, name);
	tmp = check_tmpdir();
	argv[0] = "dcm2niix";
	argv[1] = "-b";
	argv[2] = "n";
	argv[3] = "-z";
	argv[4] = "n";
	argv[5] = "-f";
	argv[6] = "series";
	argv[7] = "-o";
	argv[8] = tmp;
	argv[9] = dir;
	argv[10] = NULL;
	rtc_buf_init(&ob, 1 << 16);
	rtc_buf_init(&eb, 1 << 16);
	rc = rtc_process_run(argv, NULL, NULL, &ob, &eb, 120000, &status, NULL);
	rtc_buf_free(&ob);
	rtc_buf_free(&eb);
	ci = getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0;
	if (rc == RTC_ERR_NOT_FOUND) {
		rtc_fs_remove_tree(tmp, NULL);
		free(tmp);
		if (ci)
			ck_abort_msg("CI=true but dcm2niix is missing "
			    "(tests/setup/kernels.sh install)");
		fprintf(stderr, "SKIP: dcm2niix not installed\n");
		return 0;
	}
	ck_assert_int_eq(rc, RTC_OK);
	ck_assert_int_eq(rtc_process_exit_status(status), 0);
	d = opendir(tmp);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".nii") == 0 &&
		    nii[0] == '\0')
			snprintf(nii, sizeof(nii), "%s/%s", tmp, de->d_name);
	}
	closedir(d);
	ck_assert_msg(nii[0] != '\0', "dcm2niix wrote no .nii");
	nim = nifti_image_read(nii, 1);
	ck_assert_ptr_nonnull(nim);
	ck_assert_int_ge(nim->ndim, 3);
	memset(out, 0, sizeof(*out));
	out->g.nx = (int)nim->nx;
	out->g.ny = (int)nim->ny;
	out->g.nz = (int)nim->nz;
	out->nt = nim->ndim >= 4 && nim->nt > 0 ? (int)nim->nt : 1;
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			out->g.affine[r][c] = nim->sform_code > 0 ?
			    nim->sto_xyz.m[r][c] : nim->qto_xyz.m[r][c];
	nvox = rtc_grid_nvox(&out->g);
	out->data = malloc(nvox * (size_t)out->nt * sizeof(float));
	ck_assert_ptr_nonnull(out->data);
	for (t = 0; t < out->nt; t++)
		for (v = 0; v < nvox; v++) {
			size_t q = (size_t)t * nvox + v;
			double x;

			switch (nim->datatype) {
			case NIFTI_TYPE_INT16:
				x = ((int16_t *)nim->data)[q];
				break;
			case NIFTI_TYPE_UINT16:
				x = ((uint16_t *)nim->data)[q];
				break;
			case NIFTI_TYPE_FLOAT32:
				x = ((float *)nim->data)[q];
				break;
			default:
				ck_abort_msg("unexpected NIfTI datatype %d",
				    (int)nim->datatype);
				return 0;
			}
			if (nim->scl_slope != 0.0)
				x = x * nim->scl_slope + nim->scl_inter;
			out->data[q] = (float)x;
		}
	nifti_image_free(nim);
	rtc_fs_remove_tree(tmp, NULL);
	free(tmp);
	return 1;
}

/* Lanczos kernel, a = 4. */
static inline double
lanczos4(double x)
{
	double px;

	if (x == 0.0)
		return 1.0;
	if (x <= -4.0 || x >= 4.0)
		return 0.0;
	px = M_PI * x;
	return 4.0 * sin(px) * sin(px / 4.0) / (px * px);
}

/*
 * Resample src (grid g) through the world map M (dst voxel v takes src at
 * M(A v)) with a Lanczos-4 windowed sinc, 8x8x8 taps, edges replicated,
 * weights renormalised. An interpolator the library does not use, so a
 * registration test is not a fit of an interpolator to itself.
 */
static inline void
sinc_resample(const float *src, const struct rtc_grid *g,
    const double M[4][4], float *dst)
{
	double inv[4][4], vm[4][4];
	int k;

	ck_assert_int_eq(rtc_affine_invert(g->affine, inv), RTC_OK);
	rtc_affine_mul(inv, M, vm);
	rtc_affine_mul(vm, g->affine, vm);
#pragma omp parallel for schedule(dynamic)
	for (k = 0; k < g->nz; k++) {
		int i, j, a, b, c;

		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++) {
				double x = vm[0][0] * i + vm[0][1] * j +
				    vm[0][2] * k + vm[0][3];
				double y = vm[1][0] * i + vm[1][1] * j +
				    vm[1][2] * k + vm[1][3];
				double z = vm[2][0] * i + vm[2][1] * j +
				    vm[2][2] * k + vm[2][3];
				int x0 = (int)floor(x), y0 = (int)floor(y);
				int z0 = (int)floor(z);
				double wx[8], wy[8], wz[8], sw = 0.0, sum = 0.0;

				for (a = 0; a < 8; a++) {
					wx[a] = lanczos4(x - (x0 - 3 + a));
					wy[a] = lanczos4(y - (y0 - 3 + a));
					wz[a] = lanczos4(z - (z0 - 3 + a));
				}
				for (c = 0; c < 8; c++) {
					int zz = z0 - 3 + c;

					zz = zz < 0 ? 0 : zz >= g->nz ? g->nz - 1 : zz;
					for (b = 0; b < 8; b++) {
						int yy = y0 - 3 + b;
						const float *row;
						double w = wz[c] * wy[b];

						yy = yy < 0 ? 0 : yy >= g->ny ?
						    g->ny - 1 : yy;
						row = src + ((size_t)zz * g->ny +
						    yy) * g->nx;
						for (a = 0; a < 8; a++) {
							int xx = x0 - 3 + a;

							xx = xx < 0 ? 0 :
							    xx >= g->nx ?
							    g->nx - 1 : xx;
							sum += w * wx[a] * row[xx];
							sw += w * wx[a];
						}
					}
				}
				dst[((size_t)k * g->ny + j) * g->nx + i] =
				    (float)(sum / sw);
			}
	}
}

#endif

/*
 * synth: the phantom BOLD generator (see synth.h).
 *
 * Design: the phantom is a function of an LPS point, so a volume is just
 * that function sampled at its voxels after undoing the head's motion;
 * with no motion the sampled template is computed once per series and
 * reused. Noise comes from xoshiro256** seeded through splitmix64 by
 * (seed, volume), Gaussian by Box-Muller: no global generator state, and
 * each volume is reproducible on its own. Intensities stay within 12 bits
 * (0..4095), as a scanner's would.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dicom.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "synth.h"
#include "synth_motion.h"
#include "volume.h"

#define DEG (M_PI / 180.0)
#define SUB 2                 /* sub-samples per axis */
#define MAXVAL 4095.0

void
rtc_synth_params_init(struct rtc_synth_params *p)
{
	memset(p, 0, sizeof(*p));
	p->nx = 64;
	p->ny = 64;
	p->nz = 27;
	p->nvol = 10;
	p->tr = 2.0;
	p->seed = 1;
	p->voxel[0] = 3.0;
	p->voxel[1] = 3.0;
	p->voxel[2] = 3.5;
	p->tilt_deg = 8.0;
	p->noise_sd = 8.0;
	p->drift_per_min = 0.01;
	p->series_number = 1;
	p->te = 0.030;
	p->flip_angle = 75.0;
	p->field_strength = 3.0;
	p->start_time = 12 * 3600.0;
	p->roi.center[0] = 30.0;
	p->roi.center[1] = -10.0;
	p->roi.center[2] = 20.0;
	p->roi.radius = 10.0;
	p->block_s = 20.0;
}

int
rtc_synth_check(const struct rtc_synth_params *p, char **cause)
{
	int a;

	if (p->nx < 2 || p->ny < 2 || p->nz < 1 || p->nx > RTC_SYNTH_MAX_DIM ||
	    p->ny > RTC_SYNTH_MAX_DIM || p->nz > RTC_DICOM_MAX_SLICES) {
		rtc_cause_set(cause, "matrix %dx%dx%d: 2..%d in-plane and "
		    "1..%d slices", p->nx, p->ny, p->nz, RTC_SYNTH_MAX_DIM,
		    RTC_DICOM_MAX_SLICES);
		return RTC_ERR_INVAL;
	}
	if ((size_t)p->nx * (size_t)p->ny * (size_t)p->nz >
	    RTC_SYNTH_MAX_VOXELS) {
		rtc_cause_set(cause, "matrix %dx%dx%d: more than %u voxels",
		    p->nx, p->ny, p->nz, RTC_SYNTH_MAX_VOXELS);
		return RTC_ERR_INVAL;
	}
	/* the mosaic must fit DICOM's 16-bit rows and columns */
	{
		int tc = (int)ceil(sqrt((double)p->nz));

		if ((long)tc * p->nx > 65535 || (long)tc * p->ny > 65535) {
			rtc_cause_set(cause, "a mosaic of %dx%dx%d does not fit "
			    "DICOM's 65535 rows", p->nx, p->ny, p->nz);
			return RTC_ERR_INVAL;
		}
	}
	if (p->nvol < 1 || p->nvol > RTC_SYNTH_MAX_VOLUMES) {
		rtc_cause_set(cause, "%d volumes: 1..%d", p->nvol,
		    RTC_SYNTH_MAX_VOLUMES);
		return RTC_ERR_INVAL;
	}
	if (!(p->tr >= 0.05 && p->tr <= 60.0)) {
		rtc_cause_set(cause, "TR %g s: 0.05..60", p->tr);
		return RTC_ERR_INVAL;
	}
	for (a = 0; a < 3; a++)
		if (!(p->voxel[a] >= 0.1 && p->voxel[a] <= 20.0)) {
			rtc_cause_set(cause, "voxel size %g mm: 0.1..20",
			    p->voxel[a]);
			return RTC_ERR_INVAL;
		}
	if (!(p->noise_sd >= 0 && p->noise_sd < 1000) ||
	    !(fabs(p->tilt_deg) <= 45) || !(p->te > 0 && p->te < 1) ||
	    !(fabs(p->drift_per_min) < 1) || !(p->block_s > 0) ||
	    !(p->roi.radius >= 0) || !(fabs(p->roi.amplitude) < 1) ||
	    p->series_number < 0 || p->series_number > 999999) {
		rtc_cause_set(cause, "a phantom parameter is out of range");
		return RTC_ERR_INVAL;
	}
	return RTC_OK;
}

void
rtc_synth_geometry(const struct rtc_synth_params *p, double iop[6],
    double ipp[3], double affine[4][4], double *slice_times)
{
	double t = p->tilt_deg * DEG;
	double r[3] = { 1, 0, 0 }, c[3] = { 0, cos(t), -sin(t) }, n[3];
	double first[3], step[3], sp[2] = { p->voxel[1], p->voxel[0] };
	int a, k;

	rtc_vec3_cross(r, c, n);
	for (a = 0; a < 3; a++) {
		first[a] = -r[a] * p->voxel[0] * (p->nx - 1) / 2.0 -
		    c[a] * p->voxel[1] * (p->ny - 1) / 2.0 -
		    n[a] * p->voxel[2] * (p->nz - 1) / 2.0;
		step[a] = n[a] * p->voxel[2];
	}
	if (iop != NULL) {
		memcpy(iop, r, sizeof(r));
		memcpy(iop + 3, c, sizeof(c));
	}
	if (ipp != NULL)
		memcpy(ipp, first, sizeof(first));
	if (affine != NULL) {
		double o[6];

		memcpy(o, r, sizeof(r));
		memcpy(o + 3, c, sizeof(c));
		rtc_dicom_affine(o, first, sp, step, p->ny, affine);
	}
	if (slice_times != NULL) {
		/* Siemens interleaved: odd counts 0,2,4,..,1,3,..; even
		 * counts 1,3,5,..,0,2,.. */
		int ord = 0, start = p->nz % 2 == 0 ? 1 : 0;

		for (k = start; k < p->nz; k += 2)
			slice_times[k] = ord++ * p->tr / p->nz;
		for (k = 1 - start; k < p->nz; k += 2)
			slice_times[k] = ord++ * p->tr / p->nz;
	}
}

static double
ellipsoid(double x, double y, double z, const double c[3], const double s[3])
{
	double u = (x - c[0]) / s[0], v = (y - c[1]) / s[1], w = (z - c[2]) / s[2];

	return sqrt(u * u + v * v + w * w);
}

double
rtc_synth_phantom(double x, double y, double z)
{
	static const double head_c[3] = { 0, 0, 5 }, head_s[3] = { 70, 85, 60 };
	static const double vl_c[3] = { 12, 5, 10 }, vr_c[3] = { -12, 5, 10 };
	static const double v_s[3] = { 7, 20, 10 };
	double rho = ellipsoid(x, y, z, head_c, head_s);

	if (rho >= 1.0)
		return 0.0;
	if (rho >= 0.93)
		return 250.0;        /* scalp and skull */
	if (rho >= 0.85)
		return 850.0;        /* cortex */
	if (ellipsoid(x, y, z, vl_c, v_s) < 1.0 ||
	    ellipsoid(x, y, z, vr_c, v_s) < 1.0)
		return 1400.0;       /* ventricles */
	return 650.0;                /* white matter */
}

/*
 * Sample the phantom (moved by motion, NULL: still) at every voxel;
 * act > 0 scales the ROI. OUT: out[nvox] (noise-free intensities).
 */
static void
sample(const struct rtc_synth_params *p, const double *motion, double act,
    double *out)
{
	double A[4][4], R[3][3];
	int i, j, k, si, sj, sk, moved = 0, a;
	size_t idx = 0;

	rtc_synth_geometry(p, NULL, NULL, A, NULL);
	/* RAS -> LPS */
	for (a = 0; a < 4; a++) {
		A[0][a] = -A[0][a];
		A[1][a] = -A[1][a];
	}
	if (motion != NULL) {
		double rot[3] = { motion[3] * DEG, motion[4] * DEG,
		    motion[5] * DEG };

		for (a = 0; a < 6; a++)
			moved |= motion[a] != 0.0;
		rtc_rotation_zyx(rot, R);
	}
	for (k = 0; k < p->nz; k++)
		for (j = 0; j < p->ny; j++)
			for (i = 0; i < p->nx; i++) {
				double sum = 0.0;

				for (sk = 0; sk < SUB; sk++)
				for (sj = 0; sj < SUB; sj++)
				for (si = 0; si < SUB; si++) {
					double vi = i + (si + 0.5) / SUB - 0.5;
					double vj = j + (sj + 0.5) / SUB - 0.5;
					double vk = k + (sk + 0.5) / SUB - 0.5;
					double w[3], h[3], v;

					for (a = 0; a < 3; a++)
						w[a] = A[a][0] * vi +
						    A[a][1] * vj +
						    A[a][2] * vk + A[a][3];
					/* the head moved by R then t: its
					 * point at w is R^T (w - t) */
					if (moved) {
						double d[3];

						for (a = 0; a < 3; a++)
							d[a] = w[a] - motion[a];
						for (a = 0; a < 3; a++)
							h[a] = R[0][a] * d[0] +
							    R[1][a] * d[1] +
							    R[2][a] * d[2];
					} else
						memcpy(h, w, sizeof(h));
					v = rtc_synth_phantom(h[0], h[1], h[2]);
					if (act != 0.0 && v > 0.0 &&
					    p->roi.radius > 0) {
						double dx = h[0] -
						    p->roi.center[0];
						double dy = h[1] -
						    p->roi.center[1];
						double dz = h[2] -
						    p->roi.center[2];

						double d2 = (dx * dx + dy * dy +
						    dz * dz) / (p->roi.radius *
						    p->roi.radius);

						/* peaks at the centre, as a
						 * BOLD response does */
						if (d2 < 1.0)
							v *= 1.0 + act *
							    (1.0 - d2);
					}
					sum += v;
				}
				out[idx++] = sum / (SUB * SUB * SUB);
			}
}

struct rng {
	uint64_t s[4];
	int have;
	double spare;
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *g, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
	int i;

	for (i = 0; i < 4; i++)
		g->s[i] = splitmix64(&x);
	g->have = 0;
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* uniform in (0, 1] */
static double
rng_unit(struct rng *g)
{
	return ((double)(rng_next(g) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static double
rng_gauss(struct rng *g)
{
	double u, v, m;

	if (g->have) {
		g->have = 0;
		return g->spare;
	}
	u = rng_unit(g);
	v = rng_unit(g);
	m = sqrt(-2.0 * log(u));
	g->spare = m * sin(2.0 * M_PI * v);
	g->have = 1;
	return m * cos(2.0 * M_PI * v);
}

static double
activation(const struct rtc_synth_params *p, int t)
{
	long block = (long)floor(t * p->tr / p->block_s);

	return p->roi.amplitude != 0.0 && block % 2 == 1 ? p->roi.amplitude :
	    0.0;
}

/* Volume t from a template (noise-free, no activation) or by sampling. */
static int
make_volume(const struct rtc_synth_params *p, int t, const double *tmpl,
    double *work, struct rtc_volume *vol, struct rtc_synth_truth *truth,
    char **cause)
{
	struct rtc_synth_truth tr;
	struct rng g;
	uint16_t *px;
	size_t n = (size_t)p->nx * (size_t)p->ny * (size_t)p->nz, i;
	int r;

	memset(&tr, 0, sizeof(tr));
	tr.volume = t + 1;
	tr.time = p->start_time + t * p->tr;
	if (p->motion != NULL && p->motion(p->motion_arg, t, tr.motion) != 0) {
		rtc_cause_set(cause, "the motion of volume %d is undefined",
		    t + 1);
		return RTC_ERR_INVAL;
	}
	tr.activation = activation(p, t);
	tr.drift = 1.0 + p->drift_per_min * (t * p->tr / 60.0);
	if (tmpl == NULL || tr.activation != 0.0) {
		sample(p, tr.motion, tr.activation, work);
		tmpl = work;
	}
	if ((r = rtc_volume_reshape(vol, p->nx, p->ny, p->nz, 1,
	    RTC_DT_UINT16)) != RTC_OK)
		return r;
	rng_seed(&g, p->seed, (uint64_t)t + 1);
	px = vol->data;
	for (i = 0; i < n; i++) {
		double v = tmpl[i] * tr.drift + p->noise_sd * rng_gauss(&g);

		v = floor(v + 0.5);
		px[i] = (uint16_t)(v < 0 ? 0 : v > MAXVAL ? MAXVAL : v);
	}
	rtc_synth_geometry(p, NULL, NULL, vol->affine, NULL);
	rtc_volume_update_voxel_size(vol);
	vol->tr = p->tr;
	vol->scl_slope = vol->scl_inter = 0.0;
	vol->acq.series_number = p->series_number;
	vol->acq.acquisition_number = t + 1;
	vol->acq.instance_number = t + 1;
	vol->acq.acquisition_time = tr.time;
	if (truth != NULL)
		*truth = tr;
	return RTC_OK;
}

int
rtc_synth_volume(const struct rtc_synth_params *p, int t,
    struct rtc_volume *vol, struct rtc_synth_truth *truth, char **cause)
{
	double *work;
	int r;

	if ((r = rtc_synth_check(p, cause)) != RTC_OK)
		return r;
	if (t < 0 || t >= p->nvol || vol == NULL)
		return RTC_ERR_INVAL;
	work = malloc((size_t)p->nx * (size_t)p->ny * (size_t)p->nz *
	    sizeof(double));
	if (work == NULL)
		return RTC_ERR_NOMEM;
	r = make_volume(p, t, NULL, work, vol, truth, cause);
	free(work);
	return r;
}

void
rtc_synth_filename(const struct rtc_synth_params *p, int t, char *out,
    size_t outsz)
{
	snprintf(out, outsz, "001_%06d_%06d.dcm", p->series_number, t + 1);
}

/* A UID "2.25.<128-bit number>" from the seed and a purpose. */
static int
make_uid(const struct rtc_synth_params *p, const char *what, int idx,
    char *out, size_t outsz)
{
	struct rtc_hash *h = rtc_hash_new(RTC_HASH_SHA256);
	unsigned char d[32];
	char in[128], digits[48];
	unsigned __int128 v = 0;
	size_t n = 0, i;
	int len;

	if (h == NULL)
		return RTC_ERR_NOMEM;
	len = snprintf(in, sizeof(in), "rtc-synth/%s/%llu/%d/%d", what,
	    (unsigned long long)p->seed, p->series_number, idx);
	if (rtc_hash_update(h, in, (size_t)len) != RTC_OK ||
	    rtc_hash_final_raw(h, d, &n) != RTC_OK || n < 16) {
		rtc_hash_free(h);
		return RTC_ERR_INTERNAL;
	}
	rtc_hash_free(h);
	for (i = 0; i < 16; i++)
		v = v << 8 | d[i];
	v |= 1;                     /* never zero */
	n = 0;
	while (v > 0 && n < sizeof(digits) - 1) {
		digits[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	}
	if (outsz < n + 6)
		return RTC_ERR_INVAL;
	memcpy(out, "2.25.", 5);
	for (i = 0; i < n; i++)
		out[5 + i] = digits[n - 1 - i];
	out[5 + n] = '\0';
	return RTC_OK;
}

int
rtc_synth_write(struct rtc_ctx *ctx, const struct rtc_synth_params *p,
    const char *dir, char **cause)
{
	struct rtc_volume *vol = NULL;
	struct rtc_dicom_mosaic_desc d;
	struct rtc_synth_truth tr;
	struct rtc_buf file, truth;
	double *tmpl = NULL, *work = NULL, *times = NULL, affine[4][4];
	double rt[3], rr[3];
	char study[68], series[68], frame[68], sop[68], name[64], desc[64];
	char *path = NULL;
	size_t n = (size_t)p->nx * (size_t)p->ny * (size_t)p->nz;
	int t, r, a;

	rtc_buf_init(&file, 0);
	rtc_buf_init(&truth, 64u << 20);
	if ((r = rtc_synth_check(p, cause)) != RTC_OK)
		goto out;
	if ((r = rtc_fs_mkdir_p(dir, 0755, cause)) != RTC_OK)
		goto out;
	vol = rtc_volume_new(p->nx, p->ny, p->nz, 1, RTC_DT_UINT16);
	tmpl = malloc(n * sizeof(double));
	work = malloc(n * sizeof(double));
	times = malloc((size_t)p->nz * sizeof(double));
	if (vol == NULL || tmpl == NULL || work == NULL || times == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	sample(p, NULL, 0.0, tmpl);
	memset(&d, 0, sizeof(d));
	rtc_synth_geometry(p, d.iop, d.ipp, affine, times);
	rtc_vec3_cross(d.iop, d.iop + 3, d.slice_normal);
	if ((r = make_uid(p, "study", 0, study, sizeof(study))) != RTC_OK ||
	    (r = make_uid(p, "series", 0, series, sizeof(series))) != RTC_OK ||
	    (r = make_uid(p, "frame", 0, frame, sizeof(frame))) != RTC_OK)
		goto out;
	snprintf(desc, sizeof(desc), "rtc_phantom_bold");
	d.study_uid = study;
	d.series_uid = series;
	d.frame_uid = frame;
	d.sop_uid = sop;
	d.date = "20240101";
	d.series_description = desc;
	d.protocol_name = desc;
	d.manufacturer = "SIEMENS";
	d.model = "rtc phantom";
	d.software = "rtc " PACKAGE_VERSION " synth";
	d.series_number = p->series_number;
	d.series_time = p->start_time;
	d.pixel_spacing[0] = p->voxel[1];
	d.pixel_spacing[1] = p->voxel[0];
	d.slice_thickness = p->voxel[2];
	d.slice_spacing = p->voxel[2];
	d.tr = p->tr;
	d.te = p->te;
	d.flip_angle = p->flip_angle;
	d.field_strength = p->field_strength;
	d.slice_times = times;
	d.pe_positive = 1;
	if ((r = rtc_buf_append_str(&truth, "volume\tfile\tacquisition_time\t"
	    "trans_x_mm\ttrans_y_mm\ttrans_z_mm\trot_x_deg\trot_y_deg\t"
	    "rot_z_deg\tactivation\tdrift\ttrans_x\ttrans_y\ttrans_z\t"
	    "rot_x\trot_y\trot_z\n")) != RTC_OK)
		goto out;
	for (t = 0; t < p->nvol; t++) {
		if (rtc_ctx_stopping(ctx)) {
			r = RTC_ERR_CANCELLED;
			goto out;
		}
		if ((r = make_volume(p, t, p->motion == NULL ? tmpl : NULL, work,
		    vol, &tr, cause)) != RTC_OK)
			goto out;
		if ((r = make_uid(p, "sop", t, sop, sizeof(sop))) != RTC_OK)
			goto out;
		d.acquisition_number = t + 1;
		d.instance_number = t + 1;
		d.acquisition_time = tr.time;
		rtc_buf_reset(&file);
		if ((r = rtc_dicom_write_mosaic(vol, &d, &file, cause)) != RTC_OK)
			goto out;
		rtc_synth_filename(p, t, name, sizeof(name));
		free(path);
		path = NULL;
		if ((r = rtc_fs_join_safe(dir, name, &path)) != RTC_OK)
			goto out;
		if ((r = rtc_fs_write_atomic(path, file.data, file.len, 0644, 0,
		    cause)) != RTC_OK)
			goto out;
		rtc_debug(ctx, CORE, "wrote %s", path);
		if ((r = rtc_buf_printf(&truth, "%d\t%s\t%.4f", tr.volume, name,
		    tr.time)) != RTC_OK)
			goto out;
		for (a = 0; a < 6; a++)
			if ((r = rtc_buf_printf(&truth, "\t%.6f", tr.motion[a])) !=
			    RTC_OK)
				goto out;
		if ((r = rtc_buf_printf(&truth, "\t%.6f\t%.6f", tr.activation,
		    tr.drift)) != RTC_OK)
			goto out;
		/* the same motion in rtc's convention (synth_motion.h) */
		rtc_synth_motion_to_rtc(tr.motion, rt, rr);
		if ((r = rtc_buf_printf(&truth, "\t%.6f\t%.6f\t%.6f\t%.8f\t%.8f"
		    "\t%.8f\n", rt[0], rt[1], rt[2], rr[0], rr[1], rr[2])) !=
		    RTC_OK)
			goto out;
	}
	free(path);
	path = NULL;
	if ((r = rtc_fs_join_safe(dir, "truth.tsv", &path)) != RTC_OK ||
	    (r = rtc_fs_write_atomic(path, truth.data, truth.len, 0644, 0,
	    cause)) != RTC_OK)
		goto out;
	r = RTC_OK;
out:
	free(path);
	free(tmpl);
	free(work);
	free(times);
	rtc_volume_free(vol);
	rtc_buf_free(&file);
	rtc_buf_free(&truth);
	return r;
}

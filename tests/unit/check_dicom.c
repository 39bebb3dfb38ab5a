#include "rtc_build.h"

#include <math.h>
#include <stdint.h>

#include <zlib.h>

#include "buf.h"
#include "check_common.h"
#include "dicom.h"
#include "error.h"
#include "fsutil.h"

#define E11 "dicom/siemens-e11-mosaic-rt/001_000013_000001.dcm"
#define E11_2 "dicom/siemens-e11-mosaic-rt/001_000013_000002.dcm"
#define TRUNC "dicom/truncated/trunc_001_000013_000005.dcm"
#define XA30 "dicom/siemens-xa30-enhanced/" \
	"0001_1.3.12.2.1107.5.2.43.67093.2022071112090640678703211.dcm"
#define GE1 "dicom/ge-mr750-slices/s1925/i2862280.MRDC.1"

static const char *
data_path(const char *rel, char *buf, size_t n)
{
	const char *d = check_data_dir();

	if (d == NULL)
		return NULL;
	snprintf(buf, n, "%s/%s", d, rel);
	return buf;
}

START_TEST(test_parse_tm)
{
	double t = -1;

	ck_assert_int_eq(rtc_dicom_parse_tm("124750.327500", &t), RTC_OK);
	ck_assert_double_eq_tol(t, 12 * 3600 + 47 * 60 + 50.3275, 1e-9);
	ck_assert_int_eq(rtc_dicom_parse_tm("0901", &t), RTC_OK);
	ck_assert_double_eq(t, 9 * 3600 + 60);
	ck_assert_int_eq(rtc_dicom_parse_tm("23", &t), RTC_OK);
	ck_assert_double_eq(t, 23 * 3600);
	ck_assert_int_eq(rtc_dicom_parse_tm("12:09:05.5 ", &t), RTC_OK);
	ck_assert_double_eq(t, 12 * 3600 + 9 * 60 + 5.5);
	t = -1;
	ck_assert_int_eq(rtc_dicom_parse_tm("25", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_tm("1261", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_tm("120000.", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_tm("12x", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_tm("", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_tm(NULL, &t), RTC_ERR_FORMAT);
	ck_assert_double_eq(t, -1);
}
END_TEST

START_TEST(test_parse_dt)
{
	double t = -1;

	ck_assert_int_eq(rtc_dicom_parse_dt_time("20220711120905.225000", &t),
	    RTC_OK);
	ck_assert_double_eq_tol(t, 12 * 3600 + 9 * 60 + 5.225, 1e-9);
	ck_assert_int_eq(rtc_dicom_parse_dt_time("20220711120905+0200", &t),
	    RTC_OK);
	ck_assert_double_eq(t, 12 * 3600 + 9 * 60 + 5);
	ck_assert_int_eq(rtc_dicom_parse_dt_time("2022", &t), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_parse_dt_time("2022071x120905", &t),
	    RTC_ERR_FORMAT);
}
END_TEST

START_TEST(test_vendor)
{
	ck_assert_int_eq(rtc_dicom_vendor("SIEMENS"), RTC_VENDOR_SIEMENS);
	ck_assert_int_eq(rtc_dicom_vendor("Siemens Healthineers"),
	    RTC_VENDOR_SIEMENS);
	ck_assert_int_eq(rtc_dicom_vendor("GE MEDICAL SYSTEMS"), RTC_VENDOR_GE);
	ck_assert_int_eq(rtc_dicom_vendor("GE"), RTC_VENDOR_GE);
	ck_assert_int_eq(rtc_dicom_vendor("Philips Medical Systems"),
	    RTC_VENDOR_PHILIPS);
	ck_assert_int_eq(rtc_dicom_vendor("Canon"), RTC_VENDOR_OTHER);
	ck_assert_int_eq(rtc_dicom_vendor("GEORGE"), RTC_VENDOR_OTHER);
	ck_assert_int_eq(rtc_dicom_vendor(""), RTC_VENDOR_UNKNOWN);
	ck_assert_str_eq(rtc_dicom_vendor_name(RTC_VENDOR_GE), "GE");
	ck_assert_ptr_null(rtc_dicom_vendor_name(RTC_VENDOR_OTHER));
	ck_assert_str_eq(rtc_dicom_kind_name(RTC_DICOM_MOSAIC), "mosaic");
}
END_TEST

START_TEST(test_vectors)
{
	double a[3] = { 1, 0, 0 }, b[3] = { 0, 1, 0 }, c[3], z[3] = { 0, 0, 0 };

	rtc_vec3_cross(a, b, c);
	ck_assert_double_eq(c[2], 1.0);
	rtc_vec3_cross(b, a, c);
	ck_assert_double_eq(c[2], -1.0);
	c[0] = 3;
	c[1] = 4;
	c[2] = 0;
	ck_assert_int_eq(rtc_vec3_normalize(c), 0);
	ck_assert_double_eq_tol(c[0], 0.6, 1e-12);
	ck_assert_int_eq(rtc_vec3_normalize(z), -1);
	ck_assert_double_eq(rtc_vec3_dot(a, b), 0.0);
}
END_TEST

START_TEST(test_affine_axial)
{
	/* axial: rows along L, columns along P; 2 x 3 mm pixels, 4 mm
	 * slices towards S (LPS +z) */
	double iop[6] = { 1, 0, 0, 0, 1, 0 }, ipp[3] = { -10, -20, 5 };
	double sp[2] = { 3, 2 }, step[3] = { 0, 0, 4 }, A[4][4], w[3];
	struct rtc_volume v;

	rtc_dicom_affine(iop, ipp, sp, step, 10, A);
	/* i: +2 mm along L = -x in RAS */
	ck_assert_double_eq(A[0][0], -2.0);
	/* j: rows reversed, so +j goes towards A = +y in RAS */
	ck_assert_double_eq(A[1][1], 3.0);
	ck_assert_double_eq(A[2][2], 4.0);
	memset(&v, 0, sizeof(v));
	memcpy(v.affine, A, sizeof(A));
	/* voxel (0, ny-1, 0) is the stored first pixel at ipp (LPS) */
	rtc_volume_vox2world(&v, 0, 9, 0, w);
	ck_assert_double_eq_tol(w[0], 10.0, 1e-12);
	ck_assert_double_eq_tol(w[1], 20.0, 1e-12);
	ck_assert_double_eq_tol(w[2], 5.0, 1e-12);
	/* voxel (0, 0, 1): last stored row, next slice */
	rtc_volume_vox2world(&v, 0, 0, 1, w);
	ck_assert_double_eq_tol(w[1], 20.0 - 27.0, 1e-12);
	ck_assert_double_eq_tol(w[2], 9.0, 1e-12);
}
END_TEST

START_TEST(test_mosaic_origin)
{
	/* a 384x384 mosaic of 64x64 tiles: the corner moves 160 pixels
	 * along each in-plane axis */
	double iop[6] = { 1, 0, 0, 0, 1, 0 }, ipp[3] = { -576, -576, 0 };
	double sp[2] = { 3, 3 }, out[3];

	ck_assert_int_eq(rtc_dicom_mosaic_origin(ipp, iop, sp, 384, 384, 64, 64,
	    out), RTC_OK);
	ck_assert_double_eq(out[0], -96.0);
	ck_assert_double_eq(out[1], -96.0);
	ck_assert_double_eq(out[2], 0.0);
	ck_assert_int_eq(rtc_dicom_mosaic_origin(ipp, iop, sp, 32, 384, 64, 64,
	    out), RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_unmosaic_layout)
{
	/* 3 tiles of 2 rows x 3 cols in a 2x2 mosaic (4 rows x 6 cols):
	 * each pixel holds tile*100 + row*10 + col */
	uint16_t m[4 * 6], out[3 * 2 * 3];
	int t, r, c;

	memset(m, 0, sizeof(m));
	for (t = 0; t < 3; t++)
		for (r = 0; r < 2; r++)
			for (c = 0; c < 3; c++)
				m[((t / 2) * 2 + r) * 6 + (t % 2) * 3 + c] =
				    (uint16_t)(t * 100 + r * 10 + c);
	ck_assert_int_eq(rtc_dicom_unmosaic(m, 4, 6, 2, 2, 3, 3, 0, out),
	    RTC_OK);
	for (t = 0; t < 3; t++)
		for (r = 0; r < 2; r++)
			for (c = 0; c < 3; c++)
				/* rows are stored bottom-up */
				ck_assert_int_eq(out[(t * 2 + (1 - r)) * 3 + c],
				    t * 100 + r * 10 + c);
	/* 5 tiles need a 3x3 grid: does not fit 4x6 */
	ck_assert_int_eq(rtc_dicom_unmosaic(m, 4, 6, 2, 2, 3, 5, 0, out),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_dicom_unmosaic(m, 4, 6, 2, 0, 3, 3, 0, out),
	    RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_copy_flip)
{
	uint8_t img[6] = { 1, 2, 3, 4, 5, 6 }, out[6];

	rtc_dicom_copy_flip(img, 3, 2, 1, out);
	ck_assert_int_eq(out[0], 5);
	ck_assert_int_eq(out[1], 6);
	ck_assert_int_eq(out[4], 1);
}
END_TEST

START_TEST(test_slice_times_ge)
{
	double t[18];
	int k;

	ck_assert_int_eq(rtc_dicom_slice_times_ge(18, 1, 1, 1.0, t), RTC_OK);
	ck_assert_double_eq(t[0], 0.0);
	ck_assert_double_eq_tol(t[1], 0.5, 1e-12);
	ck_assert_double_eq_tol(t[2], 1.0 / 18, 1e-12);
	ck_assert_double_eq_tol(t[17], 17.0 / 18, 1e-12);
	ck_assert_int_eq(rtc_dicom_slice_times_ge(4, 1, 0, 2.0, t), RTC_OK);
	for (k = 0; k < 4; k++)
		ck_assert_double_eq_tol(t[k], k * 0.5, 1e-12);
	/* multiband 2 of 6: excitations repeat every 3 slices */
	ck_assert_int_eq(rtc_dicom_slice_times_ge(6, 2, 1, 3.0, t), RTC_OK);
	ck_assert_double_eq(t[0], t[3]);
	ck_assert_double_eq(t[1], t[4]);
	ck_assert_double_eq_tol(t[1], 2.0, 1e-12);
	ck_assert_int_eq(rtc_dicom_slice_times_ge(7, 2, 1, 3.0, t),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_dicom_slice_times_ge(6, 1, 2, 3.0, t),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_dicom_slice_times_ge(6, 1, 0, 0.0, t),
	    RTC_ERR_INVAL);
}
END_TEST

/* A GE protocol block: 4-byte length + gzip of text. */
static size_t
ge_block(const char *text, unsigned char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out + 4;
	z.avail_out = (uInt)(cap - 4);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	out[0] = (unsigned char)strlen(text);
	out[1] = out[2] = out[3] = 0;
	return 4 + z.total_out;
}

START_TEST(test_ge_protocol)
{
	unsigned char blk[512];
	size_t n;
	int so = -1, mb = -1;
	char *cause = NULL;

	n = ge_block("TR \"1000.0\"\nSLICEORDER \"1\"\nVIEWORDER \"1\"\n",
	    blk, sizeof(blk));
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, n, &so, &mb, NULL), RTC_OK);
	ck_assert_int_eq(so, 1);
	ck_assert_int_eq(mb, 1);
	n = ge_block("SLICEORDER \"0\"\nMBACCEL \"3\"\n", blk, sizeof(blk));
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, n, &so, &mb, NULL), RTC_OK);
	ck_assert_int_eq(so, 0);
	ck_assert_int_eq(mb, 3);
	n = ge_block("<?xml version=\"1.0\"?>\n<a/>\n", blk, sizeof(blk));
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, n, &so, &mb, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	/* cut gzip stream */
	n = ge_block("SLICEORDER \"1\"\n", blk, sizeof(blk));
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, n - 10, &so, &mb, NULL),
	    RTC_ERR_FORMAT);
	memset(blk, 'x', 64);
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, 64, &so, &mb, NULL),
	    RTC_ERR_FORMAT);
}
END_TEST

/* A GE (0043,102A) header: the offset at byte 24, the version there,
 * the EPI flag, the pepolar bit and the ky direction at their places. */
static size_t
ge_parm(unsigned char *b, size_t cap, unsigned off, float version, int epi,
    int pepolar, int kydir)
{
	size_t base = off, ky = 0x394, n = off + 1024;
	uint32_t bits;

	ck_assert_uint_le(n, cap);
	memset(b, 0, n);
	b[24] = (unsigned char)(off & 0xff);
	b[25] = (unsigned char)(off >> 8);
	memcpy(&bits, &version, sizeof(bits));
	b[off] = (unsigned char)bits;
	b[off + 1] = (unsigned char)(bits >> 8);
	b[off + 2] = (unsigned char)(bits >> 16);
	b[off + 3] = (unsigned char)(bits >> 24);
	if (version >= 25.002f) {
		base += 0x4c;
		ky -= 0x8c;
	}
	b[base + 0x3a + 1] = epi ? 0x08 : 0x00;          /* 0x800 */
	b[base + 0x30] = pepolar ? 0x04 : 0x00;
	b[base + ky] = (unsigned char)kydir;
	return n;
}

START_TEST(test_ge_pe_polarity)
{
	unsigned char b[4096];
	size_t n;
	int f = -1;

	/* version 24 (as the real MR750 series), top-down: the bit says it */
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 1, 0, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 0);
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 1, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 1);
	/* bottom-up ky inverts it (the real series: bit 0, ky 2: Flipped) */
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 1, 0, 2);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 1);
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 1, 1, 2);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 0);
	/* version 27: the fields moved */
	n = ge_parm(b, sizeof(b), 100, 27.0f, 1, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 1);
	n = ge_parm(b, sizeof(b), 100, 27.0f, 1, 0, 2);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_OK);
	ck_assert_int_eq(f, 1);
	/* not an EPI: no polarity */
	f = -1;
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 0, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(f, -1);
	/* an unknown version, NaN, a header offset past the end, too short */
	n = ge_parm(b, sizeof(b), 1544, 3.0f, 1, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_ERR_FORMAT);
	n = ge_parm(b, sizeof(b), 1544, NAN, 1, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_ERR_FORMAT);
	n = ge_parm(b, sizeof(b), 1544, 24.0f, 1, 1, 0);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, 1544 + 915, &f),
	    RTC_ERR_FORMAT);
	b[24] = 0xff;
	b[25] = 0xff;
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, n, &f), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_dicom_ge_pe_polarity(b, 25, &f), RTC_ERR_FORMAT);
	ck_assert_int_eq(f, -1);
}
END_TEST

START_TEST(test_ge_protocol_bomb)
{
	/* 8 MiB of zeros inflates past the 4 MiB cap */
	size_t big = 8u << 20, n;
	char *text = calloc(1, big + 1);
	unsigned char *blk = malloc(64u << 10);
	int so, mb;

	memset(text, ' ', big);
	n = ge_block(text, blk, 64u << 10);
	ck_assert_int_eq(rtc_dicom_ge_protocol(blk, n, &so, &mb, NULL),
	    RTC_ERR_TOO_BIG);
	free(text);
	free(blk);
}
END_TEST

START_TEST(test_sniff)
{
	char b[132];

	memset(b, 0, sizeof(b));
	ck_assert_int_eq(rtc_dicom_sniff(b, sizeof(b)), 0);
	memcpy(b + 128, "DICM", 4);
	ck_assert_int_ne(rtc_dicom_sniff(b, sizeof(b)), 0);
	ck_assert_int_eq(rtc_dicom_sniff(b, 100), 0);
}
END_TEST

START_TEST(test_read_e11_mosaic)
{
	char p[PATH_MAX];
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;
	/* dcm2niix's sform for this series (its NIfTI header) */
	static const double ref[3][4] = {
		{ -2.999142, 0.017274, 0.092858, 92.077164 },
		{ 0.025149, 2.980125, 0.458449, -111.91008 },
		{ 0.067202, -0.344322, 3.972556, -23.962812 } };
	int r, c;

	if (data_path(E11, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, v, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_MOSAIC);
	ck_assert_int_eq(m.vendor, RTC_VENDOR_SIEMENS);
	ck_assert_int_eq(v->nx, 64);
	ck_assert_int_eq(v->ny, 64);
	ck_assert_int_eq(v->nz, 27);
	ck_assert_int_eq(v->nt, 1);
	ck_assert_int_eq(v->dtype, RTC_DT_UINT16);
	ck_assert_double_eq_tol(v->tr, 1.5, 1e-12);
	ck_assert_double_eq_tol(m.te, 0.028, 1e-12);
	ck_assert_int_eq(m.acq.series_number, 13);
	ck_assert_int_eq(m.acq.instance_number, 1);
	ck_assert_double_eq_tol(m.acq.acquisition_time, 46070.3275, 1e-6);
	ck_assert_str_eq(m.acq.series_uid,
	    "1.3.12.2.1107.5.2.19.45031.2019021912474270660418950.0.0.0");
	ck_assert_int_eq(m.pe_dir, 'C');
	ck_assert_int_eq(m.pe_positive, 1);
	ck_assert_ptr_nonnull(v->slice_timing);
	ck_assert_double_eq_tol(v->slice_timing[1], 0.765, 1e-9);
	ck_assert_double_eq_tol(v->slice_timing[26], 0.7125, 1e-6);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(v->affine[r][c], ref[r][c], 2e-4);
	ck_assert_double_eq_tol(v->dz, 4.0, 1e-6);
out:
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_buffers_reused)
{
	char p1[PATH_MAX], p2[PATH_MAX];
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;
	void *data, *st;
	size_t cap;

	if (data_path(E11, p1, sizeof(p1)) == NULL)
		goto out;
	data_path(E11_2, p2, sizeof(p2));
	ck_assert_int_eq(rtc_dicom_read_file(d, p1, 0, &m, v, NULL), RTC_OK);
	data = v->data;
	cap = v->cap;
	st = v->slice_timing;
	ck_assert_int_eq(rtc_dicom_read_file(d, p2, 0, &m, v, NULL), RTC_OK);
	ck_assert_ptr_eq(v->data, data);
	ck_assert_ptr_eq(v->slice_timing, st);
	ck_assert_uint_eq(v->cap, cap);
	ck_assert_int_eq(m.acq.instance_number, 2);
out:
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_read_buffer_matches_file)
{
	char p[PATH_MAX], *bytes = NULL;
	size_t len;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *a = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta ma, mb;

	if (data_path(E11, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_fs_read_file(p, 1u << 24, &bytes, &len, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &ma, a, NULL), RTC_OK);
	ck_assert_int_eq(rtc_dicom_read_buffer(d, bytes, len, "mem", 0, &mb, b,
	    NULL), RTC_OK);
	ck_assert_uint_eq(rtc_volume_nbytes(a), rtc_volume_nbytes(b));
	ck_assert_mem_eq(a->data, b->data, rtc_volume_nbytes(a));
	ck_assert_mem_eq(a->affine, b->affine, sizeof(a->affine));
	ck_assert_str_eq(ma.sop_instance_uid, mb.sop_instance_uid);
	ck_assert_int_eq(ma.nslices, mb.nslices);
out:
	free(bytes);
	rtc_volume_free(a);
	rtc_volume_free(b);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_truncated_file)
{
	char p[PATH_MAX], *cause = NULL;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;

	if (data_path(TRUNC, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, v, &cause),
	    RTC_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(cause, p));
	ck_assert_ptr_nonnull(strstr(cause, "149830 bytes missing"));
	free(cause);
	cause = NULL;
	/* header only sees it too (DCMTK checks the declared length) */
	ck_assert_int_eq(rtc_dicom_read_file(d, p, RTC_DICOM_HEADER_ONLY, &m,
	    NULL, &cause), RTC_ERR_TRUNCATED);
	free(cause);
out:
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_truncated_buffer)
{
	char p[PATH_MAX], *bytes = NULL, *cause = NULL;
	size_t len;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;

	if (data_path(E11, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_fs_read_file(p, 1u << 24, &bytes, &len, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_dicom_read_buffer(d, bytes, len - 1000, "part", 0,
	    &m, v, &cause), RTC_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(cause, "1000 bytes missing"));
	free(cause);
	cause = NULL;
	/* cut inside the header: still an error, never a crash */
	ck_assert_int_ne(rtc_dicom_read_buffer(d, bytes, 2000, "part", 0, &m, v,
	    &cause), RTC_OK);
	free(cause);
out:
	free(bytes);
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_not_dicom)
{
	char *dir = check_tmpdir(), p[PATH_MAX], *cause = NULL;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_dicom_meta m;

	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(p, "hello, not DICOM\n", 17, 0644,
	    0, NULL), RTC_OK);
	ck_assert_int_eq(rtc_dicom_read_file(d, p, RTC_DICOM_HEADER_ONLY, &m,
	    NULL, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "not a DICOM file"));
	free(cause);
	cause = NULL;
	snprintf(p, sizeof(p), "%s/missing.dcm", dir);
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, NULL, &cause),
	    RTC_ERR_NOT_FOUND);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_dicom_read_file(d, dir, 0, &m, NULL, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	ck_assert_int_eq(rtc_dicom_read_buffer(d, "abc", 3, NULL, 0, &m, NULL,
	    NULL), RTC_ERR_FORMAT);
	/* pixels wanted but no volume given */
	ck_assert_int_eq(rtc_dicom_read_buffer(d, NULL, 0, NULL, 0, &m, NULL,
	    NULL), RTC_ERR_FORMAT);
	rtc_dicom_free(d);
	rtc_dicom_free(NULL);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_header_only)
{
	char p[PATH_MAX];
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_dicom_meta m;

	if (data_path(E11, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_dicom_read_file(d, p, RTC_DICOM_HEADER_ONLY, &m,
	    NULL, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_MOSAIC);
	ck_assert_int_eq(m.nslices, 27);
	ck_assert_int_eq(m.mosaic_cols, 6);
	ck_assert_str_eq(m.transfer_syntax, "1.2.840.10008.1.2.1");
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, NULL, NULL),
	    RTC_ERR_INVAL);
out:
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_read_xa30_enhanced)
{
	char p[PATH_MAX];
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;

	if (data_path(XA30, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, v, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_MULTIFRAME);
	ck_assert_int_eq(m.nframes, 33);
	ck_assert_int_eq(v->nz, 33);
	ck_assert_int_eq(v->nt, 1);
	ck_assert_double_eq_tol(v->tr, 1.0, 1e-12);
	ck_assert_double_eq_tol(m.flip_angle, 60.0, 1e-12);
	ck_assert_double_eq_tol(m.te, 0.030, 1e-12);
	ck_assert_int_eq(m.pe_dir, 'C');
	ck_assert_int_eq(m.pe_positive, 1);
	ck_assert_double_eq_tol(m.slice_distance, 3.4, 1e-9);
	/* multiband 3: slice k and k + 11 are excited together */
	ck_assert_ptr_nonnull(v->slice_timing);
	ck_assert_double_eq_tol(v->slice_timing[1], 0.535, 1e-9);
	ck_assert_double_eq_tol(v->slice_timing[1], v->slice_timing[12], 1e-9);
	ck_assert_double_eq_tol(v->slice_timing[2], 0.09, 1e-9);
	ck_assert_double_eq_tol(v->acq.acquisition_time, 43745.225, 1e-6);
out:
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_read_ge_slice)
{
	char p[PATH_MAX];
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;

	if (data_path(GE1, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, v, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_SLICE);
	ck_assert_int_eq(m.vendor, RTC_VENDOR_GE);
	ck_assert_int_eq(v->nz, 1);
	ck_assert_int_eq(v->dtype, RTC_DT_INT16);
	ck_assert_int_eq(m.locations_in_acq, 18);
	ck_assert_int_eq(m.images_in_acq, 18);
	ck_assert_int_eq(m.ge_slice_order, 1);
	ck_assert_int_eq(m.ge_mb_factor, 1);
	ck_assert_int_eq(m.stack_position, 1);
	ck_assert_double_eq(m.acq.acquisition_time, -1.0);
	ck_assert_ptr_null(v->slice_timing);
out:
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

START_TEST(test_write_mosaic_roundtrip)
{
	struct rtc_volume *v = rtc_volume_new(8, 6, 5, 1, RTC_DT_UINT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_dicom_mosaic_desc desc;
	struct rtc_dicom_meta m;
	struct rtc_buf out;
	double times[5] = { 0, 0.4, 0.8, 0.2, 0.6 }, A[4][4], step[3];
	uint16_t *px = v->data;
	size_t i;
	int r, c;

	for (i = 0; i < rtc_volume_nvox(v); i++)
		px[i] = (uint16_t)(i * 7 % 4000);
	memset(&desc, 0, sizeof(desc));
	desc.study_uid = "2.25.1";
	desc.series_uid = "2.25.2";
	desc.sop_uid = "2.25.3";
	desc.frame_uid = "2.25.4";
	desc.date = "20240101";
	desc.series_description = "test";
	desc.manufacturer = "SIEMENS";
	desc.series_number = 7;
	desc.acquisition_number = 3;
	desc.instance_number = 3;
	desc.acquisition_time = 3600.5;
	desc.iop[0] = 1;
	desc.iop[4] = 1;
	desc.ipp[0] = -10;
	desc.ipp[1] = -20;
	desc.ipp[2] = -30;
	desc.pixel_spacing[0] = 2.5;
	desc.pixel_spacing[1] = 2.0;
	desc.slice_thickness = desc.slice_spacing = 4.0;
	desc.slice_normal[2] = 1;
	desc.tr = 2.0;
	desc.te = 0.03;
	desc.flip_angle = 70;
	desc.field_strength = 3;
	desc.slice_times = times;
	desc.pe_positive = 1;
	rtc_buf_init(&out, 0);
	ck_assert_int_eq(rtc_dicom_write_mosaic(v, &desc, &out, NULL), RTC_OK);
	ck_assert_int_ne(rtc_dicom_sniff(out.data, out.len), 0);
	ck_assert_int_eq(rtc_dicom_read_buffer(d, out.data, out.len, "mem", 0,
	    &m, b, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_MOSAIC);
	ck_assert_int_eq(m.mosaic_cols, 3);
	ck_assert_int_eq(b->nx, 8);
	ck_assert_int_eq(b->ny, 6);
	ck_assert_int_eq(b->nz, 5);
	ck_assert_mem_eq(b->data, v->data, rtc_volume_nbytes(v));
	ck_assert_int_eq(m.acq.series_number, 7);
	ck_assert_double_eq_tol(m.acq.acquisition_time, 3600.5, 1e-6);
	ck_assert_double_eq_tol(b->tr, 2.0, 1e-9);
	ck_assert_int_eq(m.pe_positive, 1);
	for (i = 0; i < 5; i++)
		ck_assert_double_eq_tol(b->slice_timing[i], times[i], 1e-9);
	step[0] = step[1] = 0;
	step[2] = 4.0;
	rtc_dicom_affine(desc.iop, desc.ipp, desc.pixel_spacing, step, 6, A);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(b->affine[r][c], A[r][c], 1e-6);
	/* only 16-bit single volumes */
	v->nt = 2;
	rtc_buf_reset(&out);
	ck_assert_int_eq(rtc_dicom_write_mosaic(v, &desc, &out, NULL),
	    RTC_ERR_INVAL);
	rtc_buf_free(&out);
	rtc_volume_free(v);
	rtc_volume_free(b);
	rtc_dicom_free(d);
}
END_TEST

/* A dataset without preamble and meta header (what a network peer may
 * stream): the Part 10 file minus 132 bytes minus the meta group, whose
 * length is (0002,0000)'s value. */
START_TEST(test_bare_dataset)
{
	char p[PATH_MAX], *bytes = NULL;
	const unsigned char *q;
	size_t len, meta;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *a = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;

	if (data_path(E11, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_fs_read_file(p, 1u << 24, &bytes, &len, NULL),
	    RTC_OK);
	q = (const unsigned char *)bytes + 132;
	ck_assert_mem_eq(q, "\2\0\0\0UL\4\0", 8);
	meta = 12 + ((size_t)q[8] | (size_t)q[9] << 8 | (size_t)q[10] << 16 |
	    (size_t)q[11] << 24);
	ck_assert_int_eq(rtc_dicom_read_file(d, p, 0, &m, a, NULL), RTC_OK);
	ck_assert_int_eq(rtc_dicom_read_buffer(d, bytes + 132 + meta,
	    len - 132 - meta, "bare", 0, &m, b, NULL), RTC_OK);
	ck_assert_int_eq(m.kind, RTC_DICOM_MOSAIC);
	ck_assert_mem_eq(a->data, b->data, rtc_volume_nbytes(a));
out:
	free(bytes);
	rtc_volume_free(a);
	rtc_volume_free(b);
	rtc_dicom_free(d);
}
END_TEST

/* Flipped bytes anywhere in the header never crash the decoder (ASan
 * and UBSan watch the sanitizer build); results are success or an
 * error code, with a message. */
START_TEST(test_corrupt_buffers_are_safe)
{
	char p[PATH_MAX], *bytes = NULL, *c, *cause;
	size_t len, hdr;
	struct rtc_dicom *d = rtc_dicom_new();
	struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;
	uint64_t x = 88172645463325252ull;
	int round, k, r, ok = 0;

	if (data_path(GE1, p, sizeof(p)) == NULL)
		goto out;
	ck_assert_int_eq(rtc_fs_read_file(p, 1u << 24, &bytes, &len, NULL),
	    RTC_OK);
	hdr = len - 8192;          /* everything before the pixel data */
	c = malloc(len);
	for (round = 0; round < 300; round++) {
		memcpy(c, bytes, len);
		for (k = 0; k < 3; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			c[132 + (x >> 9) % (hdr - 132)] = (char)(x >> 33);
		}
		cause = NULL;
		r = rtc_dicom_read_buffer(d, c, len, "corrupt", 0, &m, v, &cause);
		if (r == RTC_OK)
			ok++;
		else
			ck_assert_ptr_nonnull(cause);
		free(cause);
	}
	ck_assert_int_gt(ok, 0);   /* most flips hit values, not structure */
	free(c);
out:
	free(bytes);
	rtc_volume_free(v);
	rtc_dicom_free(d);
}
END_TEST

static Suite *
dicom_suite(void)
{
	Suite *s = suite_create("dicom");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_tm);
	tcase_add_test(tc, test_parse_dt);
	tcase_add_test(tc, test_vendor);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_affine_axial);
	tcase_add_test(tc, test_mosaic_origin);
	tcase_add_test(tc, test_unmosaic_layout);
	tcase_add_test(tc, test_copy_flip);
	tcase_add_test(tc, test_slice_times_ge);
	tcase_add_test(tc, test_ge_protocol);
	tcase_add_test(tc, test_ge_protocol_bomb);
	tcase_add_test(tc, test_ge_pe_polarity);
	tcase_add_test(tc, test_sniff);
	tcase_add_test(tc, test_read_e11_mosaic);
	tcase_add_test(tc, test_buffers_reused);
	tcase_add_test(tc, test_read_buffer_matches_file);
	tcase_add_test(tc, test_truncated_file);
	tcase_add_test(tc, test_truncated_buffer);
	tcase_add_test(tc, test_not_dicom);
	tcase_add_test(tc, test_header_only);
	tcase_add_test(tc, test_read_xa30_enhanced);
	tcase_add_test(tc, test_read_ge_slice);
	tcase_add_test(tc, test_write_mosaic_roundtrip);
	tcase_add_test(tc, test_bare_dataset);
	tcase_add_test(tc, test_corrupt_buffers_are_safe);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(dicom_suite)

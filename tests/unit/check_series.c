#include "rtc_build.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>

#include "check_common.h"
#include "dicom.h"
#include "error.h"
#include "series.h"

/* An axial slice entry at height z of series uid, volume t. */
static void
slice_entry(struct rtc_series_entry *e, const char *uid, int t, double z,
    int inst, const char *path)
{
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->kind = RTC_DICOM_SLICE;
	snprintf(e->series_uid, sizeof(e->series_uid), "%s", uid);
	snprintf(e->sop_uid, sizeof(e->sop_uid), "%s.%d", uid, inst);
	e->series_number = 5;
	e->acq_number = -1;
	e->instance_number = inst;
	e->temporal_index = -1;
	e->stack_position = -1;
	e->acq_time = -1;
	e->trigger_time = -1;
	e->rows = e->cols = 4;
	e->nslices = e->nvolumes = 1;
	e->iop[0] = 1;
	e->iop[4] = 1;
	e->ipp[2] = z;
	(void)t;
}

static void
volume_entry(struct rtc_series_entry *e, const char *uid, int acq,
    const char *path)
{
	slice_entry(e, uid, 0, 0, acq, path);
	e->kind = RTC_DICOM_MOSAIC;
	e->acq_number = acq;
	e->nslices = 27;
}

START_TEST(test_order_cmp)
{
	struct rtc_series_entry a, b;

	slice_entry(&a, "1", 0, 0, 5, "a");
	slice_entry(&b, "1", 0, 0, 3, "b");
	ck_assert_int_gt(rtc_series_order_cmp(&a, &b), 0);
	a.acq_time = 10;
	b.acq_time = 20;
	ck_assert_int_lt(rtc_series_order_cmp(&a, &b), 0);  /* time wins */
	a.acq_number = 2;
	b.acq_number = 1;
	ck_assert_int_gt(rtc_series_order_cmp(&a, &b), 0);  /* acq number */
	a.temporal_index = 1;
	b.temporal_index = 4;
	ck_assert_int_lt(rtc_series_order_cmp(&a, &b), 0);  /* temporal */
	b = a;
	ck_assert_int_eq(rtc_series_order_cmp(&a, &b), 0);
	b.acq_number = -1;   /* unknown on one side: not compared */
	b.temporal_index = -1;
	b.acq_time = -1;
	b.instance_number = 4;
	ck_assert_int_gt(rtc_series_order_cmp(&a, &b), 0);
}
END_TEST

static int ndups;

static void
count_dup(void *arg, const struct rtc_series_entry *d,
    const struct rtc_series_entry *k)
{
	(void)arg;
	ck_assert_str_eq(d->sop_uid, k->sop_uid);
	ndups++;
}

START_TEST(test_group_volumes_and_dups)
{
	struct rtc_series_entry e[6];
	struct rtc_series *s;
	size_t n;

	volume_entry(&e[0], "1.2.3", 3, "c");
	volume_entry(&e[1], "1.2.3", 1, "a");
	volume_entry(&e[2], "9.9", 1, "z");
	volume_entry(&e[3], "1.2.3", 2, "b");
	volume_entry(&e[4], "1.2.3", 3, "d");       /* a re-sent volume 3 */
	volume_entry(&e[5], "1.2.3", 4, "e");
	snprintf(e[4].sop_uid, sizeof(e[4].sop_uid), "%s", e[0].sop_uid);
	e[2].series_number = 2;
	ndups = 0;
	ck_assert_int_eq(rtc_series_group(e, 6, count_dup, NULL, &s, &n),
	    RTC_OK);
	ck_assert_int_eq(ndups, 1);
	ck_assert_uint_eq(n, 2);
	/* sorted by series number */
	ck_assert_str_eq(s[0].uid, "9.9");
	ck_assert_str_eq(s[1].uid, "1.2.3");
	ck_assert_ptr_null(s[1].error);
	ck_assert_uint_eq(s[1].nfiles, 4);
	ck_assert_uint_eq(s[1].ndup, 1);
	ck_assert_int_eq(s[1].nz, 27);
	ck_assert_int_eq(s[1].nt, 4);
	ck_assert_str_eq(s[1].files[0]->path, "a");
	ck_assert_str_eq(s[1].files[1]->path, "b");
	ck_assert_str_eq(s[1].files[2]->path, "c");   /* the first name stays */
	ck_assert_str_eq(s[1].files[3]->path, "e");
	rtc_series_free(s, n);
	rtc_series_free(NULL, 0);
}
END_TEST

START_TEST(test_dups_without_uid)
{
	struct rtc_series_entry e[3];
	struct rtc_series *s;
	size_t n;

	volume_entry(&e[0], "1", 1, "a");
	volume_entry(&e[1], "1", 1, "b");
	volume_entry(&e[2], "1", 2, "c");
	e[0].sop_uid[0] = e[1].sop_uid[0] = e[2].sop_uid[0] = '\0';
	ck_assert_int_eq(rtc_series_group(e, 3, NULL, NULL, &s, &n), RTC_OK);
	ck_assert_uint_eq(s[0].nfiles, 2);
	ck_assert_uint_eq(s[0].ndup, 1);
	rtc_series_free(s, n);
}
END_TEST

START_TEST(test_group_slices_shuffled)
{
	/* 3 positions x 4 volumes, handed over in a scrambled order */
	struct rtc_series_entry e[12];
	static const int perm[12] = { 7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6 };
	char names[12][8];
	struct rtc_series *s;
	size_t n;
	int i, t, k;

	for (i = 0; i < 12; i++) {
		int f = perm[i];

		t = f / 3;
		k = f % 3;
		snprintf(names[i], sizeof(names[i]), "f%02d", f);
		/* descending stored positions, instance numbers in order */
		slice_entry(&e[i], "7", t, 30.0 - 4.0 * k, f + 1, names[i]);
	}
	ck_assert_int_eq(rtc_series_group(e, 12, NULL, NULL, &s, &n), RTC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(s[0].error);
	ck_assert_int_eq(s[0].nz, 3);
	ck_assert_int_eq(s[0].nt, 4);
	for (t = 0; t < 4; t++)
		for (k = 0; k < 3; k++) {
			const struct rtc_series_entry *f = s[0].files[t * 3 + k];

			/* k ascends along the normal (+z) */
			ck_assert_double_eq(f->ipp[2], 22.0 + 4.0 * k);
			ck_assert_int_eq(f->instance_number, t * 3 + (2 - k) + 1);
		}
	rtc_series_free(s, n);
}
END_TEST

START_TEST(test_incomplete_and_mismatch)
{
	struct rtc_series_entry e[8];
	struct rtc_series *s;
	size_t n;
	int i;

	for (i = 0; i < 5; i++)      /* 5 slices at 3 positions */
		slice_entry(&e[i], "a", 0, (double)(i % 3) * 4, i + 1, "x");
	slice_entry(&e[5], "b", 0, 0, 1, "y");
	slice_entry(&e[6], "b", 0, 4, 2, "y2");
	e[6].rows = 8;               /* another image size */
	volume_entry(&e[7], "b", 3, "y3");   /* and another kind */
	ck_assert_int_eq(rtc_series_group(e, 8, NULL, NULL, &s, &n), RTC_OK);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(s[i].error);
		if (strcmp(s[i].uid, "a") == 0)
			ck_assert_ptr_nonnull(strstr(s[i].error, "incomplete"));
	}
	rtc_series_free(s, n);
}
END_TEST

START_TEST(test_echoes_split)
{
	/* a two-echo run: 3 volumes per echo, echoes interleaved in time */
	struct rtc_series_entry e[6];
	struct rtc_series *s;
	size_t n;
	int i;

	for (i = 0; i < 6; i++) {
		volume_entry(&e[i], "1.5", i + 1, "f");
		e[i].echo_number = 1 + i % 2;
	}
	ck_assert_int_eq(rtc_series_group(e, 6, NULL, NULL, &s, &n), RTC_OK);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(s[i].echo_number, i + 1);
		ck_assert_int_eq(s[i].echoes, 2);
		ck_assert_int_eq(s[i].nt, 3);
		ck_assert_int_eq(s[i].files[1]->acq_number, 3 + i);
	}
	rtc_series_free(s, n);
}
END_TEST

START_TEST(test_stack_geometry)
{
	struct rtc_dicom_meta m, g;
	double p0[3] = { 0, 0, 10 }, p1[3] = { 0, 0, 6.1 }, pl[3] = { 0, 0, -2 };
	double A[4][4];

	memset(&m, 0, sizeof(m));
	m.iop[0] = 1;
	m.iop[4] = 1;
	m.rows = m.cols = 4;
	m.pixel_spacing[0] = m.pixel_spacing[1] = 2;
	m.slice_distance = 3;
	/* a stack that goes down: the normal turns round */
	rtc_series_stack_geometry(&m, p0, p1, pl, 4, &g);
	ck_assert_double_eq(g.slice_normal[2], -1.0);
	ck_assert_double_eq_tol(g.slice_distance, 3.9, 1e-12);
	ck_assert_int_eq(g.nslices, 4);
	rtc_dicom_meta_affine(&g, A);
	ck_assert_double_eq_tol(A[2][2], -3.9, 1e-12);
	ck_assert_double_eq_tol(A[2][3], 10.0, 1e-12);
	/* one slice: the meta's own distance */
	rtc_series_stack_geometry(&m, p0, p0, p0, 1, &g);
	ck_assert_double_eq(g.slice_distance, 3.0);
	ck_assert_double_eq(g.slice_normal[2], 1.0);
}
END_TEST

START_TEST(test_slice_times_rules)
{
	struct rtc_dicom_meta m;
	int stack[4] = { 4, 3, 2, 1 };
	double trig[4] = { 0, 250, 500, 750 }, acq[4] = { 5, 5.5, 6, 6.5 };
	double t[4];

	memset(&m, 0, sizeof(m));
	m.vendor = RTC_VENDOR_GE;
	m.tr = 2.0;
	m.ge_slice_order = 0;
	m.ge_mb_factor = 1;
	ck_assert_int_eq(rtc_series_slice_times(&m, 4, stack, trig, acq, t), 1);
	/* by stack position: slice k=0 is the 4th acquired */
	ck_assert_double_eq_tol(t[0], 1.5, 1e-12);
	ck_assert_double_eq_tol(t[3], 0.0, 1e-12);
	m.ge_slice_order = -1;
	ck_assert_int_eq(rtc_series_slice_times(&m, 4, stack, trig, acq, t), 1);
	ck_assert_double_eq_tol(t[1], 0.25, 1e-12);     /* trigger times */
	m.vendor = RTC_VENDOR_SIEMENS;
	trig[1] = -1;
	ck_assert_int_eq(rtc_series_slice_times(&m, 4, stack, trig, acq, t), 1);
	ck_assert_double_eq_tol(t[3], 1.5, 1e-12);      /* acquisition times */
	acq[2] = -1;
	ck_assert_int_eq(rtc_series_slice_times(&m, 4, stack, trig, acq, t), 0);
	ck_assert_int_eq(rtc_series_slice_times(&m, 1, stack, trig, acq, t), 0);
}
END_TEST

/* A decoded-looking slice for the assembler. */
static void
fake_slice(struct rtc_dicom_meta *m, struct rtc_volume *v, double z,
    int inst, int nper, uint16_t fill)
{
	uint16_t *p;
	int i;

	memset(m, 0, sizeof(*m));
	m->kind = RTC_DICOM_SLICE;
	m->vendor = RTC_VENDOR_OTHER;
	snprintf(m->acq.series_uid, sizeof(m->acq.series_uid), "1.2.840.1");
	snprintf(m->sop_instance_uid, sizeof(m->sop_instance_uid),
	    "1.2.840.1.%d", inst);
	m->acq.series_number = 3;
	m->acq.instance_number = inst;
	m->acq.acquisition_number = -1;
	m->acq.acquisition_time = -1;
	m->temporal_index = -1;
	m->stack_position = -1;
	m->trigger_time = -1;
	m->locations_in_acq = nper;
	m->images_in_acq = -1;
	m->rows = m->cols = 4;
	m->iop[0] = 1;
	m->iop[4] = 1;
	m->ipp[2] = z;
	m->pixel_spacing[0] = m->pixel_spacing[1] = 2;
	m->slice_distance = 3;
	m->tr = 1.0;
	m->rescale_slope = 1;
	rtc_volume_reshape(v, 4, 4, 1, 1, RTC_DT_UINT16);
	p = v->data;
	for (i = 0; i < 16; i++)
		p[i] = fill;
}

START_TEST(test_asm_known_count)
{
	struct rtc_asm *a = rtc_asm_new(0);
	struct rtc_volume *s = rtc_volume_new(4, 4, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	int done = -1, k, vol, inst = 1;
	void *data = NULL;

	for (vol = 0; vol < 4; vol++) {
		for (k = 0; k < 3; k++) {
			/* slices arrive top-down */
			fake_slice(&m, s, 6.0 - 3.0 * k, inst, 3,
			    (uint16_t)(vol * 10 + k));
			ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
			    RTC_OK);
			ck_assert_int_eq(done, k == 2);
			inst++;
		}
		ck_assert_int_eq(out->nz, 3);
		/* k = 0 is the lowest slice: the last to arrive */
		ck_assert_int_eq(((uint16_t *)out->data)[0], vol * 10 + 2);
		ck_assert_int_eq(((uint16_t *)out->data)[32], vol * 10);
		ck_assert_int_eq(out->acq.instance_number, vol * 3 + 1);
		/* the queue's key: the volume's place, from the instances */
		ck_assert_int_eq(out->acq.acquisition_number, vol + 1);
		ck_assert_double_eq_tol(out->affine[2][2], 3.0, 1e-12);
		ck_assert_double_eq_tol(out->affine[2][3], 0.0, 1e-12);
		if (vol == 1)
			data = out->data;
		if (vol > 1)       /* steady state: the same memory */
			ck_assert_ptr_eq(out->data, data);
	}
	ck_assert_int_eq(rtc_asm_slices_per_volume(a), 3);
	ck_assert_uint_eq(rtc_asm_dropped(a), 0);
	rtc_asm_free(a);
	rtc_asm_free(NULL);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

START_TEST(test_asm_learns_count)
{
	struct rtc_asm *a = rtc_asm_new(4);
	struct rtc_volume *s = rtc_volume_new(4, 4, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	int done, k, inst = 1, nvol = 0;

	for (k = 0; k < 12; k++) {
		fake_slice(&m, s, (double)(k % 4) * 3.0, inst++, -1,
		    (uint16_t)k);
		ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
		    RTC_OK);
		if (k < 4)
			ck_assert_int_eq(done, 0);
		/* volume 1 comes with the first repeat, then on the 4th */
		if (k == 4 || k == 7 || k == 11)
			ck_assert_int_eq(done, 1);
		nvol += done;
		if (done)
			ck_assert_int_eq(out->acq.acquisition_number, nvol);
	}
	ck_assert_int_eq(nvol, 3);
	ck_assert_int_eq(rtc_asm_slices_per_volume(a), 4);
	rtc_asm_reset(a);
	ck_assert_int_eq(rtc_asm_slices_per_volume(a), 0);
	rtc_asm_free(a);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

START_TEST(test_asm_rejects)
{
	struct rtc_asm *a = rtc_asm_new(2);
	struct rtc_volume *s = rtc_volume_new(4, 4, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	int done;
	char *cause = NULL;

	ck_assert_ptr_null(rtc_asm_new(1));
	ck_assert_ptr_null(rtc_asm_new(65));
	fake_slice(&m, s, 0, 1, 2, 1);
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL), RTC_OK);
	/* the same SOP instance again */
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
	    RTC_ERR_EXISTS);
	/* a tilted slice in the same series */
	fake_slice(&m, s, 3, 2, 2, 1);
	m.iop[4] = 0.9;
	m.iop[5] = 0.43589;
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "orientation"));
	free(cause);
	/* a slice that is not one image */
	fake_slice(&m, s, 3, 3, 2, 1);
	m.rows = 5;
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_asm_add(a, NULL, &m, out, &done, NULL),
	    RTC_ERR_INVAL);
	rtc_asm_free(a);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

START_TEST(test_asm_new_series_drops_open)
{
	struct rtc_asm *a = rtc_asm_new(2);
	struct rtc_volume *s = rtc_volume_new(4, 4, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	int done;

	fake_slice(&m, s, 0, 1, 3, 1);
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL), RTC_OK);
	fake_slice(&m, s, 0, 2, 3, 1);
	snprintf(m.acq.series_uid, sizeof(m.acq.series_uid), "1.2.840.2");
	ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL), RTC_OK);
	ck_assert_uint_eq(rtc_asm_dropped(a), 1);
	rtc_asm_free(a);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

START_TEST(test_asm_temporal_index_out_of_order)
{
	struct rtc_asm *a = rtc_asm_new(4);
	struct rtc_volume *s = rtc_volume_new(4, 4, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	/* (volume, slice) as they arrive: volumes interleaved */
	static const int order[6][2] = { { 1, 0 }, { 2, 0 }, { 1, 1 },
	    { 2, 1 }, { 2, 2 }, { 1, 2 } };
	int done, i, got[6] = { 0 };

	for (i = 0; i < 6; i++) {
		fake_slice(&m, s, order[i][1] * 3.0, i + 1, 3,
		    (uint16_t)(order[i][0] * 100 + order[i][1]));
		m.temporal_index = order[i][0];
		ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
		    RTC_OK);
		got[i] = done;
		if (done)
			ck_assert_int_eq(((uint16_t *)out->data)[0],
			    order[i][0] * 100);
	}
	ck_assert_int_eq(got[4], 1);     /* volume 2 first */
	ck_assert_int_eq(got[5], 1);
	rtc_asm_free(a);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

START_TEST(test_asm_whole_volume_passes)
{
	struct rtc_asm *a = rtc_asm_new(0);
	struct rtc_volume *v = rtc_volume_new(4, 4, 3, 1, RTC_DT_INT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_dicom_meta m;
	int done = 0;

	memset(&m, 0, sizeof(m));
	m.kind = RTC_DICOM_MOSAIC;
	snprintf(m.sop_instance_uid, sizeof(m.sop_instance_uid), "1.2.3");
	((int16_t *)v->data)[5] = -7;
	v->tr = 2.5;
	ck_assert_int_eq(rtc_asm_add(a, v, &m, out, &done, NULL), RTC_OK);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(out->nz, 3);
	ck_assert_int_eq(((int16_t *)out->data)[5], -7);
	ck_assert_double_eq(out->tr, 2.5);
	ck_assert_int_eq(rtc_asm_add(a, v, &m, out, &done, NULL),
	    RTC_ERR_EXISTS);
	rtc_asm_free(a);
	rtc_volume_free(v);
	rtc_volume_free(out);
}
END_TEST

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Real GE slices through the assembler, in instance order. */
START_TEST(test_asm_real_ge)
{
	const char *d = check_data_dir();
	char dir[PATH_MAX], p[PATH_MAX + 300], *names[64];
	struct rtc_asm *a = rtc_asm_new(0);
	struct rtc_dicom *dec = rtc_dicom_new();
	struct rtc_volume *s = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_volume *out = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	struct rtc_dicom_meta m;
	struct dirent *e;
	DIR *dd;
	int n = 0, i, done, vols = 0, inst[64], order[64];

	if (d == NULL)
		goto out;
	snprintf(dir, sizeof(dir), "%s/dicom/ge-mr750-slices/s1925", d);
	dd = opendir(dir);
	ck_assert_ptr_nonnull(dd);
	while ((e = readdir(dd)) != NULL && n < 64)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(dd);
	ck_assert_int_eq(n, 54);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		ck_assert_int_eq(rtc_dicom_read_file(dec, p, RTC_DICOM_HEADER_ONLY,
		    &m, NULL, NULL), RTC_OK);
		inst[i] = m.acq.instance_number;
		order[i] = i;
	}
	/* feed in acquisition (instance) order, as a scanner sends */
	for (i = 1; i < n; i++) {
		int j = i, t = order[i];

		while (j > 0 && inst[order[j - 1]] > inst[t]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[order[i]]);
		ck_assert_int_eq(rtc_dicom_read_file(dec, p, 0, &m, s, NULL),
		    RTC_OK);
		ck_assert_int_eq(rtc_asm_add(a, s, &m, out, &done, NULL),
		    RTC_OK);
		if (!done)
			continue;
		vols++;
		ck_assert_int_eq(out->nz, 18);
		/* every GE slice says AcquisitionNumber 1: the volume's key
		 * comes from its instances */
		ck_assert_int_eq(out->acq.acquisition_number, vols);
		ck_assert_double_eq_tol(out->dz, 3.800124, 1e-6);
		ck_assert_double_eq_tol(out->tr, 1.0, 1e-12);
		ck_assert_ptr_nonnull(out->slice_timing);
		ck_assert_double_eq_tol(out->slice_timing[1], 0.5, 1e-9);
		ck_assert_double_eq_tol(out->slice_timing[2], 1.0 / 18, 1e-9);
		/* dcm2niix's sform: -2.994034 -0.183411 -0.058344 102.788895 */
		ck_assert_double_eq_tol(out->affine[0][2], -0.058344, 1e-5);
		ck_assert_double_eq_tol(out->affine[0][3], 102.788895, 1e-4);
		ck_assert_double_eq_tol(out->affine[2][3], -74.992447, 1e-4);
	}
	ck_assert_int_eq(vols, 3);
	for (i = 0; i < n; i++)
		free(names[i]);
out:
	rtc_asm_free(a);
	rtc_dicom_free(dec);
	rtc_volume_free(s);
	rtc_volume_free(out);
}
END_TEST

static Suite *
series_suite(void)
{
	Suite *s = suite_create("series");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order_cmp);
	tcase_add_test(tc, test_group_volumes_and_dups);
	tcase_add_test(tc, test_dups_without_uid);
	tcase_add_test(tc, test_group_slices_shuffled);
	tcase_add_test(tc, test_incomplete_and_mismatch);
	tcase_add_test(tc, test_echoes_split);
	tcase_add_test(tc, test_stack_geometry);
	tcase_add_test(tc, test_slice_times_rules);
	tcase_add_test(tc, test_asm_known_count);
	tcase_add_test(tc, test_asm_learns_count);
	tcase_add_test(tc, test_asm_rejects);
	tcase_add_test(tc, test_asm_new_series_drops_open);
	tcase_add_test(tc, test_asm_temporal_index_out_of_order);
	tcase_add_test(tc, test_asm_whole_volume_passes);
	tcase_add_test(tc, test_asm_real_ge);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(series_suite)

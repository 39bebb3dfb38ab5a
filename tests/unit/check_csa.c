#include "rtc_build.h"

#include <math.h>
#include <stdint.h>

#include "buf.h"
#include "check_common.h"
#include "csa.h"
#include "error.h"
#include "fsutil.h"

/* A small header as a scanner would write it. */
static void
make_blob(struct rtc_buf *b)
{
	const char *n[] = { "27" };
	const char *nv[] = { "-0.02321452", "-0.11461213", "0.99313904" };
	const char *t[] = { "0.0", "765.0", "52.5" };
	const char *txt[] = { "64*64" };
	struct rtc_csa_field f[] = {
		{ "NumberOfImagesInMosaic", "US", 1, 10, 1, n, 6 },
		{ "SliceNormalVector", "FD", 3, 4, 3, nv, 6 },
		{ "B_value", "IS", 1, 6, 0, NULL, 0 },
		{ "MosaicRefAcqTimes", "FD", 0, 4, 3, t, 6 },
		{ "AcquisitionMatrixText", "SH", 1, 22, 1, txt, 0 },
	};

	rtc_buf_init(b, 0);
	ck_assert_int_eq(rtc_csa_write(f, 5, b), RTC_OK);
}

START_TEST(test_write_parse_roundtrip)
{
	struct rtc_buf b;
	struct rtc_csa *csa = NULL;
	const struct rtc_csa_elem *e;
	double v[8];
	size_t n;
	long l;

	make_blob(&b);
	ck_assert_mem_eq(b.data, "SV10\4\3\2\1", 8);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL), RTC_OK);
	ck_assert_int_eq(csa->version, 2);
	ck_assert_uint_eq(csa->nelem, 5);
	ck_assert_int_eq(rtc_csa_get_long(csa, "NumberOfImagesInMosaic", 0, &l),
	    RTC_OK);
	ck_assert_int_eq(l, 27);
	e = rtc_csa_find(csa, "SliceNormalVector");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->vr, "FD");
	ck_assert_int_eq(e->vm, 3);
	ck_assert_uint_eq(e->nvalues, 3);
	ck_assert_int_eq(rtc_csa_get_doubles(csa, "MosaicRefAcqTimes", v, 8,
	    &n), RTC_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_double_eq_tol(v[1], 765.0, 1e-9);
	ck_assert_double_eq_tol(v[2], 52.5, 1e-9);
	e = rtc_csa_find(csa, "B_value");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->nvalues, 0);
	ck_assert_str_eq(rtc_csa_find(csa, "AcquisitionMatrixText")->items[0],
	    "64*64");
	rtc_csa_free(csa);
	rtc_csa_free(NULL);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_getters_missing_and_bad)
{
	const char *bad[] = { "abc", "1.5" };
	struct rtc_csa_field f[] = {
		{ "Text", "SH", 1, 22, 1, bad, 0 },
		{ "Half", "IS", 1, 6, 1, bad + 1, 0 },
	};
	struct rtc_buf b;
	struct rtc_csa *csa;
	double d = -1, v[1];
	long l = -1;
	size_t n = 0;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_csa_write(f, 2, &b), RTC_OK);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL), RTC_OK);
	ck_assert_int_eq(rtc_csa_get_double(csa, "Nope", 0, &d),
	    RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(rtc_csa_get_double(csa, "Text", 0, &d), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_csa_get_double(csa, "Text", 1, &d),
	    RTC_ERR_NOT_FOUND);
	ck_assert_double_eq(d, -1);           /* untouched on failure */
	ck_assert_int_eq(rtc_csa_get_long(csa, "Half", 0, &l), RTC_ERR_FORMAT);
	ck_assert_int_eq(l, -1);
	ck_assert_int_eq(rtc_csa_get_double(csa, "Half", 0, &d), RTC_OK);
	ck_assert_double_eq(d, 1.5);
	ck_assert_int_eq(rtc_csa_get_doubles(csa, "Text", v, 1, &n),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_null(rtc_csa_find(csa, NULL));
	ck_assert_ptr_null(rtc_csa_find(NULL, "Text"));
	rtc_csa_free(csa);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_get_doubles_room)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	double v[2];
	size_t n = 99;

	make_blob(&b);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL), RTC_OK);
	ck_assert_int_eq(rtc_csa_get_doubles(csa, "MosaicRefAcqTimes", v, 2,
	    &n), RTC_ERR_TOO_BIG);
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(rtc_csa_get_doubles(csa, "B_value", v, 2, &n),
	    RTC_ERR_NOT_FOUND);
	rtc_csa_free(csa);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_too_short)
{
	struct rtc_csa *csa = (struct rtc_csa *)0x1;
	char *cause = NULL;

	ck_assert_int_eq(rtc_csa_parse("SV10\4\3\2\1", 8, &csa, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_eq(csa, (struct rtc_csa *)0x1);   /* untouched */
	ck_assert_ptr_nonnull(strstr(cause, "too short"));
	free(cause);
	ck_assert_int_eq(rtc_csa_parse("", 0, &csa, NULL), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_csa_parse(NULL, 5, &csa, NULL), RTC_ERR_INVAL);
}
END_TEST

/* Patch a little-endian u32 into a blob. */
static void
put32(char *p, uint32_t v)
{
	p[0] = (char)v;
	p[1] = (char)(v >> 8);
	p[2] = (char)(v >> 16);
	p[3] = (char)(v >> 24);
}

START_TEST(test_element_count_caps)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	char *cause = NULL;

	make_blob(&b);
	put32(b.data + 8, 0);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	put32(b.data + 8, RTC_CSA_MAX_ELEMS + 1);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	/* more elements than 84-byte headers fit in the blob */
	put32(b.data + 8, 1000);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "room for"));
	free(cause);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_item_length_past_end)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	char *cause = NULL;

	make_blob(&b);
	/* first element's first item header: 16 + 84, x1 at +4 */
	put32(b.data + 16 + 84 + 4, (uint32_t)b.len);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "NumberOfImagesInMosaic"));
	ck_assert_ptr_nonnull(strstr(cause, "remain"));
	free(cause);
	cause = NULL;
	put32(b.data + 16 + 84 + 4, 0x80000000u);     /* negative */
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_item_count_cap)
{
	struct rtc_buf b;
	struct rtc_csa *csa;

	make_blob(&b);
	/* n_items of element 0 sits at 16 + 64 + 4 + 4 + 4 */
	put32(b.data + 16 + 76, RTC_CSA_MAX_ITEMS + 1);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL),
	    RTC_ERR_FORMAT);
	put32(b.data + 16 + 76, 0xffffffffu);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL),
	    RTC_ERR_FORMAT);
	/* more items than the blob holds */
	put32(b.data + 16 + 76, 1000);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL),
	    RTC_ERR_FORMAT);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_every_truncation_is_safe)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	size_t n;
	int ok = 0;

	make_blob(&b);
	/* each prefix parses or fails cleanly (ASan checks the reads) */
	for (n = 0; n <= b.len; n++) {
		char *cut = malloc(n > 0 ? n : 1);
		int r;

		memcpy(cut, b.data, n);
		r = rtc_csa_parse(cut, n, &csa, NULL);
		if (r == RTC_OK) {
			ok++;
			rtc_csa_free(csa);
		} else
			ck_assert_int_eq(r, RTC_ERR_FORMAT);
		free(cut);
	}
	/* only the whole blob (or it minus trailing padding) is whole */
	ck_assert_int_ge(ok, 1);
	ck_assert_int_le(ok, 4);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_random_corruption_is_safe)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	uint64_t x = 0x12345678;
	int round, k;

	make_blob(&b);
	for (round = 0; round < 2000; round++) {
		char *c = malloc(b.len);

		memcpy(c, b.data, b.len);
		for (k = 0; k < 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			c[(x >> 8) % b.len] = (char)(x >> 40);
		}
		if (rtc_csa_parse(c, b.len, &csa, NULL) == RTC_OK) {
			/* whatever parsed is usable */
			size_t e, i;

			for (e = 0; e < csa->nelem; e++)
				for (i = 0; i < csa->elem[e].nvalues; i++)
					ck_assert_uint_lt(strlen(
					    csa->elem[e].items[i]), b.len);
			rtc_csa_free(csa);
		}
		free(c);
	}
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_size_cap)
{
	struct rtc_csa *csa;
	char *cause = NULL;
	static const char dummy[16];

	ck_assert_int_eq(rtc_csa_parse(dummy, (size_t)RTC_CSA_MAX_BYTES + 1,
	    &csa, &cause), RTC_ERR_TOO_BIG);
	ck_assert_ptr_nonnull(strstr(cause, "cap"));
	free(cause);
}
END_TEST

START_TEST(test_csa1_layout)
{
	/* CSA1: no magic; item length = x0 - n_items of element 1 */
	struct rtc_buf b;
	struct rtc_csa *csa;
	char name[64], vr[4] = "IS";
	long l = 0;
	int e;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_buf_append(&b, "\2\0\0\0\x4d\0\0\0", 8), RTC_OK);
	for (e = 0; e < 2; e++) {
		char h[20], item[16];

		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), e == 0 ? "First" : "Second");
		rtc_buf_append(&b, name, 64);
		put32(h, 1);
		memcpy(h + 4, vr, 4);
		put32(h + 8, 6);
		put32(h + 12, 1);             /* one item */
		put32(h + 16, 77);
		rtc_buf_append(&b, h, 20);
		put32(item, 3 + 1);           /* x0 = len + n_items(elem 1) */
		put32(item + 4, 3);
		put32(item + 8, 77);
		put32(item + 12, 3);
		rtc_buf_append(&b, item, 16);
		rtc_buf_append(&b, e == 0 ? "12\0\0" : "34\0\0", 4);
	}
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL), RTC_OK);
	ck_assert_int_eq(csa->version, 1);
	ck_assert_int_eq(rtc_csa_get_long(csa, "Second", 0, &l), RTC_OK);
	ck_assert_int_eq(l, 34);
	rtc_csa_free(csa);
	rtc_buf_free(&b);
}
END_TEST

/* CSA1 item length x0 - n_items near INT32_MIN: an error, not a signed
 * overflow (found by tests/fuzz/fuzz_csa; the sanitizer build sees the
 * overflow, the plain one only the error). */
START_TEST(test_csa1_length_overflow)
{
	struct rtc_buf b;
	struct rtc_csa *csa;
	char name[64], h[20], item[16], *cause = NULL;
	int e;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_buf_append(&b, "\2\0\0\0\x4d\0\0\0", 8), RTC_OK);
	for (e = 0; e < 2; e++) {
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), e == 0 ? "First" : "Second");
		rtc_buf_append(&b, name, 64);
		put32(h, 1);
		memcpy(h + 4, "IS\0\0", 4);
		put32(h + 8, 6);
		put32(h + 12, e == 0 ? 1 : 3);        /* items */
		put32(h + 16, 77);
		rtc_buf_append(&b, h, 20);
		/* x0: the length plus element 1's item count; for element 1,
		 * INT32_MIN + 1 */
		put32(item, e == 0 ? 4 : 0x80000001u);
		put32(item + 4, 3);
		put32(item + 8, 77);
		put32(item + 12, 3);
		rtc_buf_append(&b, item, 16);
		rtc_buf_append(&b, "12\0\0", 4);
	}
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "claims -2147483650 bytes"));
	free(cause);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_vm_limits_values)
{
	const char *v[] = { "1", "2", "3" };
	struct rtc_csa_field f[] = { { "Two", "IS", 2, 6, 3, v, 0 } };
	struct rtc_buf b;
	struct rtc_csa *csa;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_csa_write(f, 1, &b), RTC_OK);
	ck_assert_int_eq(rtc_csa_parse(b.data, b.len, &csa, NULL), RTC_OK);
	ck_assert_uint_eq(rtc_csa_find(csa, "Two")->nvalues, 2);
	rtc_csa_free(csa);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_write_rejects_bad_fields)
{
	char longname[80];
	const char *v[] = { "1" };
	struct rtc_csa_field f[] = { { longname, "IS", 1, 6, 1, v, 0 } };
	struct rtc_csa_field g[] = { { "X", "TOOLONG", 1, 6, 1, v, 0 } };
	struct rtc_csa_field h[] = { { "X", "IS", 1, 6, 1, NULL, 0 } };
	struct rtc_buf b;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_csa_write(f, 1, &b), RTC_ERR_INVAL);
	rtc_buf_reset(&b);
	ck_assert_int_eq(rtc_csa_write(g, 1, &b), RTC_ERR_INVAL);
	rtc_buf_reset(&b);
	ck_assert_int_eq(rtc_csa_write(h, 1, &b), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_csa_write(f, 0, &b), RTC_ERR_INVAL);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_writer_padding_layout)
{
	const char *v[] = { "7" };
	struct rtc_csa_field f[] = { { "P", "IS", 1, 6, 1, v, 6 } };
	struct rtc_buf b;
	const unsigned char *p;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_csa_write(f, 1, &b), RTC_OK);
	/* 16 header + 84 element + 16+4 value item + 5 empty items */
	ck_assert_uint_eq(b.len, 16 + 84 + 20 + 5 * 16);
	p = (const unsigned char *)b.data + 16 + 84 + 20;
	ck_assert_int_eq(p[8], 205);         /* empty item marker */
	rtc_buf_free(&b);
}
END_TEST

/* The CSA image header of a real Siemens file: the first "SV10" in the
 * file; its length is the 4 bytes before it (Explicit VR OB). */
START_TEST(test_real_siemens_header)
{
	const char *dir = check_data_dir();
	char path[PATH_MAX], *data = NULL, *sv = NULL;
	size_t len = 0, i, n;
	struct rtc_csa *csa;
	double nv[3], t[64];
	long mos = 0, pe = -1;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path),
	    "%s/dicom/siemens-e11-mosaic-rt/001_000013_000001.dcm", dir);
	ck_assert_int_eq(rtc_fs_read_file(path, 1u << 24, &data, &len, NULL),
	    RTC_OK);
	for (i = 4; i + 4 < len && sv == NULL; i++)
		if (memcmp(data + i, "SV10", 4) == 0)
			sv = data + i;
	ck_assert_ptr_nonnull(sv);
	n = (size_t)(unsigned char)sv[-4] | (size_t)(unsigned char)sv[-3] << 8 |
	    (size_t)(unsigned char)sv[-2] << 16 |
	    (size_t)(unsigned char)sv[-1] << 24;
	ck_assert_uint_eq(n, 12428);
	ck_assert_int_eq(rtc_csa_parse(sv, n, &csa, NULL), RTC_OK);
	ck_assert_uint_eq(csa->nelem, 101);
	ck_assert_int_eq(rtc_csa_get_long(csa, "NumberOfImagesInMosaic", 0,
	    &mos), RTC_OK);
	ck_assert_int_eq(mos, 27);
	ck_assert_int_eq(rtc_csa_get_long(csa, "PhaseEncodingDirectionPositive",
	    0, &pe), RTC_OK);
	ck_assert_int_eq(pe, 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rtc_csa_get_double(csa, "SliceNormalVector", i,
		    &nv[i]), RTC_OK);
	ck_assert_double_eq_tol(nv[2], 0.99313904, 1e-8);
	ck_assert_int_eq(rtc_csa_get_doubles(csa, "MosaicRefAcqTimes", t, 64,
	    &n), RTC_OK);
	ck_assert_uint_eq(n, 27);
	ck_assert_double_eq_tol(t[1], 765.0, 1e-6);
	ck_assert_double_eq_tol(t[2], 52.50000001, 1e-6);
	rtc_csa_free(csa);
	free(data);
}
END_TEST

static Suite *
csa_suite(void)
{
	Suite *s = suite_create("csa");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_write_parse_roundtrip);
	tcase_add_test(tc, test_getters_missing_and_bad);
	tcase_add_test(tc, test_get_doubles_room);
	tcase_add_test(tc, test_too_short);
	tcase_add_test(tc, test_element_count_caps);
	tcase_add_test(tc, test_item_length_past_end);
	tcase_add_test(tc, test_item_count_cap);
	tcase_add_test(tc, test_every_truncation_is_safe);
	tcase_add_test(tc, test_random_corruption_is_safe);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_csa1_layout);
	tcase_add_test(tc, test_csa1_length_overflow);
	tcase_add_test(tc, test_vm_limits_values);
	tcase_add_test(tc, test_write_rejects_bad_fields);
	tcase_add_test(tc, test_writer_padding_layout);
	tcase_add_test(tc, test_real_siemens_header);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(csa_suite)

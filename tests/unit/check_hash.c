#include "rtc_build.h"

#include "check_common.h"
#include "error.h"
#include "hash.h"

START_TEST(test_sha256_vectors)
{
	char hex[65];

	/* FIPS 180-2 examples */
	ck_assert_int_eq(rtc_sha256_hex("", 0, hex), RTC_OK);
	ck_assert_str_eq(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_int_eq(rtc_sha256_hex("abc", 3, hex), RTC_OK);
	ck_assert_str_eq(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_md5_vectors)
{
	char hex[65];

	/* RFC 1321 */
	ck_assert_int_eq(rtc_md5_hex("", 0, hex), RTC_OK);
	ck_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_int_eq(rtc_md5_hex("message digest", 14, hex), RTC_OK);
	ck_assert_str_eq(hex, "f96b697d7cb7938d525a2f31aaf161d0");
}
END_TEST

START_TEST(test_incremental_equals_oneshot)
{
	struct rtc_hash *h = rtc_hash_new(RTC_HASH_SHA256);
	char a[65], b[65];

	rtc_hash_update(h, "ab", 2);
	rtc_hash_update(h, "c", 1);
	rtc_hash_final_hex(h, a);
	rtc_hash_free(h);
	rtc_sha256_hex("abc", 3, b);
	ck_assert_str_eq(a, b);
	rtc_hash_free(NULL);
}
END_TEST

START_TEST(test_file_hash)
{
	char *dir = check_tmpdir(), path[512], hex[65], *cause = NULL;
	unsigned long long size = 0;
	char *big = malloc(300000);
	char want[65];

	memset(big, 'q', 300000);
	snprintf(path, sizeof(path), "%s/f", dir);
	rtc_fs_write_atomic(path, big, 300000, 0644, 0, NULL);
	ck_assert_int_eq(rtc_hash_file_hex(RTC_HASH_SHA256, path, hex, &size,
	    NULL), RTC_OK);
	rtc_sha256_hex(big, 300000, want);
	ck_assert_str_eq(hex, want);
	ck_assert_uint_eq(size, 300000);
	ck_assert_int_eq(rtc_hash_file_hex(RTC_HASH_MD5, "/nonexistent", hex,
	    NULL, &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	free(big);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_md5_vectors);
	tcase_add_test(tc, test_incremental_equals_oneshot);
	tcase_add_test(tc, test_file_hash);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(hash_suite)

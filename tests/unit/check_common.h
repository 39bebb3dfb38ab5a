/*
 * check_common: shared bits of the Check suites. Each tests/unit/check_X.c
 * defines a suite and ends with RTC_CHECK_MAIN(x_suite).
 */
#ifndef RTC_CHECK_COMMON_H
#define RTC_CHECK_COMMON_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

#define RTC_CHECK_MAIN(suite_fn)                                          \
	int                                                               \
	main(void)                                                        \
	{                                                                 \
		SRunner *sr = srunner_create(suite_fn());                 \
		int failed;                                               \
                                                                          \
		srunner_run_all(sr, CK_NORMAL);                           \
		failed = srunner_ntests_failed(sr);                       \
		srunner_free(sr);                                         \
		return failed == 0 ? 0 : 1;                               \
	}

/* Make a fresh temp directory; the caller removes it with
 * rtc_fs_remove_tree(). RET: malloc'd path. */
static inline char *
check_tmpdir(void)
{
	char tmpl[] = "/tmp/rtc-check-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

/* RET: path of the shared test data ($RTC_TEST_DATA), or NULL when absent
 * (fails instead when CI=true: CI always has the data). */
static inline const char *
check_data_dir(void)
{
	const char *d = getenv("RTC_TEST_DATA");
	const char *ci = getenv("CI");

	if (d != NULL && rtc_fs_is_dir(d))
		return d;
	if (ci != NULL && strcmp(ci, "true") == 0)
		ck_abort_msg("CI=true but test data is missing at %s",
		    d ? d : "(RTC_TEST_DATA unset)");
	fprintf(stderr, "SKIP: test data not found (RTC_TEST_DATA=%s)\n",
	    d ? d : "");
	return NULL;
}

#endif

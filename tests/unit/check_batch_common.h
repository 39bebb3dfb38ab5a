/*
 * check_batch_common: small helpers the batch suites share to build
 * throw-away BIDS layouts on disk.
 */
#ifndef RTC_CHECK_BATCH_COMMON_H
#define RTC_CHECK_BATCH_COMMON_H

#include <sys/stat.h>

#include "check_common.h"

/* Write text to dir/rel, making parent directories. */
static inline void
put_file(const char *dir, const char *rel, const char *text)
{
	char path[4096], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_int_eq(rtc_fs_mkdir_p(path, 0755, NULL), 0);
	*slash = '/';
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static inline char *
read_all(const char *path)
{
	char *data = NULL;
	size_t len;

	if (rtc_fs_read_file(path, 1 << 24, &data, &len, NULL) != 0)
		return NULL;
	return data;
}

#endif

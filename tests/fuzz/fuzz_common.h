/*
 * fuzz_common: what the harnesses share. Each tests/fuzz/fuzz_<name>.c
 * defines LLVMFuzzerTestOneInput (and, when it needs set-up, the optional
 * LLVMFuzzerInitialize); `make fuzz` links it with libFuzzer, and
 * tests/fuzz/run_corpus.c links the same file into a plain program that
 * replays a corpus in `make check`.
 *
 * FUZZ_CHECK(cond) is an invariant: when it fails the harness aborts, which
 * libFuzzer records as a crash (and run_corpus as a failed test).
 */
#ifndef RTC_FUZZ_COMMON_H
#define RTC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "fsutil.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond) do {                                             \
	if (!(cond)) {                                                    \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		    __LINE__, #cond);                                     \
		abort();                                                  \
	}                                                                 \
} while (0)

/* A private temp directory for the whole run, removed at exit. */
static char *fuzz_dir_path;

static inline void
fuzz_dir_remove(void)
{
	if (fuzz_dir_path != NULL)
		(void)rtc_fs_remove_tree(fuzz_dir_path, NULL);
	free(fuzz_dir_path);
	fuzz_dir_path = NULL;
}

/* RET: the directory (made on first call; aborts when it cannot be). */
static inline const char *
fuzz_dir(void)
{
	char tmpl[] = "/tmp/rtc-fuzz-XXXXXX";

	if (fuzz_dir_path != NULL)
		return fuzz_dir_path;
	if (mkdtemp(tmpl) == NULL || (fuzz_dir_path = strdup(tmpl)) == NULL)
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* A context that logs errors only, made on first call, freed at exit. */
static struct rtc_ctx *fuzz_ctx_ptr;

static inline void
fuzz_ctx_free(void)
{
	rtc_ctx_free(fuzz_ctx_ptr);
	fuzz_ctx_ptr = NULL;
}

static inline struct rtc_ctx *
fuzz_ctx(void)
{
	if (fuzz_ctx_ptr != NULL)
		return fuzz_ctx_ptr;
	if ((fuzz_ctx_ptr = rtc_ctx_new("fuzz")) == NULL)
		abort();
	rtc_log_set_level(fuzz_ctx_ptr->log, RTC_LOG_ERROR);
	atexit(fuzz_ctx_free);
	return fuzz_ctx_ptr;
}

/* The AWS lookups must not find this machine's own settings or files:
 * HOME becomes the fuzz directory and the AWS variables are unset. */
static inline void
fuzz_aws_env_clear(void)
{
	static const char *const vars[] = { "AWS_PROFILE",
	    "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	    "RTC_S3_ENDPOINT" };
	size_t i;

	setenv("HOME", fuzz_dir(), 1);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* Write data to dir/name (the directory must exist). Aborts on failure:
 * a harness that cannot set up its input tests nothing. */
static inline void
fuzz_put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (fp == NULL || (len > 0 && fwrite(data, 1, len, fp) != len) ||
	    fclose(fp) != 0)
		abort();
}

/*
 * Split data at the separator byte sep into at most max parts, each a
 * malloc'd NUL-terminated copy (parts past the data are ""). Free with
 * fuzz_parts_free(). RET: how many parts the data held.
 */
static inline size_t
fuzz_split(const uint8_t *data, size_t size, int sep, char **part,
    size_t *len, size_t max)
{
	size_t i, k = 0, start = 0, n = 0;

	for (i = 0; i < max; i++) {
		part[i] = NULL;
		len[i] = 0;
	}
	for (i = 0; i <= size && k < max; i++) {
		if (i < size && (data[i] != sep || k == max - 1))
			continue;
		len[k] = i - start;
		part[k] = malloc(len[k] + 1);
		if (part[k] == NULL)
			abort();
		if (len[k] > 0)
			memcpy(part[k], data + start, len[k]);
		part[k][len[k]] = '\0';
		k++;
		start = i + 1;
	}
	n = k;
	for (; k < max; k++) {
		part[k] = calloc(1, 1);
		if (part[k] == NULL)
			abort();
	}
	return n;
}

static inline void
fuzz_parts_free(char **part, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++)
		free(part[i]);
}

#endif

/*
 * run_corpus: replays fuzz inputs through a harness without libFuzzer, so
 * that `make check` runs every harness over its committed corpus (and the
 * crashers fixed since) in the ordinary and the sanitizer builds.
 *
 *     corpus_<name> PATH...
 *
 * Each PATH is an input file or a directory whose files (not hidden ones,
 * not subdirectories) are inputs, taken in name order. Every input is read
 * into a buffer of exactly its size, so that a read past its end is an
 * AddressSanitizer error in the sanitizer build. Exit 0 when every input
 * went through; a harness that finds a bug aborts.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define INPUT_MAX (64u << 20)

static int
run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t n;
	FILE *fp;

	fp = fopen(path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "run_corpus: %s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > INPUT_MAX) {
		fprintf(stderr, "run_corpus: %s: larger than %u bytes\n", path,
		    INPUT_MAX);
		fclose(fp);
		return -1;
	}
	n = (size_t)st.st_size;
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL || (n > 0 && fread(buf, 1, n, fp) != n)) {
		fprintf(stderr, "run_corpus: %s: cannot read\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	(void)LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* RET: inputs run, or -1. */
static long
run_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	long count = 0;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "run_corpus: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			char **nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(names, cap * sizeof(*nv));
			if (nv == NULL)
				abort();
			names = nv;
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (count >= 0 && run_file(path) == 0)
			count++;
		else
			count = -1;
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	long total = 0, k;
	struct stat st;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 64;
	}
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			k = run_dir(argv[i]);
		else
			k = run_file(argv[i]) == 0 ? 1 : -1;
		if (k < 0)
			return 1;
		total += k;
	}
	printf("%s: %ld inputs\n", argv[0], total);
	return 0;
}

/*
 * cmd_bench_convert: `rtc bench convert INPUT [--repeat N] [--json]`.
 *
 * What is timed, per file and round, with one decoder and one output
 * volume reused throughout (as rtc live does):
 *   decode_file    rtc_dicom_read_file(): open, parse with DCMTK, CSA
 *                  header, pixel data, unmosaic, geometry, slice timing;
 *   decode_buffer  rtc_dicom_read_buffer() on the file's bytes already in
 *                  memory (what a DICOM network receiver hands over);
 *   decode_write   decode_file plus writing the volume as NIfTI-1 (temp
 *                  file + rename) to a new name, i.e. a whole in-process
 *                  conversion of one volume. (Renaming over an existing
 *                  file costs ext4 about 2 ms of forced write-back, so
 *                  each sample writes its own file, as a conversion
 *                  would; they are removed after the timing.)
 * Every file is decoded once before timing (page cache, first-use
 * costs). reallocs counts how often the output volume's memory moved
 * during the timed rounds (0: no allocation in steady state).
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "cmd_bench.h"
#include "cmd_util.h"
#include "convert.h"
#include "dicom.h"
#include "error.h"
#include "fsutil.h"
#include "nifti.h"

#define MAX_SAMPLES 1000000

static void
print_stats(const char *label, const struct bench_stats *s)
{
	printf("  %-14s p50 %8.3f ms  p95 %8.3f ms  p99 %8.3f ms  "
	    "min %8.3f  max %8.3f  (n=%zu)\n", label, s->p50_ms, s->p95_ms,
	    s->p99_ms, s->min_ms, s->max_ms, s->n);
}

static void
json_stats(const char *key, const struct bench_stats *s, int last)
{
	printf("\"%s\":{\"p50\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"min\":%.4f,"
	    "\"max\":%.4f,\"mean\":%.4f,\"n\":%zu}%s", key, s->p50_ms,
	    s->p95_ms, s->p99_ms, s->min_ms, s->max_ms, s->mean_ms, s->n,
	    last ? "" : ",");
}

static int
bench_convert(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_dicom *dec = NULL;
	struct rtc_volume *vol = NULL;
	struct rtc_dicom_meta meta;
	struct bench_stats sf, sb, sw;
	char **files = NULL, **dicom = NULL, *cause = NULL, *tmpdir = NULL;
	char **bytes = NULL, *niipath = NULL;
	size_t *lens = NULL, nfiles = 0, ndicom = 0, i, ns = 0;
	int64_t *tf = NULL, *tb = NULL, *tw = NULL;
	long repeat = 0, v;
	int c, json = 0, r, round, ret = 1;
	void *data0;
	size_t cap0, reallocs = 0, niicap = 0;
	char tmpl[] = "/tmp/rtc-bench-XXXXXX";

	(void)ctx;
	while ((c = getopt_long(argc, argv, "r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (cmd_parse_long(optarg, 1, 100000, &v) != 0)
				return cmd_usage_error(&cmd_bench_entry,
				    "--repeat: 1..100000");
			repeat = v;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return cmd_show_help(&cmd_bench_entry);
		default:
			return cmd_usage_error(&cmd_bench_entry,
			    "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(&cmd_bench_entry,
		    "bench convert takes one INPUT");
	r = rtc_convert_collect((const char *const *)argv + optind, 1, &files,
	    &nfiles, &cause);
	if (r != RTC_OK)
		return cmd_fail(&cmd_bench_entry, r, &cause);
	dec = rtc_dicom_new();
	vol = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	dicom = calloc(nfiles + 1, sizeof(*dicom));
	bytes = calloc(nfiles + 1, sizeof(*bytes));
	lens = calloc(nfiles + 1, sizeof(*lens));
	if (dec == NULL || vol == NULL || dicom == NULL || bytes == NULL ||
	    lens == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	/* warm-up: keep the files that decode, and their bytes */
	for (i = 0; i < nfiles; i++) {
		char *why = NULL;

		if (rtc_dicom_read_file(dec, files[i], 0, &meta, vol, &why) !=
		    RTC_OK) {
			free(why);
			continue;
		}
		if ((r = rtc_fs_read_file(files[i], RTC_DICOM_MAX_FILE,
		    &bytes[ndicom], &lens[ndicom], &cause)) != RTC_OK)
			goto fail;
		dicom[ndicom++] = files[i];
	}
	if (ndicom == 0) {
		fprintf(stderr, "rtc bench: no decodable DICOM in %s\n",
		    argv[optind]);
		ret = 65;
		goto out;
	}
	if (repeat == 0)
		repeat = ndicom >= 200 ? 1 : (long)((200 + ndicom - 1) / ndicom);
	if ((size_t)repeat * ndicom > MAX_SAMPLES)
		repeat = (long)(MAX_SAMPLES / ndicom);
	ns = (size_t)repeat * ndicom;
	tf = malloc(ns * sizeof(*tf));
	tb = malloc(ns * sizeof(*tb));
	tw = malloc(ns * sizeof(*tw));
	if (tf == NULL || tb == NULL || tw == NULL ||
	    (tmpdir = mkdtemp(tmpl)) == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	{
		size_t n = strlen(tmpdir) + 32;

		if ((niipath = malloc(n)) == NULL) {
			r = RTC_ERR_NOMEM;
			goto fail;
		}
		niicap = n;
	}
	data0 = vol->data;
	cap0 = vol->cap;
	for (round = 0; round < repeat; round++)
		for (i = 0; i < ndicom; i++) {
			size_t k = (size_t)round * ndicom + i;
			int64_t t0, t1;

			t0 = rtc_clock_mono_ns();
			r = rtc_dicom_read_file(dec, dicom[i], 0, &meta, vol,
			    &cause);
			t1 = rtc_clock_mono_ns();
			if (r != RTC_OK)
				goto fail;
			tf[k] = t1 - t0;
			if (vol->data != data0 || vol->cap != cap0) {
				reallocs++;
				data0 = vol->data;
				cap0 = vol->cap;
			}
			t0 = rtc_clock_mono_ns();
			r = rtc_dicom_read_buffer(dec, bytes[i], lens[i],
			    dicom[i], 0, &meta, vol, &cause);
			t1 = rtc_clock_mono_ns();
			if (r != RTC_OK)
				goto fail;
			tb[k] = t1 - t0;
			snprintf(niipath, niicap, "%s/%zu.nii", tmpdir, k);
			t0 = rtc_clock_mono_ns();
			r = rtc_dicom_read_file(dec, dicom[i], 0, &meta, vol,
			    &cause);
			if (r == RTC_OK)
				r = rtc_nifti_write(niipath, vol, NULL, &cause);
			t1 = rtc_clock_mono_ns();
			if (r != RTC_OK)
				goto fail;
			tw[k] = t1 - t0;
		}
	bench_stats(tf, ns, &sf);
	bench_stats(tb, ns, &sb);
	bench_stats(tw, ns, &sw);
	if (json) {
		printf("{\"input\":\"%s\",\"files\":%zu,\"kind\":\"%s\","
		    "\"shape\":[%d,%d,%d,%d],\"dtype\":\"%s\",\"rounds\":%ld,",
		    argv[optind], ndicom, rtc_dicom_kind_name(meta.kind),
		    vol->nx, vol->ny, vol->nz, vol->nt,
		    rtc_dtype_name(vol->dtype), repeat);
		json_stats("decode_file_ms", &sf, 0);
		json_stats("decode_buffer_ms", &sb, 0);
		json_stats("decode_write_ms", &sw, 0);
		printf("\"reallocs\":%zu}\n", reallocs);
	} else {
		printf("rtc bench convert: %s: %zu file%s (%s %dx%dx%dx%d %s), "
		    "%ld round%s\n", argv[optind], ndicom, ndicom == 1 ? "" :
		    "s", rtc_dicom_kind_name(meta.kind), vol->nx, vol->ny,
		    vol->nz, vol->nt, rtc_dtype_name(vol->dtype), repeat,
		    repeat == 1 ? "" : "s");
		print_stats("decode file", &sf);
		print_stats("decode buffer", &sb);
		print_stats("decode+write", &sw);
		printf("  output buffer reallocations while timed: %zu\n",
		    reallocs);
	}
	ret = 0;
	goto out;
fail:
	ret = cmd_fail(&cmd_bench_entry, r, &cause);
out:
	if (tmpdir != NULL)
		(void)rtc_fs_remove_tree(tmpdir, NULL);
	free(niipath);
	for (i = 0; i < ndicom; i++)
		free(bytes[i]);
	free(bytes);
	free(lens);
	free(dicom);
	free(tf);
	free(tb);
	free(tw);
	rtc_convert_files_free(files, nfiles);
	rtc_volume_free(vol);
	rtc_dicom_free(dec);
	return ret;
}

const struct bench_sub bench_convert_sub = {
	.name = "convert",
	.usage = "INPUT [--repeat N] [--json]",
	.summary = "in-process DICOM decode (+ NIfTI write) per volume",
	.exec = bench_convert,
};

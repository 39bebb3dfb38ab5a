/*
 * cmd_bench: `rtc bench SUBCOMMAND ...`, performance measurements of the
 * paths rtc promises to be fast. A table of subcommands (one per line
 * below), each in its own file; here also the shared statistics.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_bench.h"
#include "cmd_util.h"

static const struct bench_sub *const bench_table[] = {
	&bench_convert_sub,
	&bench_live_sub,
	NULL
};

static int
i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted v */
static double
pct(const int64_t *v, size_t n, double p)
{
	size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e6;
}

void
bench_stats(int64_t *ns, size_t n, struct bench_stats *out)
{
	double sum = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0)
		return;
	qsort(ns, n, sizeof(*ns), i64_cmp);
	for (i = 0; i < n; i++)
		sum += (double)ns[i];
	out->min_ms = (double)ns[0] / 1e6;
	out->max_ms = (double)ns[n - 1] / 1e6;
	out->mean_ms = sum / (double)n / 1e6;
	out->p50_ms = n % 2 ? (double)ns[n / 2] / 1e6 :
	    ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2e6;
	out->p95_ms = pct(ns, n, 95);
	out->p99_ms = pct(ns, n, 99);
}

static int
bench_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return cmd_usage_error(&cmd_bench_entry, "no subcommand");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cmd_show_help(&cmd_bench_entry);
	for (i = 0; bench_table[i] != NULL; i++)
		if (strcmp(bench_table[i]->name, argv[1]) == 0)
			return bench_table[i]->exec(ctx, argc - 1, argv + 1);
	return cmd_usage_error(&cmd_bench_entry, "unknown subcommand '%s'",
	    argv[1]);
}

const struct cmd_entry cmd_bench_entry = {
	.name = "bench",
	.usage = "SUBCOMMAND INPUT [OPTIONS]",
	.summary = "Measure how fast rtc's hot paths run on real input.",
	.help =
	    "  convert INPUT [--repeat N] [--json]\n"
	    "      decode each DICOM file of INPUT (file or directory) in\n"
	    "      process, N rounds, reusing buffers; also from memory, and\n"
	    "      with the NIfTI write; latency percentiles per volume\n"
	    "  live INPUT [--project P] [--volumes N] [--feedback URL]\n"
	    "      [--out DIR] [--json]\n"
	    "      every volume of INPUT (DICOM directory, 4D NIfTI, BIDS\n"
	    "      run) through the whole live path (decode, pipeline,\n"
	    "      feedback outputs), one after another as fast as it goes\n",
	.exec = bench_exec,
};

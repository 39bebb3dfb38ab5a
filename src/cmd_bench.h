/*
 * cmd_bench: the subcommands of `rtc bench`. Each lives in its own
 * src/cmd_bench*.c file and defines one const struct bench_sub; the table
 * in src/cmd_bench.c lists them (one line each).
 */
#ifndef RTC_CMD_BENCH_H
#define RTC_CMD_BENCH_H

#include "cmd.h"

struct bench_sub {
	const char *name;     /* "convert" */
	const char *usage;    /* arguments after "rtc bench NAME" */
	const char *summary;  /* one line */
	/* argv[0] is the subcommand; RET: the exit status */
	int (*exec)(struct rtc_ctx *ctx, int argc, char **argv);
};

extern const struct bench_sub bench_convert_sub;
extern const struct bench_sub bench_live_sub;

/* Latency summary of n samples (ns), sorted in place. */
struct bench_stats {
	double min_ms, p50_ms, p95_ms, p99_ms, max_ms, mean_ms;
	size_t n;
};
void bench_stats(int64_t *ns, size_t n, struct bench_stats *out);

#endif

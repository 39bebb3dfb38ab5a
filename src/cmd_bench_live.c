/*
 * cmd_bench_live: `rtc bench live INPUT [--project P] [--json]`.
 *
 * What is timed: every volume of INPUT through the whole live path, as
 * rtc live runs it: from its bytes being complete in memory (the release
 * of a replay, lib/replay) through decoding, the queue, the project's
 * pipeline and the feedback written to every output (per-TR JSON files
 * in a private temporary directory, and --feedback when given) to the
 * latency sample, one volume at a time (each released when the one
 * before is done, so no volume waits for another). The BIDS output
 * (--out) happens after that point, as in rtc live. The figures are
 * lib/latency's (nearest-rank percentiles), dummies left out.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_bench.h"
#include "cmd_rt.h"
#include "cmd_util.h"
#include "ctx.h"
#include "error.h"
#include "feedback.h"
#include "fsutil.h"
#include "live.h"
#include "replay.h"

static int
bench_live(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "volumes", required_argument, NULL, 'n' },
		{ "feedback", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_bench_entry;
	struct rt_common c;
	struct rtc_live_opts lo;
	struct rtc_live_summary s;
	struct rtc_project *p = NULL;
	struct rtc_replay *rp = NULL;
	struct rtc_live *lv = NULL;
	char tmpl[] = "/tmp/rtc-bench-live-XXXXXX", *tmp = NULL, *cause = NULL;
	int ch, r, st, ret = 1;
	json_t *j;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "p:n:o:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_show_help(e);
		default:
			if ((st = rt_common_option(e, &c, ch, optarg)) == 0)
				break;
			return st > 0 ? st : cmd_usage_error(e, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(e, "bench live takes one INPUT");
	if ((r = rtc_replay_open(ctx, argv[optind], NULL, &rp, &cause)) !=
	    RTC_OK)
		return cmd_fail(e, r, &cause);
	if ((st = rt_project(ctx, e, c.project, &p)) != 0) {
		rtc_replay_close(rp);
		return st;
	}
	if ((tmp = mkdtemp(tmpl)) == NULL) {
		fprintf(stderr, "rtc bench: cannot make a temporary directory\n");
		ret = 74;
		goto out;
	}
	c.files_dir = tmp;
	rt_live_opts(&c, p, &lo);
	lo.status_fp = NULL;
	lo.expected_volumes = rtc_replay_count(rp);
	if ((r = rtc_live_new(ctx, &lo, &lv, &cause)) != RTC_OK) {
		ret = cmd_fail(e, r, &cause);
		goto out;
	}
	r = rtc_replay_run(rp, lv, 0.0, NULL, &cause);
	if (r != RTC_OK && r != RTC_ERR_CANCELLED) {
		ret = cmd_fail(e, r, &cause);
		rtc_live_free(lv);
		goto out;
	}
	if ((r = rtc_live_wait(lv, &cause)) != RTC_OK) {
		ret = cmd_fail(e, r, &cause);
		rtc_live_free(lv);
		goto out;
	}
	rtc_live_get_summary(lv, &s);
	rtc_live_free(lv);
	if (c.json) {
		if ((j = rtc_live_summary_json(&s)) != NULL) {
			const char *wp = getenv("OMP_WAIT_POLICY");

			/* how OpenMP threads waited: part of the figure */
			json_object_set_new(j, "omp_wait_policy",
			    json_string(wp != NULL ? wp : "default"));
			json_dumpf(j, stdout, JSON_COMPACT |
			    JSON_REAL_PRECISION(6));
			fputc('\n', stdout);
			json_decref(j);
		}
	} else {
		printf("bench live: %s, project %s, %d thread%s (waits: %s)\n",
		    rtc_replay_describe(rp), p->title != NULL ? p->title :
		    "(untitled)", s.threads, s.threads == 1 ? "" : "s",
		    getenv("OMP_WAIT_POLICY") != NULL ?
		    getenv("OMP_WAIT_POLICY") : "default");
		printf("  latency  p50 %8.3f ms  p95 %8.3f ms  p99 %8.3f ms  "
		    "max %8.3f ms  (n=%lu)\n", s.lat.p50, s.lat.p95, s.lat.p99,
		    s.lat.max, s.lat.volumes);
		for (st = RTC_STAGE_DECODED; st < RTC_STAGE__COUNT; st++)
			if (isfinite(s.lat.stage_median[st]))
				printf("  %-10s median %8.3f ms\n",
				    rtc_stage_name(st), s.lat.stage_median[st]);
	}
	ret = s.lat.volumes > 0 ? 0 : 65;
	if (s.lat.volumes == 0)
		fprintf(stderr, "rtc bench: no volume was analysed\n");
out:
	if (tmp != NULL)
		rtc_fs_remove_tree(tmp, NULL);
	rtc_replay_close(rp);
	rtc_project_free(p);
	return ret;
}

const struct bench_sub bench_live_sub = {
	.name = "live",
	.usage = "INPUT [--project P] [--volumes N] [--feedback URL] "
	    "[--out DIR] [--json]",
	.summary = "every volume of INPUT through the whole live path",
	.exec = bench_live,
};

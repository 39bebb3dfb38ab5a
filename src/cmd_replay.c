/*
 * cmd_replay: `rtc replay SOURCE`, a recorded run streamed through the
 * live path as if it came from the scanner (lib/replay, lib/live).
 *
 * SOURCE resolves to a local run in one place, resolve_source(): local
 * paths as they are; an OpenNeuro accession (dsNNNNNN[:TAG]) through
 * lib/fetch, which downloads just the selected run and the metadata
 * that interprets it into a cache and returns the run's local NIfTI.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_rt.h"
#include "cmd_util.h"
#include "ctx.h"
#include "error.h"
#include "fetch.h"
#include "fsutil.h"
#include "live.h"
#include "openneuro.h"
#include "project.h"
#include "replay.h"

/*
 * SOURCE -> a local input for rtc_replay_open(). IN: cache, where remote
 * runs go (NULL: the default). OUT: *local (malloc'd). RET: RTC_OK, or a
 * usage or fetch error with *cause.
 */
static int
resolve_source(struct rtc_ctx *ctx, const char *source,
    const struct rtc_replay_select *sel, const char *cache, char **local,
    char **cause)
{
	struct rtc_fetch_run_opts fo;
	char *root = NULL;
	int r;

	if (rtc_openneuro_is_ref(source) && !rtc_fs_is_dir(source)) {
		if (sel->sub == NULL || sel->task == NULL) {
			rtc_cause_set(cause, "%s: say which run to fetch with "
			    "--sub L and --task L (and --ses, --run where the "
			    "dataset has several)", source);
			return RTC_ERR_INVAL;
		}
		memset(&fo, 0, sizeof(fo));
		fo.accession = source;
		fo.sub = sel->sub;
		fo.ses = sel->ses;
		fo.task = sel->task;
		fo.run = sel->run;
		fo.cache_dir = cache;
		fo.progress = !ctx->quiet;
		r = rtc_fetch_bids_run(ctx, &fo, local, &root, cause);
		free(root);
		/* several runs match: the selection is the user's to fix */
		return r == RTC_ERR_EXISTS ? RTC_ERR_INVAL : r;
	}
	if ((*local = strdup(source)) == NULL)
		return RTC_ERR_NOMEM;
	return RTC_OK;
}

static int
replay_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "sub", required_argument, NULL, 'U' },
		{ "ses", required_argument, NULL, 'E' },
		{ "task", required_argument, NULL, 'K' },
		{ "run", required_argument, NULL, 'R' },
		{ "tr", required_argument, NULL, 't' },
		{ "fast", no_argument, NULL, 'x' },
		{ "out", required_argument, NULL, 'o' },
		{ "feedback", required_argument, NULL, 'f' },
		{ "files", required_argument, NULL, 'F' },
		{ "volumes", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "cache", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_replay_entry;
	struct rtc_replay_select sel;
	struct rt_common c;
	struct rtc_live_opts lo;
	struct rtc_project *p = NULL;
	struct rtc_replay *rp = NULL;
	struct rtc_live *lv = NULL;
	char *cause = NULL, *local = NULL;
	const char *cache = NULL;
	double pace = -1;
	long v;
	int ch, fast = 0, r, st, status, n = 0;

	memset(&c, 0, sizeof(c));
	memset(&sel, 0, sizeof(sel));
	while ((ch = getopt_long(argc, argv, "p:o:n:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'U':
			sel.sub = optarg;
			break;
		case 'E':
			sel.ses = optarg;
			break;
		case 'K':
			sel.task = optarg;
			break;
		case 'R':
			if (cmd_parse_long(optarg, 0, 1000000, &v) != 0)
				return cmd_usage_error(e, "--run: a number");
			sel.run = optarg;
			break;
		case 't':
			if (cmd_parse_double(optarg, 0.001, 600.0, &pace) != 0)
				return cmd_usage_error(e, "--tr: seconds, "
				    "0.001..600");
			break;
		case 'x':
			fast = 1;
			break;
		case 'C':
			cache = optarg;
			break;
		case 'h':
			return cmd_show_help(e);
		default:
			if ((st = rt_common_option(e, &c, ch, optarg)) == 0)
				break;
			return st > 0 ? st : cmd_usage_error(e, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(e, "replay takes one SOURCE");
	if (fast && pace > 0)
		return cmd_usage_error(e, "give --tr or --fast, not both");
	if ((r = resolve_source(ctx, argv[optind], &sel, cache, &local,
	    &cause)) != RTC_OK)
		return cmd_fail(e, r, &cause);
	r = rtc_replay_open(ctx, local, &sel, &rp, &cause);
	free(local);
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	if (fast)
		pace = 0;
	else if (pace < 0)
		pace = rtc_replay_tr(rp);
	if (!fast && !(pace > 0)) {
		rtc_replay_close(rp);
		return cmd_usage_error(e, "%s does not say its TR: give --tr S "
		    "or --fast", argv[optind]);
	}
	if ((status = rt_project(ctx, e, c.project, &p)) != 0) {
		rtc_replay_close(rp);
		return status;
	}
	rt_live_opts(&c, p, &lo);
	lo.expected_volumes = rtc_replay_count(rp);
	lo.arrival_s = pace;
	if ((r = rtc_live_new(ctx, &lo, &lv, &cause)) != RTC_OK) {
		rtc_replay_close(rp);
		rtc_project_free(p);
		return cmd_fail(e, r, &cause);
	}
	if (!ctx->quiet)
		fprintf(stderr, "rtc replay: %s, %s\n", rtc_replay_describe(rp),
		    fast ? "as fast as the pipeline goes" : "paced");
	r = rtc_replay_run(rp, lv, pace, &n, &cause);
	rtc_replay_close(rp);
	if (r != RTC_OK && r != RTC_ERR_CANCELLED) {
		fprintf(stderr, "rtc replay: %s\n", cause != NULL ? cause :
		    rtc_strerror(r));
		free(cause);
		(void)rt_finish(ctx, e, lv, c.json);
		rtc_project_free(p);
		return rtc_err_exit_code(r);
	}
	status = rt_finish(ctx, e, lv, c.json);
	rtc_project_free(p);
	return status;
}

const struct cmd_entry cmd_replay_entry = {
	.name = "replay",
	.usage = "SOURCE [--sub L] [--ses L] [--task L] [--run N] [--tr S | "
	    "--fast] [--project P] [--out DIR] [--feedback tcp://HOST:PORT] "
	    "[--files DIR] [--volumes N] [--json] [--cache DIR]",
	.summary = "Stream a recorded run through the live path as if from "
	    "the scanner.",
	.help =
	    "  SOURCE               a 4D NIfTI, a DICOM directory, a BIDS "
	    "dataset or run,\n"
	    "                       or an OpenNeuro dataset dsNNNNNN[:TAG] "
	    "(the run is fetched)\n"
	    "      --sub, --ses, --task L, --run N\n"
	    "                       which run of a BIDS dataset\n"
	    "      --tr S           one volume every S seconds (default: the "
	    "data's TR)\n"
	    "      --fast           each volume as soon as the one before is "
	    "done\n"
	    "  -p, --project P      project name or path (default sample)\n"
	    "  -o, --out DIR        write the run as BIDS into DIR\n"
	    "      --feedback URL   one JSON line per volume to "
	    "tcp://HOST:PORT\n"
	    "      --files DIR      one DIR/run{R}_TR{T}.json per volume\n"
	    "  -n, --volumes N      stop after N volumes\n"
	    "  -j, --json           print the summary as JSON\n"
	    "      --cache DIR      where OpenNeuro runs are fetched to (default "
	    "rtc.conf\n"
	    "                       openneuro.cache, else ~/.cache/rtc/openneuro)\n",
	.exec = replay_exec,
};

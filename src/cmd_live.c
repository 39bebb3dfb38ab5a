/*
 * cmd_live: `rtc live`, the realtime session during a scan: volumes from
 * a watched folder or the DICOM network through the project's pipeline
 * to the feedback outputs (lib/live does the work).
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
#include "live.h"
#include "project.h"
#include "scp.h"

#define MAX_ALLOW 32

static void
scp_ready(void *arg, int port)
{
	const struct rtc_ctx *ctx = arg;

	if (!ctx->quiet)
		fprintf(stderr, "rtc live: receiving DICOM on port %d\n", port);
}

static int
live_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "scp", required_argument, NULL, 'S' },
		{ "bind", required_argument, NULL, 'b' },
		{ "aet", required_argument, NULL, 'a' },
		{ "allow-aet", required_argument, NULL, 'A' },
		{ "out", required_argument, NULL, 'o' },
		{ "feedback", required_argument, NULL, 'f' },
		{ "files", required_argument, NULL, 'F' },
		{ "tr", required_argument, NULL, 't' },
		{ "volumes", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_live_entry;
	const char *allow[MAX_ALLOW + 1], *watch = NULL;
	struct rt_common c;
	struct rtc_live_scp_opts so;
	struct rtc_live_opts lo;
	struct rtc_project *p = NULL;
	struct rtc_live *lv = NULL;
	char *cause = NULL;
	double tr = 0;
	long port = -1;
	int ch, nallow = 0, r, st, status;

	memset(&c, 0, sizeof(c));
	memset(&so, 0, sizeof(so));
	while ((ch = getopt_long(argc, argv, "p:w:o:n:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			watch = optarg;
			break;
		case 'S':
			if (cmd_parse_long(optarg, 0, 65535, &port) != 0)
				return cmd_usage_error(e, "--scp: a port, 0..65535 "
				    "(0: any free one)");
			break;
		case 'b':
			so.bind_addr = optarg;
			break;
		case 'a':
			if (!rtc_scp_valid_aet(optarg))
				return cmd_usage_error(e, "--aet: 1-16 printable "
				    "characters");
			so.aet = optarg;
			break;
		case 'A':
			if (nallow >= MAX_ALLOW || !rtc_scp_valid_aet(optarg))
				return cmd_usage_error(e, "--allow-aet: up to %d "
				    "AE titles of 1-16 characters", MAX_ALLOW);
			allow[nallow++] = optarg;
			break;
		case 't':
			if (cmd_parse_double(optarg, 0.05, 60.0, &tr) != 0)
				return cmd_usage_error(e, "--tr: seconds, 0.05..60");
			break;
		case 'h':
			return cmd_show_help(e);
		default:
			if ((st = rt_common_option(e, &c, ch, optarg)) == 0)
				break;
			return st > 0 ? st : cmd_usage_error(e, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(e, "unexpected argument '%s'",
		    argv[optind]);
	if ((watch == NULL) == (port < 0))
		return cmd_usage_error(e, "give one of --watch DIR and --scp PORT");
	if (port < 0 && (so.bind_addr != NULL || so.aet != NULL || nallow > 0))
		return cmd_usage_error(e, "--bind, --aet and --allow-aet go with "
		    "--scp");
	allow[nallow] = NULL;
	if (nallow > 0)
		so.allow = allow;
	so.port = (int)port;
	if ((status = rt_project(ctx, e, c.project, &p)) != 0)
		return status;
	rt_live_opts(&c, p, &lo);
	lo.tr = tr;
	if ((r = rtc_live_new(ctx, &lo, &lv, &cause)) != RTC_OK) {
		rtc_project_free(p);
		return cmd_fail(e, r, &cause);
	}
	if (watch != NULL)
		r = rtc_live_run_watch(lv, watch, &cause);
	else
		r = rtc_live_run_scp(lv, &so, scp_ready, ctx, &cause);
	if (r != RTC_OK) {
		status = cmd_fail(e, r, &cause);
		rtc_live_finish(lv);
		(void)rt_finish(ctx, e, lv, 0);
		rtc_project_free(p);
		return status;
	}
	status = rt_finish(ctx, e, lv, c.json);
	rtc_project_free(p);
	return status;
}

const struct cmd_entry cmd_live_entry = {
	.name = "live",
	.usage = "[--project P] (--watch DIR | --scp PORT [--bind ADDR] "
	    "[--aet AET] [--allow-aet AET]...) [--out DIR] [--feedback "
	    "tcp://HOST:PORT] [--files DIR] [--tr S] [--volumes N] [--json]",
	.summary = "Run a realtime project on the volumes of a scan as they "
	    "arrive.",
	.help =
	    "  -p, --project P      project name or path (default sample)\n"
	    "  -w, --watch DIR      take the DICOM files a scanner writes "
	    "into DIR\n"
	    "      --scp PORT       receive DICOM C-STOREs on PORT (0: any "
	    "free port)\n"
	    "      --bind ADDR      listen on this address only\n"
	    "      --aet AET        our AE title (default: the project's, RTC)"
	    "\n"
	    "      --allow-aet AET  accept only these calling AE titles "
	    "(repeat)\n"
	    "  -o, --out DIR        write each run as BIDS into DIR\n"
	    "      --feedback URL   one JSON line per volume to "
	    "tcp://HOST:PORT\n"
	    "      --files DIR      one DIR/run{R}_TR{T}.json per volume\n"
	    "      --tr S           the TR, when the data do not say it\n"
	    "  -n, --volumes N      stop after N volumes\n"
	    "  -j, --json           print the summary as JSON\n"
	    "  Runs until interrupted (Ctrl-C finishes the outputs).\n",
	.exec = live_exec,
};

/*
 * rtc status: the runs rtcd knows, or one run's jobs; --json prints the
 * daemon's answer as it is (its schema is in rtc(1), STATUS JSON).
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd_batch.h"
#include "cmd_util.h"

static int status_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[RUN] [--json]",
	.summary = "Show the batch runs, or one run's jobs, one line per participant.",
	.help =
	    "  --json    print the runs with every job's state and attempts as JSON\n",
	.exec = status_exec,
};

static int
status_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_status_entry;
	json_t *args, *res = NULL, *runs, *run;
	int c, as_json = 0, rc;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = 1;
			break;
		case 'h':
			return cmd_show_help(e);
		default:
			return cmd_usage_error(e, "unknown option");
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(e, "one RUN at most");
	args = json_object();
	if (args == NULL)
		return 70;
	if (optind < argc)
		json_object_set_new(args, "run", json_string(argv[optind]));
	else if (!as_json)
		json_object_set_new(args, "jobs", json_false());
	rc = batch_call(ctx, e, "status", args, &res);
	json_decref(args);
	if (rc != 0)
		return rc;
	if (as_json) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		runs = json_object_get(res, "runs");
		if (optind < argc) {
			batch_print_jobs(stdout, json_array_get(runs, 0));
		} else if (json_array_size(runs) == 0) {
			printf("no runs yet: start one with rtc submit\n");
		} else {
			printf("%-6s %-9s %5s %5s %6s %7s %6s %9s  %-6s %-16s %s\n",
			    "RUN", "STATE", "JOBS", "DONE", "FAILED", "RUNNING",
			    "QUEUED", "CANCELLED", "WHERE", "CREATED (UTC)", "APP");
			json_array_foreach(runs, i, run)
				batch_print_run_line(stdout, run);
		}
	}
	json_decref(res);
	return 0;
}

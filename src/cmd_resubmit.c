/*
 * rtc resubmit: queue a run's unsuccessful jobs again, each with a fresh
 * budget of attempts.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd_batch.h"
#include "cmd_util.h"

static int resubmit_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_resubmit_entry = {
	.name = "resubmit",
	.usage = "RUN [--failed]",
	.summary = "Submit a run's failed and cancelled jobs again.",
	.help =
	    "  --failed  only the failed jobs, not the cancelled ones\n",
	.exec = resubmit_exec,
};

static int
resubmit_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_resubmit_entry;
	json_t *args, *res = NULL, *note;
	int c, rc, failed = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			failed = 1;
			break;
		case 'h':
			return cmd_show_help(e);
		default:
			return cmd_usage_error(e, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, "which RUN? (rtc status lists them)");
	args = json_pack("{s:s,s:b}", "run", argv[optind], "failed_only", failed);
	if (args == NULL)
		return 70;
	rc = batch_call(ctx, e, "resubmit", args, &res);
	json_decref(args);
	if (rc != 0)
		return rc;
	printf("run %s: %lld job%s queued again\n", argv[optind],
	    (long long)json_integer_value(json_object_get(res, "requeued")),
	    json_integer_value(json_object_get(res, "requeued")) == 1 ? "" : "s");
	if ((note = json_object_get(res, "note")) != NULL)
		printf("  note: %s\n", json_string_value(note));
	json_decref(res);
	return 0;
}

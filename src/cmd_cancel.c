/*
 * rtc cancel: cancel every unfinished job of a run. It returns once the
 * scheduler has been told (scancel has run), so the queue empties.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>

#include "cmd_batch.h"
#include "cmd_util.h"

static int cancel_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_cancel_entry = {
	.name = "cancel",
	.usage = "RUN",
	.summary = "Cancel every unfinished job of a run.",
	.help = NULL,
	.exec = cancel_exec,
};

static int
cancel_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_cancel_entry;
	json_t *args, *res = NULL, *note;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return cmd_show_help(e);
		return cmd_usage_error(e, "unknown option");
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, "which RUN? (rtc status lists them)");
	args = json_pack("{s:s}", "run", argv[optind]);
	if (args == NULL)
		return 70;
	rc = batch_call(ctx, e, "cancel", args, &res);
	json_decref(args);
	if (rc != 0)
		return rc;
	printf("run %s: %lld job%s cancelled\n", argv[optind],
	    (long long)json_integer_value(json_object_get(res, "cancelled")),
	    json_integer_value(json_object_get(res, "cancelled")) == 1 ? "" : "s");
	if ((note = json_object_get(res, "note")) != NULL)
		printf("  note: %s\n", json_string_value(note));
	printf("run them again with 'rtc resubmit %s'\n", argv[optind]);
	json_decref(res);
	return 0;
}

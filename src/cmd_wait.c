/*
 * rtc wait: block until every job of a run has ended. The daemon answers
 * when the run finishes; if it goes away meanwhile (a crash, a restart),
 * rtc connects again (starting it) and keeps waiting.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "cmd_batch.h"
#include "cmd_util.h"
#include "error.h"

int batch_wait_run(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *run, int as_json);

static int wait_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.usage = "RUN [--json]",
	.summary = "Wait until every job of a run has ended; exit 0 when all succeeded.",
	.help =
	    "  --json    print the finished run as JSON (as rtc status --json)\n"
	    "exit status: 0 every participant succeeded, 1 some failed or were\n"
	    "cancelled, 66 no such run\n",
	.exec = wait_exec,
};

int
batch_wait_run(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *run, int as_json)
{
	json_t *args, *res = NULL, *st;
	char *cause = NULL;
	int fd, rc, r, tries = 0;
	const char *state;

	args = json_pack("{s:s}", "run", run);
	if (args == NULL)
		return 70;
	for (;;) {
		if ((rc = batch_connect(ctx, e, &fd)) != 0) {
			json_decref(args);
			return rc;
		}
		r = rtc_client_call(fd, "wait", args, 0, &res, &cause);
		close(fd);
		if (r != RTC_ERR_UNAVAILABLE || rtc_ctx_stopping(ctx) ||
		    ++tries > 100)
			break;
		/* the daemon went away: it is started again on connect */
		free(cause);
		cause = NULL;
		rtc_clock_sleep_ns(200000000, ctx->stop);
	}
	json_decref(args);
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	st = json_object_get(res, "status");
	state = json_string_value(json_object_get(st, "state"));
	if (as_json) {
		json_t *out = json_pack("{s:i,s:[O]}", "version", 1, "runs", st);

		json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(out);
	} else {
		batch_print_outcome(stdout, st);
	}
	rc = state != NULL && strcmp(state, "done") == 0 ? 0 : 1;
	json_decref(res);
	return rc;
}

static int
wait_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_wait_entry;
	int c, as_json = 0;

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
	if (argc - optind != 1)
		return cmd_usage_error(e, "which RUN? (rtc status lists them)");
	return batch_wait_run(ctx, e, argv[optind], as_json);
}

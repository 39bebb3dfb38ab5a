/*
 * cmd_batch: see cmd_batch.h. rtcd is looked for next to this rtc (the
 * build tree and an installation keep them side by side), then in PATH.
 */
#include "rtc_build.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "cmd_batch.h"
#include "cmd_util.h"
#include "error.h"

static void
rtcd_path(char *out, size_t outsz)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(out, outsz, "%.*s/rtcd",
			    (int)(outsz > 6 ? outsz - 6 : 0), exe) < outsz &&
			    access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, outsz, "rtcd");
}

int
batch_connect(struct rtc_ctx *ctx, const struct cmd_entry *e, int *fd)
{
	char rtcd[PATH_MAX], *state = NULL, *cause = NULL;
	int r;

	r = rtc_client_state_dir(&state, &cause);
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	rtcd_path(rtcd, sizeof(rtcd));
	r = rtc_client_connect(ctx, state, rtcd, fd, &cause);
	free(state);
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	return 0;
}

int
batch_call(struct rtc_ctx *ctx, const struct cmd_entry *e, const char *op,
    json_t *args, json_t **result)
{
	return batch_call_retry(ctx, e, op, args, result, 0);
}

int
batch_call_retry(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *op, json_t *args, json_t **result, int tries)
{
	char *cause = NULL;
	int fd, rc, r;

	for (;;) {
		if ((rc = batch_connect(ctx, e, &fd)) != 0)
			return rc;
		r = rtc_client_call(fd, op, args, 0, result, &cause);
		close(fd);
		if (r != RTC_ERR_UNAVAILABLE || tries-- <= 0 ||
		    rtc_ctx_stopping(ctx))
			break;
		/* the daemon went away: connecting starts a new one */
		free(cause);
		cause = NULL;
		rtc_clock_sleep_ns(200000000, ctx->stop);
	}
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	return 0;
}

static long long
count(json_t *run, const char *state)
{
	return json_integer_value(json_object_get(json_object_get(run, "counts"),
	    state));
}

void
batch_print_run_line(FILE *fp, json_t *run)
{
	const char *created = json_string_value(json_object_get(run, "created"));
	char when[20] = "";

	if (created != NULL)
		snprintf(when, sizeof(when), "%.16s", created);
	fprintf(fp, "%-6s %-9s %5lld %5lld %6lld %7lld %6lld %9lld  %-6s %-16s %s\n",
	    json_string_value(json_object_get(run, "id")),
	    json_string_value(json_object_get(run, "state")),
	    (long long)json_integer_value(json_object_get(run, "njobs")),
	    count(run, "done"), count(run, "failed"),
	    count(run, "running") + count(run, "submitted") +
	    count(run, "collecting"),
	    count(run, "queued"), count(run, "cancelled"),
	    json_string_value(json_object_get(run, "backend")), when,
	    json_string_value(json_object_get(run, "app")));
}

void
batch_print_jobs(FILE *fp, json_t *run)
{
	json_t *jobs = json_object_get(run, "jobs"), *j, *skipped;
	size_t i;

	fprintf(fp, "run %s: %s; %lld jobs: %lld done, %lld failed, %lld "
	    "running, %lld queued, %lld cancelled\n",
	    json_string_value(json_object_get(run, "id")),
	    json_string_value(json_object_get(run, "state")),
	    (long long)json_integer_value(json_object_get(run, "njobs")),
	    count(run, "done"), count(run, "failed"),
	    count(run, "running") + count(run, "submitted") +
	    count(run, "collecting"), count(run, "queued"),
	    count(run, "cancelled"));
	fprintf(fp, "  %s with %s (%s) on %s\n  output %s\n",
	    json_string_value(json_object_get(run, "dataset")),
	    json_string_value(json_object_get(run, "app")),
	    json_string_value(json_object_get(run, "runtime")),
	    json_string_value(json_object_get(run, "backend")),
	    json_string_value(json_object_get(run, "output")));
	fprintf(fp, "%-22s %-10s %8s %4s  %-13s %-12s %s\n", "JOB", "STATE",
	    "ATTEMPTS", "EXIT", "SCHEDULER", "ID", "REASON");
	json_array_foreach(jobs, i, j) {
		json_t *ec = json_object_get(j, "exit_code");
		char exit[16] = "-", att[24];
		const char *sched = json_string_value(json_object_get(j,
		    "scheduler_state"));
		const char *id = json_string_value(json_object_get(j, "backend_id"));

		if (json_is_integer(ec))
			snprintf(exit, sizeof(exit), "%lld",
			    (long long)json_integer_value(ec));
		snprintf(att, sizeof(att), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(j, "attempts")),
		    (long long)json_integer_value(json_object_get(j,
		    "attempt_limit")));
		fprintf(fp, "%-22s %-10s %8s %4s  %-13s %-12s %s\n",
		    json_string_value(json_object_get(j, "job")),
		    json_string_value(json_object_get(j, "state")), att, exit,
		    sched ? sched : "-", id ? id : "-",
		    json_string_value(json_object_get(j, "reason")));
	}
	skipped = json_object_get(run, "skipped");
	json_array_foreach(skipped, i, j) {
		const char *ses = json_string_value(json_object_get(j, "session"));
		char key[160];

		snprintf(key, sizeof(key), "sub-%s%s%s",
		    json_string_value(json_object_get(j, "participant")),
		    ses ? "_ses-" : "", ses ? ses : "");
		fprintf(fp, "%-22s %-10s %8s %4s  %-13s %-12s %s\n", key, "skipped",
		    "0/0", "-", "-", "-",
		    json_string_value(json_object_get(j, "reason")));
	}
}

void
batch_print_outcome(FILE *fp, json_t *run)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	json_t *jobs = json_object_get(run, "jobs"), *j;
	long long failed = count(run, "failed"), cancelled = count(run,
	    "cancelled");
	size_t i;

	fprintf(fp, "run %s %s: %lld of %lld done, %lld failed, %lld cancelled\n",
	    id, json_string_value(json_object_get(run, "state")),
	    count(run, "done"),
	    (long long)json_integer_value(json_object_get(run, "njobs")),
	    failed, cancelled);
	json_array_foreach(jobs, i, j) {
		const char *st = json_string_value(json_object_get(j, "state"));

		if (st == NULL || strcmp(st, "done") == 0)
			continue;
		fprintf(fp, "  %-22s %-10s %s\n",
		    json_string_value(json_object_get(j, "job")), st,
		    json_string_value(json_object_get(j, "reason")));
	}
	if (failed > 0)
		fprintf(fp, "see the logs with 'rtc logs %s --sub LABEL'; run the "
		    "failed ones again with 'rtc resubmit %s --failed'\n", id, id);
	else if (cancelled > 0)
		fprintf(fp, "run the cancelled ones again with 'rtc resubmit %s'\n",
		    id);
}

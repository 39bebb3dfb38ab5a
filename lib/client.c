/*
 * client: connect, or start rtcd and connect. rtcd forks into the
 * background and its first process exits only once the socket listens
 * (or with the reason it cannot), so "it exited 0" means "connect now".
 * Two clients starting rtcd at once is fine: one daemon takes the lock,
 * the other exits 75 and its client simply connects to the winner.
 */
#include "rtc_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "error.h"
#include "process.h"
#include "proto.h"

int
rtc_client_state_dir(char **dir, char **cause)
{
	const char *env = getenv("RTC_STATE_DIR");
	char buf[4096];
	char *d;

	if (env != NULL && *env != '\0') {
		if (*env != '/') {
			rtc_cause_set(cause, "RTC_STATE_DIR must be an absolute path");
			return RTC_ERR_INVAL;
		}
		snprintf(buf, sizeof(buf), "%s", env);
	} else if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/') {
		snprintf(buf, sizeof(buf), "%s/rtc", env);
	} else if ((env = getenv("HOME")) != NULL && *env == '/') {
		snprintf(buf, sizeof(buf), "%s/.local/state/rtc", env);
	} else {
		rtc_cause_set(cause, "no state directory: set RTC_STATE_DIR (or "
		    "HOME) to an absolute path");
		return RTC_ERR_INVAL;
	}
	if ((d = strdup(buf)) == NULL)
		return RTC_ERR_NOMEM;
	*dir = d;
	return RTC_OK;
}

static int
sock_path(const char *state_dir, char *out, size_t outsz)
{
	if ((size_t)snprintf(out, outsz, "%s/%s", state_dir, RTC_SOCKET_NAME) >=
	    outsz)
		return RTC_ERR_TOO_BIG;
	return RTC_OK;
}

static int
start_daemon(struct rtc_ctx *ctx, const char *state_dir, const char *rtcd,
    char **cause)
{
	const char *argv[] = { rtcd, "--state-dir", state_dir, NULL };
	struct rtc_buf err;
	int status = 0, r, code;

	rtc_debug(ctx, BATCH, "starting %s --state-dir %s", rtcd, state_dir);
	rtc_buf_init(&err, 64 * 1024);
	r = rtc_process_run(argv, NULL, NULL, NULL, &err, 120000, &status,
	    cause);
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "cannot start rtcd");
		rtc_buf_free(&err);
		return RTC_ERR_UNAVAILABLE;
	}
	code = rtc_process_exit_status(status);
	if (code != 0 && code != 75) {
		/* its own words, without the trailing newline */
		while (err.len > 0 && err.data[err.len - 1] == '\n')
			err.data[--err.len] = '\0';
		rtc_cause_set(cause, "rtcd could not start (exit %d)%s%s", code,
		    err.len ? ": " : "", err.len ? err.data : "");
		rtc_buf_free(&err);
		return RTC_ERR_UNAVAILABLE;
	}
	rtc_buf_free(&err);
	return RTC_OK;
}

int
rtc_client_connect(struct rtc_ctx *ctx, const char *state_dir,
    const char *rtcd, int *fd, char **cause)
{
	char path[4096];
	int64_t deadline;
	int r, started = 0;

	if (sock_path(state_dir, path, sizeof(path)) != RTC_OK) {
		rtc_cause_set(cause, "state directory path too long");
		return RTC_ERR_INVAL;
	}
	r = rtc_proto_connect(path, fd, cause);
	if (r != RTC_ERR_UNAVAILABLE || rtcd == NULL)
		goto out;
	r = start_daemon(ctx, state_dir, rtcd, cause);
	if (r != RTC_OK)
		return r;
	started = 1;
	/* the daemon listens when it returns; a lost race needs a moment */
	deadline = rtc_clock_mono_ns() + 30LL * 1000000000LL;
	for (;;) {
		r = rtc_proto_connect(path, fd, cause);
		if (r != RTC_ERR_UNAVAILABLE || rtc_clock_mono_ns() > deadline)
			break;
		rtc_clock_sleep_ns(50000000, ctx ? ctx->stop : NULL);
		if (rtc_ctx_stopping(ctx))
			return RTC_ERR_CANCELLED;
	}
out:
	if (r == RTC_OK && cause != NULL) {
		/* the failed first tries leave words nobody needs */
		free(*cause);
		*cause = NULL;
	}
	if (r == RTC_ERR_UNAVAILABLE)
		rtc_cause_set(cause, "no rtcd answers at %s%s", path, started ?
		    " although it was started: see rtcd.log in that directory" :
		    ": start one with 'rtcd --state-dir DIR'");
	return r;
}

int
rtc_client_call(int fd, const char *op, json_t *args, int timeout_ms,
    json_t **result, char **cause)
{
	return rtc_proto_call(fd, op, args, timeout_ms, result, cause);
}

/*
 * analysis_ext: design notes (the contract is in analysis_ext.h, the
 * protocol in rtc-project(5)).
 *
 * The process's stdin and stdout are one end of a socketpair, not pipes:
 * send(MSG_NOSIGNAL) to a process that died returns EPIPE instead of
 * raising SIGPIPE, so the library never has to touch signal dispositions.
 * Our end is non-blocking; requests go through an output buffer, so a
 * process that stops reading makes us skip volumes, never wait.
 *
 * Input is collected in a bounded buffer and split into lines; a line
 * longer than RTC_ANALYSIS_LINE_MAX means the process does not speak the
 * protocol: it is killed and started again for the next volume.
 *
 * The process runs in its own process group, so a kill also reaches what
 * it started (a MATLAB engine, a shell pipeline).
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis_ext.h"
#include "buf.h"
#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "process.h"
#include "volume.h"

#define RTC_ANALYSIS_LINE_MAX (64 * 1024)

struct rtc_analysis_ext {
	struct rtc_ctx *ctx;
	struct rtc_analysis_ext_opts o;
	char **argv;
	char *cwd;
	char *hello;             /* the hello line, newline included */
	char *dir;               /* private directory for volumes */
	pid_t pid;
	int fd;                  /* our end of the socketpair, -1 when dead */
	int restarts;
	struct rtc_buf in;       /* bytes read, not yet a whole line */
	struct rtc_buf out;      /* bytes not yet sent */
	long long seq;           /* last seq sent */
	long long awaiting;      /* seq whose reply is awaited; 0: none */
	char pending[PATH_MAX];  /* that volume's file, "" none */
	char path[PATH_MAX];
	int warned_bad;
	struct rtc_analysis_ext_stats st;
};

void
rtc_analysis_ext_opts_init(struct rtc_analysis_ext_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->shm_dir = "/dev/shm";
	o->timeout_ms = 500;
	o->startup_timeout_ms = 5000;
	o->max_restarts = 3;
}

/* ---- the process ------------------------------------------------------ */

static void
forget_pending(struct rtc_analysis_ext *a)
{
	if (a->pending[0] != '\0')
		(void)unlink(a->pending);
	a->pending[0] = '\0';
	a->awaiting = 0;
}

/* Make sure the process is gone and reaped. */
static void
reap(struct rtc_analysis_ext *a, int grace_ms)
{
	int st = 0, i;

	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	if (a->pid <= 0)
		return;
	for (i = 0; i <= grace_ms / 10; i++) {
		pid_t r = waitpid(a->pid, &st, WNOHANG);

		if (r == a->pid || (r < 0 && errno == ECHILD)) {
			if (r == a->pid && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
				rtc_log(a->ctx, WARN, "analysis %s ended with "
				    "status %d", a->argv[0],
				    rtc_process_exit_status(st));
			a->pid = -1;
			return;
		}
		if (i < grace_ms / 10) {
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	kill(-a->pid, SIGKILL);
	kill(a->pid, SIGKILL);
	while (waitpid(a->pid, &st, 0) < 0 && errno == EINTR)
		;
	a->pid = -1;
}

static void
dead(struct rtc_analysis_ext *a, const char *why)
{
	rtc_log(a->ctx, WARN, "analysis %s: %s", a->argv[0], why);
	reap(a, 200);
	forget_pending(a);
	rtc_buf_reset(&a->in);
	rtc_buf_reset(&a->out);
}

/* Send what can go now. RET: 0, or -1 when the process is gone. */
static int
flush_out(struct rtc_analysis_ext *a)
{
	while (a->fd >= 0 && a->out.len > 0) {
		ssize_t n = send(a->fd, a->out.data, a->out.len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			rtc_buf_consume(&a->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return a->fd >= 0 ? 0 : -1;
}

/* Read what is there. RET: 1 data or nothing new, 0 EOF, -1 error or a
 * line over the cap. */
static int
fill_in(struct rtc_analysis_ext *a)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = recv(a->fd, chunk, sizeof(chunk), MSG_DONTWAIT);

		if (n > 0) {
			if (rtc_buf_append(&a->in, chunk, (size_t)n) != RTC_OK)
				return -1;
			if (a->in.len > RTC_ANALYSIS_LINE_MAX &&
			    memchr(a->in.data, '\n', a->in.len) == NULL)
				return -1;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		return -1;
	}
}

/* Take one whole line out of the input. RET: a JSON object (new
 * reference), NULL when no whole line is left; *more says whether a line
 * was consumed (a bad one yields NULL with *more = 1). */
static json_t *
next_line(struct rtc_analysis_ext *a, int *more)
{
	char *nl;
	size_t n;
	json_t *j;

	*more = 0;
	if (a->in.len == 0)
		return NULL;
	nl = memchr(a->in.data, '\n', a->in.len);
	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - a->in.data);
	*more = 1;
	j = json_loadb(a->in.data, n, JSON_REJECT_DUPLICATES, NULL);
	rtc_buf_consume(&a->in, n + 1);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	if (j == NULL && n > 0) {
		a->st.bad_lines++;
		if (!a->warned_bad)
			rtc_log(a->ctx, WARN, "analysis %s wrote a line that is "
			    "not a JSON object; its stdout is for replies only "
			    "(log to stderr)", a->argv[0]);
		a->warned_bad = 1;
	}
	return j;
}

static int
spawn(struct rtc_analysis_ext *a, char **cause)
{
	struct rtc_process_opts po;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rtc_cause_set(cause, "socketpair: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	rtc_process_opts_init(&po);
	po.env = a->o.env;
	po.cwd = a->cwd;
	po.stdin_fd = sv[1];
	po.stdout_fd = sv[1];
	po.new_pgrp = 1;
	r = rtc_process_spawn((const char *const *)a->argv, &po, &a->pid, cause);
	close(sv[1]);
	if (r != RTC_OK) {
		close(sv[0]);
		return r;
	}
	a->fd = sv[0];
	(void)fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
	rtc_buf_reset(&a->in);
	rtc_buf_reset(&a->out);
	a->awaiting = 0;
	return RTC_OK;
}

/* Wait for POLLIN (and POLLOUT while output is pending) until deadline.
 * RET: 1 ready, 0 deadline passed. */
static int
wait_io(struct rtc_analysis_ext *a, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		int64_t left = deadline - rtc_clock_mono_ns();
		int r;

		if (left <= 0)
			return 0;
		if (a->out.len > 0)
			p.events |= POLLOUT;
		r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 0 : 1;
		return 1;
	}
}

/* Start and shake hands. */
static int
start_process(struct rtc_analysis_ext *a, char **cause)
{
	int64_t deadline;
	int r;

	r = spawn(a, cause);
	if (r != RTC_OK)
		return r;
	if (rtc_buf_append_str(&a->out, a->hello) != RTC_OK)
		return RTC_ERR_NOMEM;
	deadline = rtc_clock_mono_ns() +
	    (int64_t)a->o.startup_timeout_ms * 1000000;
	for (;;) {
		json_t *j;
		int more, got;

		if (flush_out(a) < 0) {
			rtc_cause_set(cause, "analysis %s closed its input",
			    a->argv[0]);
			reap(a, 200);
			return RTC_ERR_PROTO;
		}
		got = fill_in(a);
		while ((j = next_line(a, &more)) != NULL || more) {
			const char *type;

			if (j == NULL)
				continue;
			type = json_string_value(json_object_get(j, "type"));
			if (type != NULL && strcmp(type, "ready") == 0) {
				json_decref(j);
				return RTC_OK;
			}
			json_decref(j);
			rtc_cause_set(cause, "analysis %s: expected "
			    "{\"type\":\"ready\"} first", a->argv[0]);
			reap(a, 200);
			return RTC_ERR_PROTO;
		}
		if (got <= 0) {
			rtc_cause_set(cause, "analysis %s exited before it was "
			    "ready", a->argv[0]);
			reap(a, 1000);
			return RTC_ERR_PROTO;
		}
		if (!wait_io(a, deadline)) {
			rtc_cause_set(cause, "analysis %s: not ready after %d ms",
			    a->argv[0], a->o.startup_timeout_ms);
			reap(a, 0);
			return RTC_ERR_TIMEOUT;
		}
	}
}

/* ---- replies ---------------------------------------------------------- */

/* Handle the reply to the awaited volume. RET: RTC_OK or RTC_ERR_PROTO. */
static int
take_reply(struct rtc_analysis_ext *a, json_t *j, struct rtc_fb_record *r,
    char **cause)
{
	json_t *vals = json_object_get(j, "values"), *v;
	const char *err = json_string_value(json_object_get(j, "error"));
	const char *k;
	char msg[201];
	size_t i;

	if (err != NULL) {
		snprintf(msg, sizeof(msg), "%s", err);
		for (i = 0; msg[i] != '\0'; i++)
			if ((unsigned char)msg[i] < 0x20 ||
			    (unsigned char)msg[i] > 0x7e)
				msg[i] = '?';
		rtc_cause_set(cause, "analysis %s: run %d volume %d: %s",
		    a->argv[0], r->run, r->vol, msg);
		goto bad;
	}
	if (vals == NULL)
		return RTC_OK;
	if (!json_is_object(vals) || json_object_size(vals) > RTC_FB_MAX_VALUES) {
		rtc_cause_set(cause, "analysis %s: \"values\" must be an object "
		    "of at most %d numbers", a->argv[0], RTC_FB_MAX_VALUES);
		goto bad;
	}
	json_object_foreach(vals, k, v) {
		if (!rtc_fb_valid_name(k) || !json_is_number(v) ||
		    !isfinite(json_number_value(v))) {
			rtc_cause_set(cause, "analysis %s: values: names are "
			    "[A-Za-z0-9_.-] (1 to 31), values finite numbers",
			    a->argv[0]);
			goto bad;
		}
	}
	json_object_foreach(vals, k, v) {
		if (rtc_fb_record_set_value(r, k, json_number_value(v)) != RTC_OK) {
			rtc_cause_set(cause, "analysis %s: too many values in the "
			    "record", a->argv[0]);
			goto bad;
		}
	}
	return RTC_OK;
bad:
	a->st.errors++;
	r->flags |= RTC_FB_ANALYSIS_FAILED;
	return RTC_ERR_PROTO;
}

/*
 * Read what arrived. With r: the reply to the awaited volume is applied to
 * r (*done = 1, *ret its result). Without r: replies are late. RET: 0, or
 * -1 when the process is gone (already reaped).
 */
static int
drain(struct rtc_analysis_ext *a, struct rtc_fb_record *r, int *done, int *ret,
    char **cause)
{
	json_t *j;
	int more, got;

	got = fill_in(a);
	while ((j = next_line(a, &more)) != NULL || more) {
		json_t *seqv;

		if (j == NULL)
			continue;
		seqv = json_object_get(j, "seq");
		if (!json_is_integer(seqv)) {
			a->st.bad_lines++;
		} else if (a->awaiting != 0 &&
		    json_integer_value(seqv) == a->awaiting) {
			if (r != NULL && done != NULL) {
				*ret = take_reply(a, j, r, cause);
				*done = 1;
			} else {
				a->st.late++;
			}
			forget_pending(a);
		} else {
			a->st.late++;
		}
		json_decref(j);
	}
	if (got == 0) {
		dead(a, "exited");
		return -1;
	}
	if (got < 0) {
		dead(a, "broke the protocol (a line too long, or a read "
		    "error); killed");
		return -1;
	}
	return 0;
}

/* ---- public ----------------------------------------------------------- */

int
rtc_analysis_ext_start(struct rtc_ctx *ctx,
    const struct rtc_analysis_ext_opts *o, struct rtc_analysis_ext **out,
    char **cause)
{
	struct rtc_analysis_ext *a;
	json_t *hello;
	char *text;
	size_t n, i;
	int r;

	if (o == NULL || o->argv == NULL || o->argv[0] == NULL ||
	    o->timeout_ms < 1 || o->startup_timeout_ms < 1 ||
	    o->max_restarts < 0 || o->shm_dir == NULL) {
		rtc_cause_set(cause, "analysis: invalid options");
		return RTC_ERR_INVAL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return RTC_ERR_NOMEM;
	a->ctx = ctx;
	a->o = *o;
	a->fd = -1;
	a->pid = -1;
	rtc_buf_init(&a->in, 2 * RTC_ANALYSIS_LINE_MAX);
	rtc_buf_init(&a->out, 0);
	for (n = 0; o->argv[n] != NULL; n++)
		;
	a->argv = calloc(n + 1, sizeof(char *));
	if (a->argv == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++)
		if ((a->argv[i] = strdup(o->argv[i])) == NULL) {
			r = RTC_ERR_NOMEM;
			goto fail;
		}
	if (o->cwd != NULL && (a->cwd = strdup(o->cwd)) == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	hello = json_pack("{s:s, s:i}", "type", "hello", "protocol", 1);
	if (hello != NULL && (json_object_set_new(hello, "config",
	    o->config != NULL ? json_incref(o->config) : json_object()) != 0 ||
	    json_object_set_new(hello, "project", o->project != NULL ?
	    json_incref(o->project) : json_object()) != 0)) {
		json_decref(hello);
		hello = NULL;
	}
	text = hello != NULL ? json_dumps(hello, JSON_COMPACT) : NULL;
	json_decref(hello);
	if (text == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if (asprintf(&a->hello, "%s\n", text) < 0)
		a->hello = NULL;
	free(text);
	if (a->hello == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if (asprintf(&a->dir, "%s/rtc-analysis-XXXXXX", o->shm_dir) < 0) {
		a->dir = NULL;
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if (mkdtemp(a->dir) == NULL) {
		rtc_cause_set(cause, "%s: %s", a->dir, strerror(errno));
		free(a->dir);
		a->dir = NULL;
		r = RTC_ERR_IO;
		goto fail;
	}
	r = start_process(a, cause);
	if (r != RTC_OK)
		goto fail;
	rtc_debug(ctx, RT, "analysis %s ready; volumes in %s", a->argv[0],
	    a->dir);
	*out = a;
	return RTC_OK;
fail:
	rtc_analysis_ext_free(a);
	return r;
}

int
rtc_analysis_ext_process(struct rtc_analysis_ext *a,
    const struct rtc_volume *v, struct rtc_fb_record *r, char **cause)
{
	json_t *req, *rec;
	char *text;
	int64_t t0, deadline;
	int ret = RTC_OK, done = 0, e;

	/* a reply that came late, or an exit, since the last volume */
	if (a->fd >= 0)
		(void)drain(a, NULL, NULL, NULL, NULL);
	if (a->fd < 0) {
		if (a->restarts >= a->o.max_restarts) {
			r->flags |= RTC_FB_ANALYSIS_FAILED;
			rtc_cause_set(cause, "analysis %s is not running (restarted "
			    "%d times)", a->argv[0], a->restarts);
			return RTC_ERR_UNAVAILABLE;
		}
		a->restarts++;
		a->st.restarts++;
		rtc_log(a->ctx, WARN, "analysis %s: starting again (%d of %d)",
		    a->argv[0], a->restarts, a->o.max_restarts);
		e = start_process(a, cause);
		if (e != RTC_OK) {
			r->flags |= RTC_FB_ANALYSIS_FAILED;
			return e == RTC_ERR_TIMEOUT ? RTC_ERR_UNAVAILABLE : e;
		}
	}
	if (flush_out(a) < 0) {
		dead(a, "closed its input");
		r->flags |= RTC_FB_ANALYSIS_FAILED;
		return RTC_ERR_UNAVAILABLE;
	}
	if (a->awaiting != 0 || a->out.len > 0) {
		a->st.skipped++;
		r->flags |= RTC_FB_ANALYSIS_SKIPPED;
		rtc_cause_set(cause, "analysis %s still busy with volume seq %lld",
		    a->argv[0], a->awaiting);
		return RTC_ERR_BUSY;
	}
	a->seq++;
	a->pending[0] = '\0';
	if (a->o.write_volume != NULL) {
		snprintf(a->path, sizeof(a->path), "%s/run%d_vol%d.nii", a->dir,
		    r->run, r->vol);
		e = a->o.write_volume(a->o.write_arg, v, a->path, cause);
		if (e != RTC_OK) {
			(void)unlink(a->path);
			r->flags |= RTC_FB_ANALYSIS_FAILED;
			rtc_cause_wrap(cause, "analysis: cannot write %s", a->path);
			return RTC_ERR_IO;
		}
		snprintf(a->pending, sizeof(a->pending), "%s", a->path);
	}
	rec = rtc_fb_record_to_json(r);
	req = json_pack("{s:s, s:I, s:i, s:i, s:o, s:[i,i,i], s:f, s:o}",
	    "type", "volume", "seq", (json_int_t)a->seq, "run", r->run,
	    "vol", r->vol,
	    "nifti", a->pending[0] != '\0' ? json_string(a->pending) :
	    json_null(),
	    "dims", v->nx, v->ny, v->nz, "tr", v->tr,
	    "record", rec != NULL ? rec : json_object());
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL || rtc_buf_append_str(&a->out, text) != RTC_OK ||
	    rtc_buf_append(&a->out, "\n", 1) != RTC_OK) {
		free(text);
		forget_pending(a);
		return RTC_ERR_NOMEM;
	}
	free(text);
	a->awaiting = a->seq;
	a->st.sent++;
	t0 = rtc_clock_mono_ns();
	deadline = t0 + (int64_t)a->o.timeout_ms * 1000000;
	for (;;) {
		if (flush_out(a) < 0) {
			dead(a, "closed its input");
			r->flags |= RTC_FB_ANALYSIS_FAILED;
			return RTC_ERR_UNAVAILABLE;
		}
		if (drain(a, r, &done, &ret, cause) < 0) {
			if (done)
				break;
			r->flags |= RTC_FB_ANALYSIS_FAILED;
			rtc_cause_set(cause, "analysis %s exited", a->argv[0]);
			return RTC_ERR_UNAVAILABLE;
		}
		if (done)
			break;
		if (!wait_io(a, deadline)) {
			a->st.timeouts++;
			r->flags |= RTC_FB_ANALYSIS_TIMEOUT;
			rtc_cause_set(cause, "analysis %s: no reply for run %d "
			    "volume %d within %d ms", a->argv[0], r->run, r->vol,
			    a->o.timeout_ms);
			return RTC_ERR_TIMEOUT;
		}
	}
	{
		double ms = (double)(rtc_clock_mono_ns() - t0) / 1e6;

		if (ms > a->st.max_ms)
			a->st.max_ms = ms;
	}
	if (ret == RTC_OK)
		a->st.answered++;
	return ret;
}

void
rtc_analysis_ext_get_stats(const struct rtc_analysis_ext *a,
    struct rtc_analysis_ext_stats *st)
{
	*st = a->st;
}

const char *
rtc_analysis_ext_dir(const struct rtc_analysis_ext *a)
{
	return a->dir;
}

void
rtc_analysis_ext_free(struct rtc_analysis_ext *a)
{
	size_t i;

	if (a == NULL)
		return;
	if (a->fd >= 0) {
		static const char bye[] = "{\"type\":\"bye\"}\n";

		(void)flush_out(a);
		(void)send(a->fd, bye, sizeof(bye) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)shutdown(a->fd, SHUT_WR);
	}
	reap(a, 1000);
	forget_pending(a);
	if (a->dir != NULL)
		(void)rtc_fs_remove_tree(a->dir, NULL);
	if (a->argv != NULL) {
		for (i = 0; a->argv[i] != NULL; i++)
			free(a->argv[i]);
		free(a->argv);
	}
	rtc_buf_free(&a->in);
	rtc_buf_free(&a->out);
	free(a->cwd);
	free(a->hello);
	free(a->dir);
	free(a);
}

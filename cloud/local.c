/*
 * local: run jobs on this machine, at most max_parallel at a time
 * ([batch.local] max_parallel, default: the number of CPUs).
 *
 * A job is its job script, started in its own process group and detached
 * from rtcd's fate: when rtcd dies the job runs on, and the next rtcd
 * finds it again. Its id is "local:PID:START", START being the process's
 * start time in clock ticks (/proc/PID/stat field 22), so a recycled PID
 * is never taken for the job. The id is also written to the attempt's pid
 * file as soon as the process exists, for a daemon that died before it
 * stored the id. The job's exit status comes from the status file its
 * script writes last; a process that is gone without one was lost.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends.h"
#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "process.h"

struct child {
	pid_t pid;
	struct child *next;
};

struct local {
	struct rtc_ctx *ctx;
	pthread_mutex_t mu;
	long max_parallel;
	long running;          /* as of the last submit or poll */
	struct child *children;  /* started by this process: reaped here */
};

/* OUT: the process's start time (clock ticks) and state letter. */
static int
proc_stat(pid_t pid, unsigned long long *start, char *state)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': skip past the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	for (field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int
parse_id(const char *id, pid_t *pid, unsigned long long *start)
{
	long long p;
	unsigned long long s;
	char tail;

	if (sscanf(id, "local:%lld:%llu%c", &p, &s, &tail) != 2 || p <= 1)
		return -1;
	*pid = (pid_t)p;
	*start = s;
	return 0;
}

static int
local_open(struct rtc_ctx *ctx, json_t *conf, void **state, char **cause)
{
	struct local *l;
	json_t *v = json_object_get(conf, "max_parallel");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 100000)) {
		rtc_cause_set(cause, "[batch.local] max_parallel must be a positive "
		    "integer");
		return RTC_ERR_INVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return RTC_ERR_NOMEM;
	l->ctx = ctx;
	pthread_mutex_init(&l->mu, NULL);
	l->max_parallel = v != NULL ? (long)json_integer_value(v) :
	    (ncpu > 0 ? ncpu : 1);
	*state = l;
	return RTC_OK;
}

static void
local_close(void *state)
{
	struct local *l = state;
	struct child *c;

	if (l == NULL)
		return;
	while ((c = l->children) != NULL) {
		l->children = c->next;
		free(c);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static long
local_capacity(void *state)
{
	struct local *l = state;
	long cap;

	pthread_mutex_lock(&l->mu);
	cap = l->max_parallel - l->running;
	pthread_mutex_unlock(&l->mu);
	return cap > 0 ? cap : 0;
}

static int
local_submit(void *state, struct rtc_backend_submit *s, char **cause)
{
	struct local *l = state;
	size_t i;
	int r = RTC_OK;

	s->nsubmitted = 0;
	for (i = 0; i < s->ntasks; i++) {
		struct rtc_backend_task *t = &s->tasks[i];
		const char *argv[] = { "/bin/sh", t->script, NULL };
		struct rtc_process_opts o;
		unsigned long long start = 0;
		struct child *c;
		char st, id[RTC_JOB_ID_MAX];
		pid_t pid;

		rtc_process_opts_init(&o);
		o.new_pgrp = 1;
		r = rtc_process_spawn(argv, &o, &pid, cause);
		if (r != RTC_OK)
			break;
		/* not reaped yet, so /proc/PID is there even if it exited */
		if (proc_stat(pid, &start, &st) != 0)
			start = 0;
		snprintf(id, sizeof(id), "local:%ld:%llu", (long)pid, start);
		if (t->pid_file != NULL)
			(void)rtc_fs_write_atomic(t->pid_file, id, strlen(id), 0600, 0,
			    NULL);
		snprintf(t->backend_id, sizeof(t->backend_id), "%s", id);
		s->nsubmitted++;
		c = calloc(1, sizeof(*c));
		pthread_mutex_lock(&l->mu);
		l->running++;
		if (c != NULL) {
			c->pid = pid;
			c->next = l->children;
			l->children = c;
		}
		pthread_mutex_unlock(&l->mu);
		rtc_debug(l->ctx, BATCH, "local: started %s as %s", t->script, id);
	}
	if (r != RTC_OK)
		rtc_cause_wrap(cause, "local backend");
	return r;
}

/* RET: 1 when pid was started by this process (and is now reaped when it
 * has ended: *ended, *status), else 0. */
static int
reap_child(struct local *l, pid_t pid, int *ended, int *status)
{
	struct child **pp, *c;
	int mine = 0;

	pthread_mutex_lock(&l->mu);
	for (pp = &l->children; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->pid != pid)
			continue;
		mine = 1;
		*ended = 0;
		if (waitpid(pid, status, WNOHANG) == pid) {
			*ended = 1;
			c = *pp;
			*pp = c->next;
			free(c);
		}
		break;
	}
	pthread_mutex_unlock(&l->mu);
	return mine;
}

static int
local_poll(void *state, struct rtc_backend_query *q, size_t n, char **cause)
{
	struct local *l = state;
	long running = 0;
	size_t i;

	(void)cause;
	for (i = 0; i < n; i++) {
		unsigned long long start, now_start;
		int ended = 0, status = 0;
		char st = '?';
		pid_t pid;

		q[i].exit_code = -1;
		q[i].reason[0] = '\0';
		if (q[i].backend_id[0] == '\0') {
			/* its id was never stored: the pid file knows it */
			char *text = NULL;
			size_t len;

			if (q[i].pid_file != NULL && rtc_fs_read_file(q[i].pid_file,
			    RTC_JOB_ID_MAX - 1, &text, &len, NULL) == RTC_OK) {
				snprintf(q[i].backend_id, sizeof(q[i].backend_id), "%s",
				    text);
				free(text);
			}
		}
		if (parse_id(q[i].backend_id, &pid, &start) != 0) {
			q[i].state = RTC_SCHED_LOST;
			continue;
		}
		if (reap_child(l, pid, &ended, &status)) {
			if (!ended) {
				q[i].state = RTC_SCHED_RUNNING;
				running++;
				continue;
			}
			q[i].exit_code = rtc_process_exit_status(status);
			q[i].state = q[i].exit_code == 0 ? RTC_SCHED_COMPLETED :
			    RTC_SCHED_FAILED;
			continue;
		}
		/* started by an earlier rtcd */
		if (proc_stat(pid, &now_start, &st) == 0 && now_start == start &&
		    st != 'Z' && st != 'X') {
			q[i].state = RTC_SCHED_RUNNING;
			running++;
			continue;
		}
		/* gone: the core reads its status file */
		q[i].state = RTC_SCHED_LOST;
		snprintf(q[i].reason, sizeof(q[i].reason), "process %ld has ended",
		    (long)pid);
	}
	pthread_mutex_lock(&l->mu);
	l->running = running;
	/* reap children nobody asks about any more (cancelled ones) */
	{
		struct child **pp = &l->children, *c;
		int status;

		while ((c = *pp) != NULL) {
			if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
				*pp = c->next;
				free(c);
			} else {
				pp = &c->next;
			}
		}
	}
	pthread_mutex_unlock(&l->mu);
	return RTC_OK;
}

static int
alive(pid_t pid, unsigned long long start)
{
	unsigned long long s;
	char st;

	return proc_stat(pid, &s, &st) == 0 && s == start && st != 'Z' &&
	    st != 'X';
}

static int
local_cancel(void *state, const char *const *ids, size_t n, char **cause)
{
	struct local *l = state;
	pid_t *pids;
	unsigned long long *starts;
	size_t i, left;
	int64_t deadline;

	(void)cause;
	pids = calloc(n ? n : 1, sizeof(*pids));
	starts = calloc(n ? n : 1, sizeof(*starts));
	if (pids == NULL || starts == NULL) {
		free(pids);
		free(starts);
		return RTC_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (parse_id(ids[i], &pids[i], &starts[i]) != 0 ||
		    !alive(pids[i], starts[i])) {
			pids[i] = 0;
			continue;
		}
		/* the job script leads its process group */
		kill(-pids[i], SIGTERM);
		rtc_debug(l->ctx, BATCH, "local: SIGTERM to %s", ids[i]);
	}
	deadline = rtc_clock_mono_ns() + 5LL * 1000000000LL;
	do {
		left = 0;
		for (i = 0; i < n; i++) {
			int ended = 0, status;

			if (pids[i] == 0)
				continue;
			(void)reap_child(l, pids[i], &ended, &status);
			if (ended || !alive(pids[i], starts[i]))
				pids[i] = 0;
			else
				left++;
		}
		if (left > 0)
			rtc_clock_sleep_ns(50000000, NULL);
	} while (left > 0 && rtc_clock_mono_ns() < deadline);
	for (i = 0; i < n; i++)
		if (pids[i] != 0) {
			kill(-pids[i], SIGKILL);
			rtc_log(l->ctx, WARN, "local: %s ignored SIGTERM: killed",
			    ids[i]);
		}
	free(pids);
	free(starts);
	return RTC_OK;
}

const struct rtc_backend_ops rtc_backend_local = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.capacity = local_capacity,
	.submit = local_submit,
	.poll = local_poll,
	.cancel = local_cancel,
	.collect = NULL,
};

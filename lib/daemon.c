/*
 * daemon: rtcd as a process. The state directory's rtcd.pid is locked
 * with flock(2) for the daemon's whole life (close-on-exec, so jobs it
 * starts never hold it), which makes "is a daemon running?" race-free and
 * lets a new daemon remove a stale socket safely.
 *
 * The main loop is poll(2) over: the listening socket, each connection, a
 * signalfd (TERM, INT, HUP) and the read end of a pipe the workers write
 * one byte to when a task is done. Its timeout is the engine's next timer,
 * or none at all when nothing is active.
 *
 * Stopping: SIGTERM closes the listening socket, lets the tasks in flight
 * finish (their results are stored), then returns. A SIGKILL at any point
 * is safe too: every transition is in the store before it is acted on,
 * and the next daemon reconciles.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "clock.h"
#include "daemon_int.h"
#include "error.h"
#include "fsutil.h"
#include "proto.h"

#define CONN_OUT_MAX (RTC_PROTO_MAX_MSG * 4u)

int
d_strvec_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return RTC_ERR_NOMEM;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return RTC_ERR_NOMEM;
	(*n)++;
	return RTC_OK;
}

void
d_strvec_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- detaching ---- */

int
rtc_daemon_detach(int *is_parent, int *ready_fd, char **cause)
{
	char buf[1024];
	size_t len = 0;
	ssize_t n;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		rtc_cause_set(cause, "pipe: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	pid = fork();
	if (pid < 0) {
		rtc_cause_set(cause, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return RTC_ERR_IO;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		*is_parent = 0;
		*ready_fd = p[1];
		return RTC_OK;
	}
	close(p[1]);
	*is_parent = 1;
	*ready_fd = -1;
	while (len < sizeof(buf) - 1) {
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (strcmp(buf, "ok") == 0)
		return RTC_OK;
	if (strncmp(buf, "busy: ", 6) == 0) {
		rtc_cause_set(cause, "%s", buf + 6);
		return RTC_ERR_BUSY;
	}
	rtc_cause_set(cause, "%s", len ? buf : "rtcd exited before it was ready");
	return RTC_ERR_UNAVAILABLE;
}

/* ---- tasks and workers ---- */

void
d_task_free(struct dtask *t)
{
	if (t == NULL)
		return;
	free(t->cause);
	json_decref(t->args);
	rtc_plan_free(t->plan);
	free(t->dataset);
	free(t->app);
	free(t->digest);
	free(t->output);
	rtc_run_free(t->run);
	free(t->jobs);
	free(t->tasks);
	free(t->queries);
	d_strvec_free(t->strings, t->nstrings);
	d_strvec_free(t->ids, t->nids);
	free(t);
}

static void *
worker_main(void *arg)
{
	struct rtc_daemon *d = arg;
	struct dtask *t;
	ssize_t w;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (d->todo == NULL && !d->quit_workers)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->todo == NULL)
			break;
		t = d->todo;
		d->todo = t->next;
		if (d->todo == NULL)
			d->todo_tail = NULL;
		pthread_mutex_unlock(&d->mu);
		t->work(t);
		pthread_mutex_lock(&d->mu);
		t->next = d->done;
		d->done = t;
		do {
			w = write(d->wake_wr, "x", 1);
		} while (w < 0 && errno == EINTR);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

void
d_task_start(struct rtc_daemon *d, struct dtask *t)
{
	t->d = d;
	t->next = NULL;
	d->inflight++;
	pthread_mutex_lock(&d->mu);
	if (d->todo_tail != NULL)
		d->todo_tail->next = t;
	else
		d->todo = t;
	d->todo_tail = t;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static int
workers_start(struct rtc_daemon *d, char **cause)
{
	size_t i;
	int r;

	for (i = 0; i < D_WORKERS; i++) {
		r = pthread_create(&d->threads[i], NULL, worker_main, d);
		if (r != 0) {
			rtc_cause_set(cause, "pthread_create: %s", strerror(r));
			return RTC_ERR_IO;
		}
		d->nthreads++;
	}
	return RTC_OK;
}

static void
workers_stop(struct rtc_daemon *d)
{
	size_t i;

	pthread_mutex_lock(&d->mu);
	d->quit_workers = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	d->nthreads = 0;
}

/* Run the done() of every finished task. */
static void
tasks_finish(struct rtc_daemon *d)
{
	struct dtask *list, *t;
	char drain[64];

	while (read(d->wake_rd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&d->mu);
	list = d->done;
	d->done = NULL;
	pthread_mutex_unlock(&d->mu);
	/* oldest first */
	{
		struct dtask *rev = NULL;

		while (list != NULL) {
			t = list;
			list = t->next;
			t->next = rev;
			rev = t;
		}
		list = rev;
	}
	while (list != NULL) {
		t = list;
		list = t->next;
		d->inflight--;
		t->done(d, t);
		d_task_free(t);
	}
}

/* ---- connections ---- */

struct dconn *
d_conn_find(struct rtc_daemon *d, uint64_t id)
{
	struct dconn *c;

	for (c = d->conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void
conn_queue(struct rtc_daemon *d, struct dconn *c, json_t *reply)
{
	char *cause = NULL;

	if (reply == NULL) {
		c->closing = 1;
		return;
	}
	if (rtc_proto_encode(reply, &c->out, &cause) != RTC_OK) {
		json_t *e = rtc_proto_reply_error(RTC_ERR_TOO_BIG, cause);

		rtc_log(d->ctx, WARN, "reply not sent: %s", cause);
		if (e == NULL || rtc_proto_encode(e, &c->out, NULL) != RTC_OK)
			c->closing = 1;
		json_decref(e);
	}
	free(cause);
}

void
d_conn_reply(struct rtc_daemon *d, uint64_t id, json_t *reply)
{
	struct dconn *c = d_conn_find(d, id);

	if (c != NULL)
		conn_queue(d, c, reply);
	json_decref(reply);
}

static void
conn_close(struct rtc_daemon *d, struct dconn *c)
{
	struct dconn **pp;
	struct dwait **wp, *w;

	for (pp = &d->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	/* replies owed to it are owed to nobody now */
	for (wp = &d->waits; *wp != NULL;) {
		w = *wp;
		if (w->conn == c->id) {
			*wp = w->next;
			json_decref(w->extra);
			free(w);
		} else {
			wp = &w->next;
		}
	}
	close(c->fd);
	rtc_buf_free(&c->in);
	rtc_buf_free(&c->out);
	free(c);
	d->nconns--;
}

static void
conn_accept(struct rtc_daemon *d)
{
	struct dconn *c;
	char *cause = NULL;
	int fd, r;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	r = rtc_proto_peer_allowed(fd, &cause);
	if (r != RTC_OK || d->nconns >= D_MAX_CONNS) {
		json_t *e;

		if (r == RTC_OK)
			rtc_cause_set(&cause, "too many connections");
		rtc_log(d->ctx, WARN, "connection refused: %s", cause);
		e = rtc_proto_reply_error(r != RTC_OK ? r : RTC_ERR_BUSY, cause);
		if (e != NULL)
			(void)rtc_proto_send(fd, e, 200, NULL);
		json_decref(e);
		free(cause);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = ++d->next_conn;
	rtc_buf_init(&c->in, RTC_PROTO_MAX_MSG + 4);
	rtc_buf_init(&c->out, CONN_OUT_MAX);
	c->next = d->conns;
	d->conns = c;
	d->nconns++;
}

/* RET: 0 to keep the connection, -1 to close it. */
static int
conn_read(struct rtc_daemon *d, struct dconn *c)
{
	char chunk[65536];
	json_t *msg, *reply;
	char *cause = NULL;
	ssize_t n;
	int r;

	n = recv(c->fd, chunk, sizeof(chunk), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	if (rtc_buf_append(&c->in, chunk, (size_t)n) != RTC_OK)
		return -1;
	for (;;) {
		msg = NULL;
		r = rtc_proto_decode(&c->in, &msg, &cause);
		if (r == RTC_ERR_AGAIN)
			break;
		if (r != RTC_OK) {
			reply = rtc_proto_reply_error(r, cause);
			free(cause);
			conn_queue(d, c, reply);
			json_decref(reply);
			c->closing = 1;
			return 0;
		}
		reply = NULL;
		r = rtc_proto_dispatch(d_handlers, d, c, msg, &reply);
		json_decref(msg);
		if (r != RTC_PROTO_DEFERRED) {
			conn_queue(d, c, reply);
			json_decref(reply);
		}
	}
	return 0;
}

/* RET: 0 to keep the connection, -1 to close it. */
static int
conn_write(struct dconn *c)
{
	ssize_t n;

	while (c->out.len > 0) {
		n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		rtc_buf_consume(&c->out, (size_t)n);
	}
	return c->closing ? -1 : 0;
}

/* ---- setup ---- */

static int
state_dir_ready(struct rtc_daemon *d, char **cause)
{
	struct stat st;
	int r;

	r = rtc_fs_mkdir_p(d->state_dir, 0700, cause);
	if (r != RTC_OK)
		return r;
	if (stat(d->state_dir, &st) != 0) {
		rtc_cause_set(cause, "%s: %s", d->state_dir, strerror(errno));
		return RTC_ERR_IO;
	}
	if (st.st_uid != geteuid()) {
		rtc_cause_set(cause, "%s belongs to uid %lu, not to this user: "
		    "choose another RTC_STATE_DIR", d->state_dir,
		    (unsigned long)st.st_uid);
		return RTC_ERR_PERM;
	}
	if ((st.st_mode & 077) != 0 && chmod(d->state_dir, 0700) != 0) {
		rtc_cause_set(cause, "%s: chmod: %s", d->state_dir, strerror(errno));
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

static int
take_lock(struct rtc_daemon *d, char **cause)
{
	char path[4096], pidbuf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, RTC_PIDFILE_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return RTC_ERR_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
		pidbuf[n > 0 ? n : 0] = '\0';
		pidbuf[strcspn(pidbuf, "\n")] = '\0';
		rtc_cause_set(cause, "an rtcd already runs for %s (pid %s)",
		    d->state_dir, pidbuf[0] ? pidbuf : "?");
		close(fd);
		return RTC_ERR_BUSY;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pidbuf, strlen(pidbuf), 0) != (ssize_t)strlen(pidbuf)) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return RTC_ERR_IO;
	}
	d->lock_fd = fd;
	return RTC_OK;
}

static int
listen_socket(struct rtc_daemon *d, char **cause)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		rtc_cause_set(cause, "%s: path too long for a socket (%zu bytes at "
		    "most): choose a shorter RTC_STATE_DIR", d->sock_path,
		    sizeof(sa.sun_path) - 1);
		return RTC_ERR_INVAL;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	/* we hold the lock: a socket left there is stale */
	unlink(d->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rtc_cause_set(cause, "socket: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || listen(fd, 64) != 0) {
		rtc_cause_set(cause, "%s: %s", d->sock_path, strerror(errno));
		close(fd);
		return RTC_ERR_IO;
	}
	d->listen_fd = fd;
	return RTC_OK;
}

static int
signals_setup(struct rtc_daemon *d, char **cause)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked here before any thread starts, so in every thread */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		rtc_cause_set(cause, "sigprocmask failed");
		return RTC_ERR_IO;
	}
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0) {
		rtc_cause_set(cause, "signalfd: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

static int
open_log(struct rtc_daemon *d, FILE **fp, char **cause)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/rtcd.log", d->state_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || (*fp = fdopen(fd, "a")) == NULL) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return RTC_ERR_IO;
	}
	setvbuf(*fp, NULL, _IOLBF, 0);
	rtc_log_set_file(d->ctx->log, *fp);
	rtc_log_set_timestamps(d->ctx->log, 1);
	return RTC_OK;
}

static void
ready(int *ready_fd, const char *msg)
{
	ssize_t w;

	if (*ready_fd < 0)
		return;
	do {
		w = write(*ready_fd, msg, strlen(msg));
	} while (w < 0 && errno == EINTR);
	close(*ready_fd);
	*ready_fd = -1;
}

static int
backends_open(struct rtc_daemon *d, char **cause)
{
	size_t n = 0, i;

	while (d->o->backends != NULL && d->o->backends[n] != NULL)
		n++;
	d->be = calloc(n ? n : 1, sizeof(*d->be));
	if (d->be == NULL)
		return RTC_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const struct rtc_backend_ops *ops = d->o->backends[i];
		char key[64];
		json_t *conf;
		double iv = -1;
		int r;

		snprintf(key, sizeof(key), "batch.%s", ops->name);
		conf = rtc_config_get(d->ctx->conf, key);
		r = ops->open(d->ctx, conf, &d->be[i].state, cause);
		if (r != RTC_OK) {
			rtc_cause_wrap(cause, "backend %s", ops->name);
			return r;
		}
		d->be[i].ops = ops;
		d->nbe++;
		if (json_is_number(json_object_get(conf, "poll_interval")))
			iv = json_number_value(json_object_get(conf, "poll_interval"));
		else if (json_is_number(rtc_config_get(d->ctx->conf,
		    "batch.poll_interval")))
			iv = json_number_value(rtc_config_get(d->ctx->conf,
			    "batch.poll_interval"));
		if (iv <= 0)
			iv = strcmp(ops->name, "local") == 0 ? 1.0 : 10.0;
		if (iv < 0.05)
			iv = 0.05;
		d->be[i].interval_ns = (int64_t)(iv * 1e9);
	}
	return RTC_OK;
}

static void
daemon_free(struct rtc_daemon *d)
{
	size_t i;

	while (d->conns != NULL)
		conn_close(d, d->conns);
	while (d->waits != NULL) {
		struct dwait *w = d->waits;

		d->waits = w->next;
		json_decref(w->extra);
		free(w);
	}
	d_engine_free(d);
	for (i = 0; i < d->nbe; i++) {
		if (d->be[i].ops->close != NULL)
			d->be[i].ops->close(d->be[i].state);
		d_strvec_free(d->be[i].cancel_ids, d->be[i].ncancel);
	}
	free(d->be);
	rtc_store_close(d->store);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->sock_path);
	}
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->wake_rd >= 0)
		close(d->wake_rd);
	if (d->wake_wr >= 0)
		close(d->wake_wr);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->state_dir);
	free(d->runs_dir);
	free(d->sock_path);
}

static int
path_join(char **out, const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;

	*out = malloc(n);
	if (*out == NULL)
		return RTC_ERR_NOMEM;
	snprintf(*out, n, "%s/%s", a, b);
	return RTC_OK;
}

static void
handle_signals(struct rtc_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		if (!d->stopping)
			rtc_log(d->ctx, INFO, "signal %u: stopping once %d task%s "
			    "in flight finish", si.ssi_signo, d->inflight,
			    d->inflight == 1 ? "" : "s");
		d->stopping = 1;
	}
	if (d->stopping && d->listen_fd >= 0) {
		close(d->listen_fd);
		d->listen_fd = -1;
		unlink(d->sock_path);
	}
}

static int
loop(struct rtc_daemon *d)
{
	struct pollfd *pfd = NULL;
	struct dconn **pc = NULL;
	size_t cap = 0;

	while (!(d->stopping && d->inflight == 0)) {
		struct dconn *c, *next;
		size_t n = 0, i, want = d->nconns + 4;
		int64_t timer;
		int timeout, r;

		if (want > cap) {
			struct pollfd *np = realloc(pfd, want * sizeof(*np));
			struct dconn **nc;

			if (np == NULL)
				break;
			pfd = np;
			nc = realloc(pc, want * sizeof(*nc));
			if (nc == NULL)
				break;
			pc = nc;
			cap = want;
		}
		pfd[n].fd = d->sig_fd;
		pfd[n].events = POLLIN;
		pc[n++] = NULL;
		pfd[n].fd = d->wake_rd;
		pfd[n].events = POLLIN;
		pc[n++] = NULL;
		if (d->listen_fd >= 0) {
			pfd[n].fd = d->listen_fd;
			pfd[n].events = POLLIN;
			pc[n++] = NULL;
		}
		for (c = d->conns; c != NULL; c = c->next) {
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN | (c->out.len > 0 ? POLLOUT : 0);
			pc[n++] = c;
		}
		timer = d_engine_next_timer(d);
		if (timer < 0) {
			timeout = -1;
		} else {
			int64_t left = timer - rtc_clock_mono_ns();

			timeout = left <= 0 ? 0 : (int)(left / 1000000) + 1;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR) {
			rtc_log(d->ctx, ERROR, "poll: %s", strerror(errno));
			break;
		}
		for (i = 0; r > 0 && i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == d->sig_fd)
				handle_signals(d);
			else if (pfd[i].fd == d->wake_rd)
				tasks_finish(d);
			else if (pc[i] == NULL && pfd[i].fd == d->listen_fd)
				conn_accept(d);
		}
		/* connections: compare against the list as it is now */
		for (i = 0; r > 0 && i < n; i++) {
			int keep = 0;

			c = pc[i];
			if (c == NULL || pfd[i].revents == 0)
				continue;
			for (next = d->conns; next != NULL; next = next->next)
				if (next == c)
					keep = 1;
			if (!keep)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				keep = conn_read(d, c) == 0;
			if (keep && c->out.len > 0)
				keep = conn_write(c) == 0;
			else if (keep && c->closing)
				keep = 0;
			if (!keep)
				conn_close(d, c);
		}
		/* replies made by task completions */
		for (c = d->conns; c != NULL; c = next) {
			next = c->next;
			if ((c->out.len > 0 || c->closing) && conn_write(c) != 0)
				conn_close(d, c);
		}
		d_engine_tick(d);
	}
	free(pfd);
	free(pc);
	return RTC_OK;
}

int
rtc_daemon_run(struct rtc_ctx *ctx, const struct rtc_daemon_opts *o,
    int ready_fd, char **cause)
{
	struct rtc_daemon d;
	FILE *logfp = NULL;
	int p[2], r;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.o = o;
	d.listen_fd = d.sig_fd = d.wake_rd = d.wake_wr = d.lock_fd = -1;
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	d.limits.grow = 2.0;
	d.limits.max_mem_mb = 256 * 1024;
	d.limits.max_time_min = 14 * 24 * 60;

	if ((d.state_dir = strdup(o->state_dir)) == NULL ||
	    path_join(&d.runs_dir, o->state_dir, "runs") != RTC_OK ||
	    path_join(&d.sock_path, o->state_dir, RTC_SOCKET_NAME) != RTC_OK) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if ((r = state_dir_ready(&d, cause)) != RTC_OK)
		goto fail;
	if ((r = take_lock(&d, cause)) != RTC_OK)
		goto fail;
	if (!o->foreground && (r = open_log(&d, &logfp, cause)) != RTC_OK)
		goto fail;
	rtc_log(ctx, INFO, "rtcd %s starting (pid %ld, state %s)", o->version,
	    (long)getpid(), d.state_dir);
	if ((r = rtc_fs_mkdir_p(d.runs_dir, 0700, cause)) != RTC_OK)
		goto fail;
	{
		char db[4096];

		snprintf(db, sizeof(db), "%s/jobs.db", d.state_dir);
		if ((r = rtc_store_open(db, &d.store, cause)) != RTC_OK)
			goto fail;
	}
	if ((r = signals_setup(&d, cause)) != RTC_OK)
		goto fail;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
		rtc_cause_set(cause, "pipe: %s", strerror(errno));
		r = RTC_ERR_IO;
		goto fail;
	}
	d.wake_rd = p[0];
	d.wake_wr = p[1];
	if ((r = backends_open(&d, cause)) != RTC_OK)
		goto fail;
	if ((r = d_engine_load(&d, cause)) != RTC_OK)
		goto fail;
	if ((r = workers_start(&d, cause)) != RTC_OK)
		goto fail;
	/* before any request: every unfinished job against its backend */
	if ((r = d_engine_reconcile(&d, cause)) != RTC_OK)
		goto fail;
	if ((r = listen_socket(&d, cause)) != RTC_OK)
		goto fail;
	if (ready_fd >= 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	ready(&ready_fd, "ok\n");
	rtc_log(ctx, INFO, "listening on %s", d.sock_path);
	d_engine_tick(&d);
	r = loop(&d);
	rtc_log(ctx, INFO, "rtcd stopped");
	workers_stop(&d);
	tasks_finish(&d);
	daemon_free(&d);
	if (logfp != NULL) {
		rtc_log_set_file(ctx->log, NULL);
		fclose(logfp);
	}
	return r;
fail:
	if (ready_fd >= 0) {
		char msg[1200];

		snprintf(msg, sizeof(msg), "%s%s\n", r == RTC_ERR_BUSY ? "busy: " :
		    "", cause && *cause ? *cause : rtc_strerror(r));
		ready(&ready_fd, msg);
	}
	rtc_log(ctx, ERROR, "cannot start: %s",
	    cause && *cause ? *cause : rtc_strerror(r));
	workers_stop(&d);
	tasks_finish(&d);
	daemon_free(&d);
	if (logfp != NULL) {
		rtc_log_set_file(ctx->log, NULL);
		fclose(logfp);
	}
	return r;
}

/*
 * feedback: design notes for the outputs (the contract is in feedback.h).
 *
 * TCP: a ring of line slots (the backlog) under one mutex. Slots keep
 * their buffers once grown, so a steady run allocates nothing. The
 * pipeline's rtc_feedback_write() appends and, when connected with
 * nothing else pending, sends at once with a non-blocking send; whatever
 * is left is sent by the sender thread when poll(2) says the socket can
 * take more. Only the sender thread opens and closes the socket: a writer
 * that sees an error marks the connection broken and wakes the thread
 * (an eventfd), so no fd is ever closed under another thread's poll.
 *
 * A line partly sent when a connection breaks is sent again whole on the
 * next connection (the listener never saw its end). When the backlog is
 * full the oldest line goes, unless it is partly on the wire: then the
 * next oldest goes, so the stream never carries a torn line.
 *
 * The socket gets TCP_NODELAY (a line is one small write) and
 * TCP_USER_TIMEOUT, so a listener that vanished without closing (cable
 * pulled) is noticed within seconds instead of minutes.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "feedback.h"
#include "fsutil.h"
#include "log.h"

struct slot {
	char *buf;
	size_t len, cap;
};

struct rtc_feedback {
	struct rtc_ctx *ctx;
	struct rtc_feedback_opts o;
	char *files_dir;
	char *path;             /* scratch for file names */
	size_t pathcap;
	struct rtc_fb_encoder *enc;
	pthread_mutex_t wmu;    /* serialises writers (encoder, files) */

	/* TCP */
	int tcp;
	char host[256];
	int port;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* backlog drained / state changed */
	struct slot *ring;
	size_t cap, head, count;
	size_t off;             /* bytes of the head line already sent */
	int fd;
	int connected;
	int broken;             /* a writer saw an error: thread must close */
	int stopping;
	unsigned long long lost_reported;
	int efd;
	pthread_t th;
	int th_started;

	struct rtc_feedback_stats st;
};

void
rtc_feedback_opts_init(struct rtc_feedback_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backlog = 1000;
	o->connect_timeout_ms = 1000;
	o->retry_min_ms = 100;
	o->retry_max_ms = 2000;
}

int
rtc_feedback_parse_url(const char *url, char *host, size_t hostsz, int *port,
    char **cause)
{
	const char *h, *colon, *end;
	char *pe;
	size_t n, i;
	long p;

	if (url == NULL || strncmp(url, "tcp://", 6) != 0) {
		rtc_cause_set(cause, "feedback: '%s': expected tcp://HOST:PORT",
		    url ? url : "");
		return RTC_ERR_INVAL;
	}
	h = url + 6;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end[1] != ':') {
			rtc_cause_set(cause, "feedback: '%s': bad [IPv6] host", url);
			return RTC_ERR_INVAL;
		}
		h++;
		n = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL) {
			rtc_cause_set(cause, "feedback: '%s': no port", url);
			return RTC_ERR_INVAL;
		}
		n = (size_t)(colon - h);
	}
	if (n == 0 || n >= hostsz || n > 253) {
		rtc_cause_set(cause, "feedback: '%s': bad host", url);
		return RTC_ERR_INVAL;
	}
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
		    c == '_')) {
			rtc_cause_set(cause, "feedback: '%s': bad host", url);
			return RTC_ERR_INVAL;
		}
	}
	errno = 0;
	p = strtol(colon + 1, &pe, 10);
	if (colon[1] == '\0' || *pe != '\0' || errno != 0 || p < 1 ||
	    p > 65535) {
		rtc_cause_set(cause, "feedback: '%s': bad port", url);
		return RTC_ERR_INVAL;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return RTC_OK;
}

/* ---- backlog (mu held) ------------------------------------------------ */

static void
wake(struct rtc_feedback *fb)
{
	uint64_t one = 1;
	ssize_t r = write(fb->efd, &one, sizeof(one));

	(void)r;
}

static void
drop_at(struct rtc_feedback *fb, size_t k)
{
	/* remove the k-th queued line, keeping the others in order; its
	 * slot (and buffer) becomes the free one after the tail */
	size_t i;

	if (k == 0) {
		fb->head = (fb->head + 1) % fb->cap;
		fb->count--;
		fb->st.lost++;
		return;
	}
	for (i = k; i + 1 < fb->count; i++) {
		struct slot *a = &fb->ring[(fb->head + i) % fb->cap];
		struct slot *b = &fb->ring[(fb->head + i + 1) % fb->cap];
		struct slot t = *a;

		*a = *b;
		*b = t;
	}
	fb->count--;
	fb->st.lost++;
}

static int
enqueue(struct rtc_feedback *fb, const char *line, size_t len)
{
	struct slot *s;

	if (fb->count == fb->cap)
		drop_at(fb, fb->off > 0 && fb->count > 1 ? 1 : 0);
	if (fb->count == fb->cap)     /* cap 1 with a torn head */
		return RTC_ERR_TOO_BIG;
	s = &fb->ring[(fb->head + fb->count) % fb->cap];
	if (s->cap < len) {
		size_t nc = len < 1024 ? 1024 : len;
		char *nb = realloc(s->buf, nc);

		if (nb == NULL)
			return RTC_ERR_NOMEM;
		s->buf = nb;
		s->cap = nc;
	}
	memcpy(s->buf, line, len);
	s->len = len;
	fb->count++;
	return RTC_OK;
}

/* Send what the socket takes now. */
static void
send_pending(struct rtc_feedback *fb)
{
	while (fb->connected && !fb->broken && fb->count > 0) {
		struct slot *s = &fb->ring[fb->head];
		ssize_t n = send(fb->fd, s->buf + fb->off, s->len - fb->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			fb->off += (size_t)n;
			if (fb->off == s->len) {
				fb->head = (fb->head + 1) % fb->cap;
				fb->count--;
				fb->off = 0;
				fb->st.sent++;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		fb->broken = 1;
		wake(fb);
	}
	if (fb->count == 0)
		pthread_cond_broadcast(&fb->cv);
}

/* Has the listener closed its end? (Cheap: one non-blocking peek.) */
static int
peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

/* ---- sender thread ---------------------------------------------------- */

/* Sleep ms, or until woken/stopping. */
static void
nap(struct rtc_feedback *fb, int ms)
{
	struct pollfd p = { .fd = fb->efd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) > 0 && read(fb->efd, &v, sizeof(v)) < 0)
		return;
}

static int
dial(struct rtc_feedback *fb)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", fb->port);
	if (getaddrinfo(fb->host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd p[2];
		int err = 0, r;
		socklen_t el = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r != 0 && errno == EINPROGRESS) {
			p[0] = (struct pollfd){ .fd = fd, .events = POLLOUT };
			p[1] = (struct pollfd){ .fd = fb->efd, .events = POLLIN };
			r = poll(p, 2, fb->o.connect_timeout_ms);
			if (r > 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == 0)
				r = 0;
			else
				r = -1;
		}
		if (r == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int on = 1, got = 0;
		unsigned ut = 5000;
		socklen_t gl = sizeof(got);

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
		    sizeof(ut));
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &gl) == 0)
			fb->st.nodelay = got != 0;
	}
	return fd;
}

static void
disconnect_locked(struct rtc_feedback *fb)
{
	if (fb->fd >= 0)
		close(fb->fd);
	fb->fd = -1;
	if (fb->connected)
		fb->st.disconnects++;
	fb->connected = 0;
	fb->broken = 0;
	fb->off = 0;       /* a torn line goes again whole */
	pthread_cond_broadcast(&fb->cv);
}

static void *
sender(void *arg)
{
	struct rtc_feedback *fb = arg;
	int backoff = fb->o.retry_min_ms, warned = 0;

	pthread_mutex_lock(&fb->mu);
	while (!fb->stopping) {
		if (!fb->connected) {
			int fd;

			pthread_mutex_unlock(&fb->mu);
			fd = dial(fb);
			pthread_mutex_lock(&fb->mu);
			if (fb->stopping) {
				if (fd >= 0)
					close(fd);
				break;
			}
			if (fd < 0) {
				if (!warned)
					rtc_log(fb->ctx, WARN, "feedback: no "
					    "listener at %s:%d yet; retrying",
					    fb->host, fb->port);
				warned = 1;
				pthread_mutex_unlock(&fb->mu);
				nap(fb, backoff);
				pthread_mutex_lock(&fb->mu);
				backoff = backoff * 2 > fb->o.retry_max_ms ?
				    fb->o.retry_max_ms : backoff * 2;
				continue;
			}
			fb->fd = fd;
			fb->connected = 1;
			fb->broken = 0;
			fb->off = 0;
			fb->st.connects++;
			backoff = fb->o.retry_min_ms;
			warned = 0;
			if (fb->st.lost > fb->lost_reported) {
				rtc_log(fb->ctx, WARN, "feedback: listener back; "
				    "%llu line(s) were dropped while it was away",
				    fb->st.lost - fb->lost_reported);
				fb->lost_reported = fb->st.lost;
			}
			rtc_debug(fb->ctx, RT, "feedback: connected to %s:%d, "
			    "%zu line(s) waiting", fb->host, fb->port, fb->count);
			send_pending(fb);
			pthread_cond_broadcast(&fb->cv);
			continue;
		}
		if (fb->broken) {
			disconnect_locked(fb);
			continue;
		}
		{
			struct pollfd p[2];
			int fd = fb->fd, r;
			uint64_t v;

			p[0] = (struct pollfd){ .fd = fd, .events = POLLIN |
			    POLLRDHUP | (fb->count > 0 ? POLLOUT : 0) };
			p[1] = (struct pollfd){ .fd = fb->efd, .events = POLLIN };
			pthread_mutex_unlock(&fb->mu);
			r = poll(p, 2, 1000);
			pthread_mutex_lock(&fb->mu);
			if (r <= 0)
				continue;
			if (p[1].revents & POLLIN) {
				if (read(fb->efd, &v, sizeof(v)) < 0)
					v = 0;
			}
			if (p[0].revents & (POLLIN | POLLRDHUP)) {
				char junk[4096];
				ssize_t n = recv(fd, junk, sizeof(junk),
				    MSG_DONTWAIT);

				/* the listener talks back: ignored; EOF: gone */
				if (n == 0 || (n < 0 && errno != EAGAIN &&
				    errno != EINTR)) {
					disconnect_locked(fb);
					continue;
				}
			}
			if (p[0].revents & (POLLERR | POLLHUP)) {
				disconnect_locked(fb);
				continue;
			}
			if (p[0].revents & POLLOUT)
				send_pending(fb);
		}
	}
	if (fb->connected || fb->fd >= 0)
		disconnect_locked(fb);
	pthread_mutex_unlock(&fb->mu);
	return NULL;
}

/* ---- public ----------------------------------------------------------- */

int
rtc_feedback_open(struct rtc_ctx *ctx, const struct rtc_feedback_opts *o,
    struct rtc_feedback **out, char **cause)
{
	struct rtc_feedback *fb;
	pthread_condattr_t ca;
	int r;

	fb = calloc(1, sizeof(*fb));
	if (fb == NULL)
		return RTC_ERR_NOMEM;
	fb->ctx = ctx;
	fb->fd = fb->efd = -1;
	if (o != NULL)
		fb->o = *o;
	else
		rtc_feedback_opts_init(&fb->o);
	pthread_mutex_init(&fb->mu, NULL);
	pthread_mutex_init(&fb->wmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fb->cv, &ca);
	pthread_condattr_destroy(&ca);
	fb->o.tcp = NULL;
	fb->o.files_dir = NULL;
	if (fb->o.backlog < 1 || fb->o.backlog > 1000000 ||
	    fb->o.connect_timeout_ms < 1 || fb->o.retry_min_ms < 1 ||
	    fb->o.retry_max_ms < fb->o.retry_min_ms) {
		rtc_cause_set(cause, "feedback: invalid options");
		r = RTC_ERR_INVAL;
		goto fail;
	}
	fb->enc = rtc_fb_encoder_new();
	if (fb->enc == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if (o != NULL && o->files_dir != NULL) {
		r = rtc_fs_mkdir_p(o->files_dir, 0755, cause);
		if (r != RTC_OK)
			goto fail;
		fb->files_dir = strdup(o->files_dir);
		fb->pathcap = strlen(o->files_dir) + 64;
		fb->path = malloc(fb->pathcap);
		if (fb->files_dir == NULL || fb->path == NULL) {
			r = RTC_ERR_NOMEM;
			goto fail;
		}
	}
	if (o != NULL && o->tcp != NULL) {
		r = rtc_feedback_parse_url(o->tcp, fb->host, sizeof(fb->host),
		    &fb->port, cause);
		if (r != RTC_OK)
			goto fail;
		fb->tcp = 1;
		fb->cap = fb->o.backlog;
		fb->ring = calloc(fb->cap, sizeof(*fb->ring));
		fb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fb->ring == NULL || fb->efd < 0) {
			r = RTC_ERR_NOMEM;
			goto fail;
		}
		if (pthread_create(&fb->th, NULL, sender, fb) != 0) {
			rtc_cause_set(cause, "feedback: cannot start a thread");
			r = RTC_ERR_IO;
			goto fail;
		}
		fb->th_started = 1;
	}
	*out = fb;
	return RTC_OK;
fail:
	rtc_feedback_free(fb);
	return r;
}

int
rtc_feedback_write(struct rtc_feedback *fb, const struct rtc_fb_record *r,
    char **cause)
{
	int64_t t0 = rtc_clock_mono_ns(), dt;
	const char *line;
	size_t len;
	int ret = RTC_OK, e;

	pthread_mutex_lock(&fb->wmu);
	e = rtc_fb_encode(fb->enc, r, &line, &len);
	if (e != RTC_OK) {
		rtc_cause_set(cause, "feedback: cannot encode run %d volume %d: "
		    "%s", r->run, r->vol, rtc_strerror(e));
		pthread_mutex_unlock(&fb->wmu);
		return e;
	}
	if (fb->tcp) {
		pthread_mutex_lock(&fb->mu);
		if (fb->connected && !fb->broken && peer_closed(fb->fd)) {
			fb->broken = 1;
			wake(fb);
		}
		if (enqueue(fb, line, len + 1) == RTC_OK) {
			if (fb->connected && !fb->broken) {
				send_pending(fb);
				if (fb->count > 0)
					wake(fb);   /* thread: wait for POLLOUT */
			}
		} else {
			fb->st.lost++;
		}
		pthread_mutex_unlock(&fb->mu);
	}
	if (fb->files_dir != NULL) {
		snprintf(fb->path, fb->pathcap, "%s/run%d_TR%d.json",
		    fb->files_dir, r->run, r->vol);
		e = rtc_fs_write_atomic(fb->path, line, len + 1, 0644,
		    fb->o.fsync_files, cause);
		pthread_mutex_lock(&fb->mu);
		if (e == RTC_OK)
			fb->st.files++;
		else
			fb->st.file_errors++;
		pthread_mutex_unlock(&fb->mu);
		if (e != RTC_OK)
			ret = RTC_ERR_IO;
	}
	dt = rtc_clock_mono_ns() - t0;
	pthread_mutex_lock(&fb->mu);
	fb->st.lines++;
	if (dt > fb->st.max_write_ns)
		fb->st.max_write_ns = dt;
	pthread_mutex_unlock(&fb->mu);
	pthread_mutex_unlock(&fb->wmu);
	return ret;
}

int
rtc_feedback_flush(struct rtc_feedback *fb, int timeout_ms)
{
	int64_t deadline = rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000;
	int ret = RTC_OK;

	if (!fb->tcp)
		return RTC_OK;
	pthread_mutex_lock(&fb->mu);
	while (fb->count > 0) {
		struct timespec ts;

		if (rtc_clock_mono_ns() >= deadline) {
			ret = RTC_ERR_TIMEOUT;
			break;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000LL);
		ts.tv_nsec = (long)(deadline % 1000000000LL);
		pthread_cond_timedwait(&fb->cv, &fb->mu, &ts);
	}
	pthread_mutex_unlock(&fb->mu);
	return ret;
}

void
rtc_feedback_get_stats(struct rtc_feedback *fb, struct rtc_feedback_stats *st)
{
	pthread_mutex_lock(&fb->mu);
	*st = fb->st;
	st->backlog = fb->count;
	st->connected = fb->connected && !fb->broken;
	pthread_mutex_unlock(&fb->mu);
}

void
rtc_feedback_free(struct rtc_feedback *fb)
{
	size_t i;

	if (fb == NULL)
		return;
	if (fb->th_started) {
		pthread_mutex_lock(&fb->mu);
		fb->stopping = 1;
		wake(fb);
		pthread_mutex_unlock(&fb->mu);
		pthread_join(fb->th, NULL);
	}
	if (fb->count > 0)
		rtc_log(fb->ctx, WARN, "feedback: %zu line(s) never reached "
		    "%s:%d", fb->count, fb->host, fb->port);
	if (fb->fd >= 0)
		close(fb->fd);
	if (fb->efd >= 0)
		close(fb->efd);
	for (i = 0; fb->ring != NULL && i < fb->cap; i++)
		free(fb->ring[i].buf);
	free(fb->ring);
	rtc_fb_encoder_free(fb->enc);
	free(fb->files_dir);
	free(fb->path);
	pthread_cond_destroy(&fb->cv);
	pthread_mutex_destroy(&fb->mu);
	pthread_mutex_destroy(&fb->wmu);
	free(fb);
}

/*
 * proto: framing, the version check, peer credentials and the dispatch
 * table walk. Decoding never trusts the length prefix beyond the cap and
 * parses with jansson (JSON_REJECT_DUPLICATES, exact length), so a peer can
 * neither make us allocate without bound nor smuggle trailing bytes.
 */
#include "rtc_build.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "proto.h"

int
rtc_proto_encode(json_t *msg, struct rtc_buf *out, char **cause)
{
	unsigned char hdr[4];
	char *s;
	size_t n;
	int r;

	s = json_dumps(msg, JSON_COMPACT);
	if (s == NULL) {
		rtc_cause_set(cause, "cannot encode a message");
		return RTC_ERR_NOMEM;
	}
	n = strlen(s);
	if (n > RTC_PROTO_MAX_MSG) {
		rtc_cause_set(cause, "message of %zu bytes is past the %u-byte cap",
		    n, RTC_PROTO_MAX_MSG);
		free(s);
		return RTC_ERR_TOO_BIG;
	}
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	r = rtc_buf_append(out, hdr, 4);
	if (r == RTC_OK)
		r = rtc_buf_append(out, s, n);
	free(s);
	if (r != RTC_OK)
		rtc_cause_set(cause, "cannot queue a message: %s", rtc_strerror(r));
	return r;
}

int
rtc_proto_decode(struct rtc_buf *in, json_t **msg, char **cause)
{
	const unsigned char *p = (const unsigned char *)in->data;
	json_error_t jerr;
	json_t *m;
	uint32_t n;

	if (in->len < 4)
		return RTC_ERR_AGAIN;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    (uint32_t)p[3];
	if (n > RTC_PROTO_MAX_MSG) {
		rtc_cause_set(cause, "message of %u bytes is past the %u-byte cap",
		    (unsigned)n, RTC_PROTO_MAX_MSG);
		return RTC_ERR_TOO_BIG;
	}
	if (in->len - 4 < n)
		return RTC_ERR_AGAIN;
	m = json_loadb(in->data + 4, n, JSON_REJECT_DUPLICATES, &jerr);
	if (m == NULL || !json_is_object(m)) {
		rtc_cause_set(cause, "malformed message: %s",
		    m == NULL ? jerr.text : "not a JSON object");
		json_decref(m);
		return RTC_ERR_FORMAT;
	}
	rtc_buf_consume(in, 4 + (size_t)n);
	*msg = m;
	return RTC_OK;
}

/* RET: ms left before deadline (-1: none), or 0 when it has passed. */
static int
left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline == 0)
		return -1;
	left = deadline - rtc_clock_mono_ns();
	return left <= 0 ? 0 : (int)(left / 1000000) + 1;
}

static int
wait_fd(int fd, short ev, int64_t deadline, char **cause)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int r, ms;

	for (;;) {
		ms = left_ms(deadline);
		if (ms == 0) {
			rtc_cause_set(cause, "no answer from the daemon in time");
			return RTC_ERR_TIMEOUT;
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return RTC_OK;
		if (r < 0 && errno == EINTR) {
			/* a signal we handle (SIGINT, SIGTERM): give up waiting */
			rtc_cause_set(cause, "interrupted");
			return RTC_ERR_CANCELLED;
		}
		if (r < 0) {
			rtc_cause_set(cause, "poll: %s", strerror(errno));
			return RTC_ERR_IO;
		}
	}
}

int
rtc_proto_send(int fd, json_t *msg, int timeout_ms, char **cause)
{
	struct rtc_buf b;
	int64_t deadline;
	size_t off = 0;
	ssize_t w;
	int r;

	deadline = timeout_ms > 0 ?
	    rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000 : 0;
	rtc_buf_init(&b, RTC_PROTO_MAX_MSG + 4);
	r = rtc_proto_encode(msg, &b, cause);
	while (r == RTC_OK && off < b.len) {
		w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(fd, POLLOUT, deadline, cause);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		rtc_cause_set(cause, "the daemon closed the connection");
		r = RTC_ERR_UNAVAILABLE;
	}
	rtc_buf_free(&b);
	return r;
}

int
rtc_proto_recv(int fd, json_t **msg, int timeout_ms, char **cause)
{
	struct rtc_buf b;
	char chunk[65536];
	int64_t deadline;
	ssize_t n;
	int r;

	deadline = timeout_ms > 0 ?
	    rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000 : 0;
	rtc_buf_init(&b, RTC_PROTO_MAX_MSG + 4);
	for (;;) {
		r = rtc_proto_decode(&b, msg, cause);
		if (r != RTC_ERR_AGAIN)
			break;
		n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n > 0) {
			r = rtc_buf_append(&b, chunk, (size_t)n);
			if (r != RTC_OK) {
				rtc_cause_set(cause, "message too large");
				break;
			}
			continue;
		}
		if (n == 0) {
			rtc_cause_set(cause, "the daemon closed the connection");
			r = RTC_ERR_UNAVAILABLE;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			r = wait_fd(fd, POLLIN, deadline, cause);
			if (r != RTC_OK)
				break;
			continue;
		}
		{
			int e = errno;

			/* the daemon went away (killed, restarted) */
			r = e == ECONNRESET ? RTC_ERR_UNAVAILABLE : RTC_ERR_IO;
			rtc_cause_set(cause, "%s", e == ECONNRESET ?
			    "the daemon closed the connection" : strerror(e));
		}
		break;
	}
	rtc_buf_free(&b);
	return r;
}

static json_t *
with_version(void)
{
	json_t *m = json_object();

	if (m != NULL && json_object_set_new(m, "v",
	    json_integer(RTC_PROTO_VERSION)) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

json_t *
rtc_proto_request(const char *op, json_t *args)
{
	json_t *m = with_version();

	if (args == NULL)
		args = json_object();
	if (m == NULL || args == NULL ||
	    json_object_set_new(m, "op", json_string(op)) != 0 ||
	    json_object_set(m, "args", args) != 0) {
		json_decref(m);
		m = NULL;
	}
	json_decref(args);
	return m;
}

json_t *
rtc_proto_reply_ok(json_t *result)
{
	json_t *m = with_version();

	if (result == NULL)
		result = json_object();
	if (m == NULL || result == NULL ||
	    json_object_set_new(m, "ok", json_true()) != 0 ||
	    json_object_set(m, "result", result) != 0) {
		json_decref(m);
		m = NULL;
	}
	json_decref(result);
	return m;
}

json_t *
rtc_proto_reply_error(int err, const char *message)
{
	json_t *m = with_version();

	if (m == NULL)
		return NULL;
	if (err >= 0 || err <= RTC_ERR__LAST)
		err = RTC_ERR_INTERNAL;
	if (json_object_set_new(m, "ok", json_false()) != 0 ||
	    json_object_set_new(m, "error", json_pack("{s:i,s:s}", "code", err,
	    "message", message != NULL ? message : rtc_strerror(err))) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

int
rtc_proto_check_version(json_t *msg, char **cause)
{
	json_t *v = json_object_get(msg, "v");

	if (!json_is_integer(v)) {
		rtc_cause_set(cause, "message without a protocol version");
		return RTC_ERR_PROTO;
	}
	if (json_integer_value(v) != RTC_PROTO_VERSION) {
		rtc_cause_set(cause, "protocol version %lld, this side speaks %d: "
		    "rtc and rtcd come from different releases; stop the old "
		    "rtcd (kill it by the pid in its rtcd.pid) and retry",
		    (long long)json_integer_value(v), RTC_PROTO_VERSION);
		return RTC_ERR_PROTO;
	}
	return RTC_OK;
}

int
rtc_proto_reply_parse(json_t *reply, json_t **result, char **cause)
{
	json_t *ok, *err, *code, *msg;
	long long c;
	int r;

	if ((r = rtc_proto_check_version(reply, cause)) != RTC_OK)
		return r;
	ok = json_object_get(reply, "ok");
	if (json_is_true(ok)) {
		json_t *res = json_object_get(reply, "result");

		if (!json_is_object(res)) {
			rtc_cause_set(cause, "reply without a result object");
			return RTC_ERR_PROTO;
		}
		*result = res;
		return RTC_OK;
	}
	err = json_object_get(reply, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	if (!json_is_false(ok) || !json_is_integer(code) || !json_is_string(msg)) {
		rtc_cause_set(cause, "malformed reply from the daemon");
		return RTC_ERR_PROTO;
	}
	c = json_integer_value(code);
	if (c >= 0 || c <= RTC_ERR__LAST)
		c = RTC_ERR_INTERNAL;
	rtc_cause_set(cause, "%s", json_string_value(msg));
	return (int)c;
}

int
rtc_proto_peer_cred(int fd, uid_t *uid, pid_t *pid, char **cause)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr)) {
		rtc_cause_set(cause, "SO_PEERCRED: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	*uid = cr.uid;
	if (pid != NULL)
		*pid = cr.pid;
	return RTC_OK;
}

int
rtc_proto_peer_allowed(int fd, char **cause)
{
	uid_t uid;
	int r;

	if ((r = rtc_proto_peer_cred(fd, &uid, NULL, cause)) != RTC_OK)
		return r;
	if (uid != geteuid()) {
		rtc_cause_set(cause, "uid %lu may not use this daemon (owner %lu)",
		    (unsigned long)uid, (unsigned long)geteuid());
		return RTC_ERR_PERM;
	}
	return RTC_OK;
}

int
rtc_proto_dispatch(const struct rtc_proto_handler *table, void *arg,
    void *conn, json_t *request, json_t **reply)
{
	const char *op;
	json_t *args, *result = NULL;
	char *cause = NULL;
	int i, r;

	r = rtc_proto_check_version(request, &cause);
	if (r != RTC_OK)
		goto fail;
	op = json_string_value(json_object_get(request, "op"));
	args = json_object_get(request, "args");
	if (op == NULL || strlen(op) > RTC_PROTO_MAX_OP) {
		rtc_cause_set(&cause, "request without a valid \"op\"");
		r = RTC_ERR_PROTO;
		goto fail;
	}
	if (args != NULL && !json_is_object(args)) {
		rtc_cause_set(&cause, "\"args\" must be an object");
		r = RTC_ERR_PROTO;
		goto fail;
	}
	for (i = 0; table[i].op != NULL; i++)
		if (strcmp(table[i].op, op) == 0)
			break;
	if (table[i].op == NULL) {
		rtc_cause_set(&cause, "unknown request '%s'", op);
		r = RTC_ERR_UNSUPPORTED;
		goto fail;
	}
	if (args == NULL)
		args = json_object();
	else
		json_incref(args);
	r = table[i].fn(arg, conn, args, &result, &cause);
	json_decref(args);
	if (r == RTC_PROTO_DEFERRED) {
		json_decref(result);
		free(cause);
		return RTC_PROTO_DEFERRED;
	}
	if (r == RTC_OK) {
		*reply = rtc_proto_reply_ok(result);
		free(cause);
		return RTC_OK;
	}
	json_decref(result);
fail:
	*reply = rtc_proto_reply_error(r, cause);
	free(cause);
	return RTC_OK;
}

int
rtc_proto_connect(const char *path, int *fd, char **cause)
{
	struct sockaddr_un sa;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		rtc_cause_set(cause, "%s: path too long for a socket (%zu bytes at "
		    "most): set RTC_STATE_DIR to a shorter directory", path,
		    sizeof(sa.sun_path) - 1);
		return RTC_ERR_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rtc_cause_set(cause, "socket: %s", strerror(errno));
		return RTC_ERR_IO;
	}
	while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		rtc_cause_set(cause, "%s: %s", path, strerror(e));
		close(s);
		return e == ENOENT || e == ECONNREFUSED ? RTC_ERR_UNAVAILABLE :
		    e == EACCES ? RTC_ERR_PERM : RTC_ERR_IO;
	}
	*fd = s;
	return RTC_OK;
}

int
rtc_proto_call(int fd, const char *op, json_t *args, int timeout_ms,
    json_t **result, char **cause)
{
	json_t *req, *reply = NULL, *res;
	int r;

	if (args != NULL)
		json_incref(args);
	req = rtc_proto_request(op, args);
	if (req == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_proto_send(fd, req, timeout_ms, cause);
	json_decref(req);
	if (r == RTC_OK)
		r = rtc_proto_recv(fd, &reply, timeout_ms, cause);
	if (r == RTC_OK)
		r = rtc_proto_reply_parse(reply, &res, cause);
	if (r == RTC_OK) {
		json_incref(res);
		*result = res;
	}
	json_decref(reply);
	return r;
}

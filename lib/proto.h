/*
 * proto: the control protocol between rtc and rtcd. Each message is a
 * 4-byte big-endian length followed by that many bytes of UTF-8 JSON (one
 * object), at most RTC_PROTO_MAX_MSG bytes. Every message carries
 * "v": RTC_PROTO_VERSION.
 *
 *   request: {"v":1, "op":"status", "args":{...}}
 *   reply:   {"v":1, "ok":true, "result":{...}}
 *            {"v":1, "ok":false, "error":{"code":-6, "message":"..."}}
 *
 * The daemon accepts a connection only from its own user (SO_PEERCRED)
 * and answers requests through one table of handlers (rtc_proto_dispatch).
 */
#ifndef RTC_PROTO_H
#define RTC_PROTO_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "buf.h"

#define RTC_PROTO_VERSION 1
#define RTC_PROTO_MAX_MSG (16u * 1024 * 1024)
#define RTC_PROTO_MAX_OP 32

/*
 * Append one framed message to out. IN: msg (not stolen). RET: RTC_OK,
 * RTC_ERR_TOO_BIG past RTC_PROTO_MAX_MSG, RTC_ERR_NOMEM.
 */
int rtc_proto_encode(json_t *msg, struct rtc_buf *out, char **cause);

/*
 * Take one whole message off the front of in (bytes as read from a
 * socket). OUT: *msg, a new reference, when one is complete; the bytes are
 * consumed. RET: RTC_OK; RTC_ERR_AGAIN when more bytes are needed;
 * RTC_ERR_TOO_BIG for a length past the cap; RTC_ERR_FORMAT for bytes
 * that are not one JSON object.
 */
int rtc_proto_decode(struct rtc_buf *in, json_t **msg, char **cause);

/* Blocking send and receive of one message on a stream socket, within
 * timeout_ms (<= 0: no limit). RET as above; RTC_ERR_UNAVAILABLE when the
 * peer closed the connection; RTC_ERR_TIMEOUT. */
int rtc_proto_send(int fd, json_t *msg, int timeout_ms, char **cause);
int rtc_proto_recv(int fd, json_t **msg, int timeout_ms, char **cause);

/* RET: new messages (NULL on memory failure). args and result are stolen
 * (NULL: an empty object). */
json_t *rtc_proto_request(const char *op, json_t *args);
json_t *rtc_proto_reply_ok(json_t *result);
json_t *rtc_proto_reply_error(int err, const char *message);

/* RET: RTC_OK when msg is an object with "v" equal to RTC_PROTO_VERSION,
 * else RTC_ERR_PROTO with *cause saying which versions differ. */
int rtc_proto_check_version(json_t *msg, char **cause);

/*
 * Read a reply. OUT: *result (borrowed from reply) on success. RET: RTC_OK,
 * or the error code the daemon sent with *cause holding its message, or
 * RTC_ERR_PROTO for a malformed reply.
 */
int rtc_proto_reply_parse(json_t *reply, json_t **result, char **cause);

/* OUT: the uid and pid of the process at the other end of a Unix socket. */
int rtc_proto_peer_cred(int fd, uid_t *uid, pid_t *pid, char **cause);

/* RET: RTC_OK when the peer runs as our effective uid, else RTC_ERR_PERM. */
int rtc_proto_peer_allowed(int fd, char **cause);

/*
 * Handlers. A handler answers now (RET RTC_OK with *result, a new
 * reference or NULL for {}, or an error with *cause) or later: RET
 * RTC_PROTO_DEFERRED means it took the connection and will reply itself.
 * conn is whatever the server passes through.
 */
#define RTC_PROTO_DEFERRED 1

typedef int (*rtc_proto_handler_fn)(void *arg, void *conn, json_t *args,
    json_t **result, char **cause);

struct rtc_proto_handler {
	const char *op;
	rtc_proto_handler_fn fn;
};

/*
 * Check a request and call the table's handler for its op (the table ends
 * with {NULL, NULL}). OUT: *reply (new reference) unless deferred.
 * RET: RTC_OK, or RTC_PROTO_DEFERRED (no reply made).
 */
int rtc_proto_dispatch(const struct rtc_proto_handler *table, void *arg,
    void *conn, json_t *request, json_t **reply);

/* Connect to the Unix socket at path. OUT: *fd (close-on-exec). RET:
 * RTC_OK, RTC_ERR_UNAVAILABLE when nobody listens or the socket is absent,
 * RTC_ERR_INVAL for a path too long for a socket address. */
int rtc_proto_connect(const char *path, int *fd, char **cause);

/* One request and its reply on fd. OUT: *result (new reference, or an
 * empty object). RET: as rtc_proto_reply_parse, or a transport error. */
int rtc_proto_call(int fd, const char *op, json_t *args, int timeout_ms,
    json_t **result, char **cause);

#endif

/*
 * check_proto: framing, version checks, replies, the dispatch table, peer
 * credentials and connecting, over real socket pairs.
 */
#include "rtc_build.h"

#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "check_common.h"
#include "error.h"
#include "proto.h"

START_TEST(test_roundtrip_in_pieces)
{
	struct rtc_buf wire, in;
	json_t *m, *got = NULL;
	size_t i;

	rtc_buf_init(&wire, 0);
	rtc_buf_init(&in, 0);
	m = rtc_proto_request("status", json_pack("{s:s}", "run", "r7"));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(rtc_proto_encode(m, &wire, NULL), RTC_OK);
	ck_assert_int_eq(rtc_proto_encode(m, &wire, NULL), RTC_OK);
	/* byte by byte: incomplete until the last byte of the first frame */
	for (i = 0; i < wire.len / 2 - 1; i++) {
		ck_assert_int_eq(rtc_buf_append(&in, wire.data + i, 1), RTC_OK);
		ck_assert_int_eq(rtc_proto_decode(&in, &got, NULL), RTC_ERR_AGAIN);
	}
	ck_assert_int_eq(rtc_buf_append(&in, wire.data + i,
	    wire.len - i), RTC_OK);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, NULL), RTC_OK);
	ck_assert(json_equal(m, got));
	json_decref(got);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, NULL), RTC_OK);
	ck_assert_str_eq(json_string_value(json_object_get(got, "op")), "status");
	ck_assert_int_eq(json_integer_value(json_object_get(got, "v")),
	    RTC_PROTO_VERSION);
	json_decref(got);
	ck_assert_uint_eq(in.len, 0);
	json_decref(m);
	rtc_buf_free(&wire);
	rtc_buf_free(&in);
}
END_TEST

START_TEST(test_decode_rejects)
{
	struct rtc_buf in;
	json_t *got = NULL;
	char *cause = NULL;
	const unsigned char huge[4] = { 0x7f, 0xff, 0xff, 0xff };
	const unsigned char hdr5[4] = { 0, 0, 0, 5 };
	const unsigned char hdr2[4] = { 0, 0, 0, 2 };
	const unsigned char hdr13[4] = { 0, 0, 0, 13 };

	rtc_buf_init(&in, 0);
	/* a length past the cap is refused before anything is allocated */
	rtc_buf_append(&in, huge, 4);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, &cause), RTC_ERR_TOO_BIG);
	ck_assert_ptr_nonnull(cause);
	rtc_buf_reset(&in);
	/* not JSON */
	rtc_buf_append(&in, hdr5, 4);
	rtc_buf_append(&in, "hello", 5);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, &cause), RTC_ERR_FORMAT);
	rtc_buf_reset(&in);
	/* JSON, but not an object */
	rtc_buf_append(&in, hdr2, 4);
	rtc_buf_append(&in, "[]", 2);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, &cause), RTC_ERR_FORMAT);
	rtc_buf_reset(&in);
	/* duplicate keys */
	rtc_buf_append(&in, hdr13, 4);
	rtc_buf_append(&in, "{\"a\":1,\"a\":2}", 13);
	ck_assert_int_eq(rtc_proto_decode(&in, &got, &cause), RTC_ERR_FORMAT);
	free(cause);
	rtc_buf_free(&in);
}
END_TEST

START_TEST(test_version_check)
{
	json_t *m = json_pack("{s:i}", "v", RTC_PROTO_VERSION + 1);
	char *cause = NULL;

	ck_assert_int_eq(rtc_proto_check_version(m, &cause), RTC_ERR_PROTO);
	ck_assert_ptr_nonnull(strstr(cause, "different releases"));
	json_decref(m);
	m = json_object();
	ck_assert_int_eq(rtc_proto_check_version(m, &cause), RTC_ERR_PROTO);
	json_decref(m);
	m = json_pack("{s:i}", "v", RTC_PROTO_VERSION);
	ck_assert_int_eq(rtc_proto_check_version(m, NULL), RTC_OK);
	json_decref(m);
	free(cause);
}
END_TEST

START_TEST(test_reply_parse)
{
	json_t *ok = rtc_proto_reply_ok(json_pack("{s:i}", "n", 3));
	json_t *err = rtc_proto_reply_error(RTC_ERR_NOT_FOUND, "no run 'r9'");
	json_t *bad = json_pack("{s:i,s:b}", "v", RTC_PROTO_VERSION, "ok", 0);
	json_t *res = NULL;
	char *cause = NULL;

	ck_assert_int_eq(rtc_proto_reply_parse(ok, &res, &cause), RTC_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "n")), 3);
	ck_assert_int_eq(rtc_proto_reply_parse(err, &res, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_str_eq(cause, "no run 'r9'");
	ck_assert_int_eq(rtc_proto_reply_parse(bad, &res, &cause), RTC_ERR_PROTO);
	json_decref(ok);
	json_decref(err);
	json_decref(bad);
	/* a code out of range becomes internal */
	err = rtc_proto_reply_error(12345, "x");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(err,
	    "error"), "code")), RTC_ERR_INTERNAL);
	json_decref(err);
	free(cause);
}
END_TEST

static int
h_echo(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)conn;
	(void)cause;
	(*(int *)arg)++;
	*result = json_deep_copy(args);
	return RTC_OK;
}

static int
h_fail(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)arg;
	(void)conn;
	(void)args;
	(void)result;
	rtc_cause_set(cause, "no such thing");
	return RTC_ERR_NOT_FOUND;
}

static int
h_later(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)arg;
	(void)args;
	(void)result;
	(void)cause;
	ck_assert_ptr_eq(conn, (void *)0x1234);
	return RTC_PROTO_DEFERRED;
}

START_TEST(test_dispatch_table)
{
	static const struct rtc_proto_handler table[] = {
		{ "echo", h_echo }, { "fail", h_fail }, { "later", h_later },
		{ NULL, NULL },
	};
	json_t *req, *reply = NULL, *res;
	char *cause = NULL;
	int calls = 0;

	req = rtc_proto_request("echo", json_pack("{s:s}", "x", "y"));
	ck_assert_int_eq(rtc_proto_dispatch(table, &calls, NULL, req, &reply),
	    RTC_OK);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(rtc_proto_reply_parse(reply, &res, NULL), RTC_OK);
	ck_assert_str_eq(json_string_value(json_object_get(res, "x")), "y");
	json_decref(req);
	json_decref(reply);

	req = rtc_proto_request("fail", NULL);
	rtc_proto_dispatch(table, &calls, NULL, req, &reply);
	ck_assert_int_eq(rtc_proto_reply_parse(reply, &res, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_str_eq(cause, "no such thing");
	json_decref(req);
	json_decref(reply);

	req = rtc_proto_request("nope", NULL);
	rtc_proto_dispatch(table, &calls, NULL, req, &reply);
	ck_assert_int_eq(rtc_proto_reply_parse(reply, &res, &cause),
	    RTC_ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cause, "unknown request 'nope'"));
	json_decref(req);
	json_decref(reply);

	/* args that are not an object, and a wrong version */
	req = json_pack("{s:i,s:s,s:i}", "v", RTC_PROTO_VERSION, "op", "echo",
	    "args", 3);
	rtc_proto_dispatch(table, &calls, NULL, req, &reply);
	ck_assert_int_eq(rtc_proto_reply_parse(reply, &res, NULL), RTC_ERR_PROTO);
	json_decref(req);
	json_decref(reply);
	req = json_pack("{s:i,s:s}", "v", 99, "op", "echo");
	rtc_proto_dispatch(table, &calls, NULL, req, &reply);
	ck_assert_int_eq(rtc_proto_reply_parse(reply, &res, NULL), RTC_ERR_PROTO);
	json_decref(req);
	json_decref(reply);
	ck_assert_int_eq(calls, 1);

	reply = NULL;
	req = rtc_proto_request("later", NULL);
	ck_assert_int_eq(rtc_proto_dispatch(table, NULL, (void *)0x1234, req,
	    &reply), RTC_PROTO_DEFERRED);
	ck_assert_ptr_null(reply);
	json_decref(req);
	free(cause);
}
END_TEST

START_TEST(test_send_recv_and_peer)
{
	int sv[2];
	json_t *m, *got = NULL;
	uid_t uid;
	pid_t pid;
	char *cause = NULL;
	char *big;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(rtc_proto_peer_cred(sv[0], &uid, &pid, NULL), RTC_OK);
	ck_assert_uint_eq(uid, geteuid());
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(rtc_proto_peer_allowed(sv[0], NULL), RTC_OK);
	/* larger than a socket buffer: sender and receiver interleave, so
	 * send from a child */
	big = malloc(300001);
	memset(big, 'x', 300000);
	big[300000] = '\0';
	m = rtc_proto_request("big", json_pack("{s:s}", "data", big));
	if (fork() == 0) {
		close(sv[1]);
		_exit(rtc_proto_send(sv[0], m, 5000, NULL) == RTC_OK ? 0 : 1);
	}
	close(sv[0]);
	ck_assert_int_eq(rtc_proto_recv(sv[1], &got, 5000, &cause), RTC_OK);
	ck_assert(json_equal(m, got));
	json_decref(got);
	/* the peer has gone */
	ck_assert_int_eq(rtc_proto_recv(sv[1], &got, 5000, &cause),
	    RTC_ERR_UNAVAILABLE);
	close(sv[1]);
	json_decref(m);
	free(big);
	free(cause);
}
END_TEST

START_TEST(test_recv_timeout)
{
	int sv[2];
	json_t *got = NULL;
	char *cause = NULL;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], "\0\0", 2), 2);  /* half a header */
	ck_assert_int_eq(rtc_proto_recv(sv[1], &got, 100, &cause),
	    RTC_ERR_TIMEOUT);
	close(sv[0]);
	close(sv[1]);
	free(cause);
}
END_TEST

START_TEST(test_connect_and_call)
{
	char *dir = check_tmpdir(), path[100], *cause = NULL;
	struct sockaddr_un sa;
	int ls, fd, cfd;
	json_t *res = NULL;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	ck_assert_int_eq(rtc_proto_connect(path, &fd, &cause),
	    RTC_ERR_UNAVAILABLE);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	if (fork() == 0) {
		json_t *req = NULL, *rep;
		int c = accept(ls, NULL, NULL);

		if (rtc_proto_recv(c, &req, 5000, NULL) != RTC_OK)
			_exit(1);
		rep = rtc_proto_reply_ok(json_pack("{s:O}", "got",
		    json_object_get(req, "op")));
		_exit(rtc_proto_send(c, rep, 5000, NULL) == RTC_OK ? 0 : 1);
	}
	ck_assert_int_eq(rtc_proto_connect(path, &cfd, &cause), RTC_OK);
	ck_assert_int_eq(rtc_proto_call(cfd, "hello", NULL, 5000, &res, &cause),
	    RTC_OK);
	ck_assert_str_eq(json_string_value(json_object_get(res, "got")), "hello");
	json_decref(res);
	close(cfd);
	close(ls);
	/* a path that does not fit a socket address */
	{
		char longp[300];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		ck_assert_int_eq(rtc_proto_connect(longp, &fd, &cause),
		    RTC_ERR_INVAL);
		ck_assert_ptr_nonnull(strstr(cause, "RTC_STATE_DIR"));
	}
	free(cause);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip_in_pieces);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_version_check);
	tcase_add_test(tc, test_reply_parse);
	tcase_add_test(tc, test_dispatch_table);
	tcase_add_test(tc, test_send_recv_and_peer);
	tcase_add_test(tc, test_recv_timeout);
	tcase_add_test(tc, test_connect_and_call);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(proto_suite)

/*
 * fuzz_proto: bytes on rtcd's control socket, as the daemon and the
 * client take them: framing (rtc_proto_decode, message after message off
 * one buffer, the way the daemon reads a connection), the version check,
 * request dispatch through a handler table (rtc_proto_dispatch), and a
 * reply as the client parses it (rtc_proto_reply_parse).
 *
 * Invariants: a decoded message is an object within the cap; decoding
 * consumes exactly its frame; encoding it again and decoding gives an
 * equal message; every request gets a well-formed reply.
 * Seeds: tests/fuzz/corpus/proto.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "proto.h"

#include "fuzz_common.h"

static int
h_echo(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)arg;
	(void)conn;
	(void)cause;
	*result = json_deep_copy(args);
	return *result != NULL ? RTC_OK : RTC_ERR_NOMEM;
}

static int
h_fail(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)arg;
	(void)conn;
	(void)result;
	rtc_cause_set(cause, "refused: %s",
	    json_string_value(json_object_get(args, "why")) ?
	    json_string_value(json_object_get(args, "why")) : "no reason");
	return RTC_ERR_INVAL;
}

static int
h_defer(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	(void)arg;
	(void)conn;
	(void)args;
	(void)cause;
	*result = json_object();
	return RTC_PROTO_DEFERRED;
}

static const struct rtc_proto_handler table[] = {
	{ "status", h_echo },
	{ "submit", h_fail },
	{ "wait", h_defer },
	{ NULL, NULL }
};

static void
reply_ok(json_t *reply)
{
	json_t *res = NULL;
	char *cause = NULL;
	int r;

	FUZZ_CHECK(reply != NULL);
	r = rtc_proto_reply_parse(reply, &res, &cause);
	FUZZ_CHECK(r == RTC_OK ? res != NULL : (r < 0 && cause != NULL));
	free(cause);
}

static void
round_trip(json_t *m)
{
	struct rtc_buf b;
	json_t *again = NULL;
	char *cause = NULL;

	rtc_buf_init(&b, RTC_PROTO_MAX_MSG + 4);
	FUZZ_CHECK(rtc_proto_encode(m, &b, &cause) == RTC_OK);
	FUZZ_CHECK(rtc_proto_decode(&b, &again, &cause) == RTC_OK);
	FUZZ_CHECK(b.len == 0);
	FUZZ_CHECK(json_equal(m, again));
	json_decref(again);
	rtc_buf_free(&b);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_buf in;
	int msgs = 0, r;

	rtc_buf_init(&in, RTC_PROTO_MAX_MSG + 4);
	if (rtc_buf_append(&in, data, size) != RTC_OK) {
		rtc_buf_free(&in);
		return 0;
	}
	for (;;) {
		json_t *m = NULL, *reply = NULL, *res = NULL;
		char *cause = NULL;
		size_t before = in.len;

		r = rtc_proto_decode(&in, &m, &cause);
		if (r != RTC_OK) {
			FUZZ_CHECK(r == RTC_ERR_AGAIN || r == RTC_ERR_TOO_BIG ||
			    r == RTC_ERR_FORMAT);
			FUZZ_CHECK(in.len == before);
			free(cause);
			break;
		}
		FUZZ_CHECK(json_is_object(m));
		FUZZ_CHECK(before - in.len >= 4 &&
		    before - in.len - 4 <= RTC_PROTO_MAX_MSG);
		round_trip(m);
		/* as a request to the daemon */
		r = rtc_proto_dispatch(table, NULL, NULL, m, &reply);
		if (r == RTC_OK) {
			reply_ok(reply);
			round_trip(reply);
			json_decref(reply);
		} else {
			FUZZ_CHECK(r == RTC_PROTO_DEFERRED);
		}
		/* as a reply to the client */
		r = rtc_proto_reply_parse(m, &res, &cause);
		FUZZ_CHECK(r == RTC_OK ? json_is_object(res) : r < 0);
		free(cause);
		json_decref(m);
		if (++msgs == 64)
			break;
	}
	rtc_buf_free(&in);
	return 0;
}

/*
 * check_http: the libcurl multi wrapper against a loopback server:
 * bodies, ranges, error bodies, connection reuse under a bounded pool,
 * cut connections, callback aborts, uploads from files, caps; and the
 * pure functions (URL redaction, retry classification).
 */
#include "rtc_build.h"

#include <fcntl.h>

#include "check_net.h"
#include "error.h"
#include "hash.h"
#include "http.h"

static struct check_net_server srv;
static char *root;

static void
put(const char *rel, const void *data, size_t n)
{
	char path[1024], dir[1024], *slash;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	ck_assert_int_eq(rtc_fs_mkdir_p(dir, 0755, NULL), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(path, data, n, 0644, 0, NULL),
	    RTC_OK);
}

static void
setup(void)
{
	char faults[1024], *big;
	const char *args[10];
	size_t i;

	root = check_tmpdir();
	put("data/hello.txt", "hello world\n", 12);
	put("data/huge.txt", "hello world\n", 12);
	big = malloc(300000);
	for (i = 0; i < 300000; i++)
		big[i] = (char)(i * 7 + 3);
	put("data/big.bin", big, 300000);
	put("data/cut.bin", big, 300000);
	free(big);
	snprintf(faults, sizeof(faults), "%s/faults.json", root);
	{
		static const char f[] = "{\"data/cut.bin\": [\"cut:1000\"], "
		    "\"data/huge.txt\": [\"bigrange\"]}";

		ck_assert_int_eq(rtc_fs_write_atomic(faults, f, strlen(f),
		    0644, 0, NULL), RTC_OK);
	}
	args[0] = "--root";
	args[1] = root;
	args[2] = "--bucket";
	args[3] = "b";
	args[4] = "--faults";
	args[5] = faults;
	args[6] = NULL;
	check_net_server_start(&srv, args);
}

static void
teardown(void)
{
	check_net_server_stop(&srv);
	rtc_fs_remove_tree(root, NULL);
	free(root);
}

static void
url(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/b/%s", srv.base, rel);
}

START_TEST(test_get_small)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char u[256], md5[65];

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/hello.txt");
	req.url = u;
	req.body_fd = -1;
	rtc_buf_init(&body, 1024);
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, NULL), RTC_OK);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(body.data, "hello world\n");
	ck_assert_int_eq(resp.content_length, 12);
	rtc_md5_hex("hello world\n", 12, md5);
	ck_assert_int_eq(strlen(resp.etag), 34);
	ck_assert(strncmp(resp.etag + 1, md5, 32) == 0);
	rtc_buf_free(&body);
	rtc_http_free(h);
	rtc_http_free(NULL);
}
END_TEST

START_TEST(test_range_206)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	const char *hdrs[] = { "Range: bytes=6-", NULL };
	char u[256];

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/hello.txt");
	req.url = u;
	req.headers = hdrs;
	req.body_fd = -1;
	rtc_buf_init(&body, 1024);
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, NULL), RTC_OK);
	ck_assert_int_eq(resp.status, 206);
	ck_assert_str_eq(body.data, "world\n");
	ck_assert_int_eq(resp.range_first, 6);
	ck_assert_int_eq(resp.range_last, 11);
	ck_assert_int_eq(resp.range_total, 12);
	rtc_buf_free(&body);
	rtc_http_free(h);
}
END_TEST

/* Numbers in response headers that no 64-bit integer holds are unknown
 * (-1), not an overflow (found by tests/fuzz/fuzz_http). */
START_TEST(test_header_numbers_too_big)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char u[256];

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/huge.txt");
	req.url = u;
	req.body_fd = -1;
	rtc_buf_init(&body, 1024);
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, NULL), RTC_OK);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(body.data, "hello world\n");
	ck_assert_int_eq(resp.range_first, -1);
	ck_assert_int_eq(resp.range_last, -1);
	ck_assert_int_eq(resp.range_total, -1);
	rtc_buf_free(&body);
	rtc_http_free(h);
}
END_TEST

struct counter {
	int done;
	int body_calls;
	int err;
	long status;
	int reused;
	long long bytes;
	char errbody[256];
	int abort_with;
};

static int
count_body(void *arg, const void *p, size_t n)
{
	struct counter *c = arg;

	(void)p;
	c->body_calls++;
	c->bytes += (long long)n;
	return c->abort_with;
}

static void
count_done(void *arg, int err, const struct rtc_http_resp *r,
    const char *errbody, size_t errlen, const char *cause)
{
	struct counter *c = arg;

	(void)cause;
	c->done++;
	c->err = err;
	c->status = r->status;
	c->reused += r->reused;
	snprintf(c->errbody, sizeof(c->errbody), "%.*s", (int)errlen, errbody);
}

static void
run_until(struct rtc_http *h, int *flag, int want)
{
	int i;

	for (i = 0; i < 500 && *flag < want; i++)
		ck_assert_int_ge(rtc_http_run(h, 50), 0);
	ck_assert_int_ge(*flag, want);
}

START_TEST(test_error_body_not_passed_to_sink)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct counter c;
	char u[256];

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/missing");
	req.url = u;
	req.body_fd = -1;
	req.on_body = count_body;
	req.on_done = count_done;
	req.arg = &c;
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, NULL), RTC_OK);
	run_until(h, &c.done, 1);
	ck_assert_int_eq(c.err, RTC_OK);
	ck_assert_int_eq(c.status, 404);
	ck_assert_int_eq(c.body_calls, 0);
	ck_assert_ptr_nonnull(strstr(c.errbody, "NoSuchKey"));
	rtc_http_free(h);
}
END_TEST

/* 40 transfers through a pool of 3 connections: all done, and most of
 * them on a reused connection. */
START_TEST(test_pool_bounded_and_reused)
{
	struct rtc_http_opts o;
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct counter c;
	char u[256];
	int i;

	memset(&c, 0, sizeof(c));
	rtc_http_opts_init(&o);
	o.max_conns = 3;
	ck_assert_int_eq(rtc_http_new(NULL, &o, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/big.bin");
	req.url = u;
	req.body_fd = -1;
	req.on_body = count_body;
	req.on_done = count_done;
	req.arg = &c;
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(rtc_http_start(h, &req, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_http_active(h), 40);
	run_until(h, &c.done, 40);
	ck_assert_int_eq(c.err, RTC_OK);
	ck_assert_int_eq(c.bytes, 40LL * 300000);
	ck_assert_int_ge(c.reused, 37);
	ck_assert_int_eq(rtc_http_active(h), 0);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_cut_connection_is_retryable)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct counter c;
	char u[256];

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/cut.bin");
	req.url = u;
	req.body_fd = -1;
	req.on_body = count_body;
	req.on_done = count_done;
	req.arg = &c;
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, NULL), RTC_OK);
	run_until(h, &c.done, 1);
	ck_assert_int_ne(c.err, RTC_OK);
	ck_assert(rtc_http_retryable(c.err, c.status));
	ck_assert_int_lt(c.bytes, 300000);
	/* the next try gets it all */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, NULL), RTC_OK);
	run_until(h, &c.done, 1);
	ck_assert_int_eq(c.err, RTC_OK);
	ck_assert_int_eq(c.bytes, 300000);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_callback_abort)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct counter c;
	char u[256];

	memset(&c, 0, sizeof(c));
	c.abort_with = RTC_ERR_IO;
	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/big.bin");
	req.url = u;
	req.body_fd = -1;
	req.on_body = count_body;
	req.on_done = count_done;
	req.arg = &c;
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, NULL), RTC_OK);
	run_until(h, &c.done, 1);
	ck_assert_int_eq(c.err, RTC_ERR_IO);
	ck_assert_int_eq(c.body_calls, 1);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_put_from_file_region)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char u[256], path[1024], md5[65];
	char data[5000];
	int fd, i;

	for (i = 0; i < 5000; i++)
		data[i] = (char)i;
	snprintf(path, sizeof(path), "%s/up.bin", root);
	ck_assert_int_eq(rtc_fs_write_atomic(path, data, sizeof(data), 0644, 0,
	    NULL), RTC_OK);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	url(u, sizeof(u), "up/x");
	req.url = u;
	req.body_fd = fd;
	req.body_off = 1000;
	req.body_fd_len = 3000;
	rtc_buf_init(&body, 1024);
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, NULL), RTC_OK);
	ck_assert_int_eq(resp.status, 200);
	rtc_md5_hex(data + 1000, 3000, md5);
	ck_assert(strncmp(resp.etag + 1, md5, 32) == 0);
	/* a memory body */
	req.body_fd = -1;
	req.body = "abc";
	req.body_len = 3;
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, NULL), RTC_OK);
	rtc_md5_hex("abc", 3, md5);
	ck_assert(strncmp(resp.etag + 1, md5, 32) == 0);
	close(fd);
	rtc_buf_free(&body);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_body_cap)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char u[256], *cause = NULL;

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	url(u, sizeof(u), "data/big.bin");
	req.url = u;
	req.body_fd = -1;
	rtc_buf_init(&body, 1000);
	ck_assert_int_eq(rtc_http_do(h, &req, &body, &resp, &cause),
	    RTC_ERR_TOO_BIG);
	ck_assert_int_le(body.len, 1000);
	free(cause);
	rtc_buf_free(&body);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_bad_requests_and_refused)
{
	struct rtc_http *h = NULL;
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	const char *bad[] = { "X-A: 1\r\nX-B: 2", NULL };
	char *cause = NULL;
	int r;

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = "http://127.0.0.1:1/x";
	req.headers = bad;
	req.body_fd = -1;
	rtc_buf_init(&body, 1000);
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, &cause), RTC_ERR_INVAL);
	req.headers = NULL;
	req.url = "http://127.0.0.1:1/a b";
	ck_assert_int_eq(rtc_http_start(h, &req, NULL, &cause), RTC_ERR_INVAL);
	req.url = "file:///etc/passwd";
	r = rtc_http_do(h, &req, &body, &resp, &cause);
	ck_assert_int_ne(r, RTC_OK);
	ck_assert_int_eq(body.len, 0);
	req.url = "http://127.0.0.1:1/x";
	r = rtc_http_do(h, &req, &body, &resp, &cause);
	ck_assert_int_eq(r, RTC_ERR_NET);
	ck_assert(rtc_http_retryable(r, 0));
	free(cause);
	rtc_buf_free(&body);
	rtc_http_free(h);
}
END_TEST

START_TEST(test_redact_url)
{
	char out[512];

	ck_assert_str_eq(rtc_http_redact_url("https://b.s3.amazonaws.com/k?"
	    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2013"
	    "&X-Amz-Signature=abcdef&x-amz-security-token=tok&versionId=7",
	    out, sizeof(out)),
	    "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"
	    "&x-amz-security-token=REDACTED&versionId=7");
	ck_assert_str_eq(rtc_http_redact_url("http://user:pw@h:1/p?a=1", out,
	    sizeof(out)), "http://REDACTED@h:1/p?a=1");
	/* nothing of a password holding '@' (found by tests/fuzz/fuzz_http) */
	ck_assert_str_eq(rtc_http_redact_url("http://user:p@ss@h/p", out,
	    sizeof(out)), "http://REDACTED@h/p");
	/* another URL in the query is not the scheme's (tests/fuzz/fuzz_http) */
	ck_assert_str_eq(rtc_http_redact_url("h/k?X-Amz-Signature=s&u=http://"
	    "a:b@x/", out, sizeof(out)), "h/k?X-Amz-Signature=REDACTED&u=http://"
	    "a:b@x/");
	ck_assert_str_eq(rtc_http_redact_url("http://h/p", out, sizeof(out)),
	    "http://h/p");
	ck_assert_str_eq(rtc_http_redact_url("http://h/p?X-Amz-Signature=1#f",
	    out, sizeof(out)), "http://h/p?X-Amz-Signature=REDACTED#f");
	rtc_http_redact_url("http://h/very/long/path", out, 8);
	ck_assert_str_eq(out, "http://");
}
END_TEST

START_TEST(test_retryable)
{
	ck_assert(rtc_http_retryable(RTC_OK, 503));
	ck_assert(rtc_http_retryable(RTC_OK, 500));
	ck_assert(rtc_http_retryable(RTC_OK, 429));
	ck_assert(rtc_http_retryable(RTC_OK, 408));
	ck_assert(!rtc_http_retryable(RTC_OK, 501));
	ck_assert(!rtc_http_retryable(RTC_OK, 404));
	ck_assert(!rtc_http_retryable(RTC_OK, 403));
	ck_assert(!rtc_http_retryable(RTC_OK, 200));
	ck_assert(rtc_http_retryable(RTC_ERR_TIMEOUT, 0));
	ck_assert(rtc_http_retryable(RTC_ERR_TRUNCATED, 200));
	ck_assert(!rtc_http_retryable(RTC_ERR_IO, 0));
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *live = tcase_create("live");
	TCase *pure = tcase_create("pure");

	tcase_add_checked_fixture(live, setup, teardown);
	tcase_set_timeout(live, 30);
	tcase_add_test(live, test_get_small);
	tcase_add_test(live, test_range_206);
	tcase_add_test(live, test_header_numbers_too_big);
	tcase_add_test(live, test_error_body_not_passed_to_sink);
	tcase_add_test(live, test_pool_bounded_and_reused);
	tcase_add_test(live, test_cut_connection_is_retryable);
	tcase_add_test(live, test_callback_abort);
	tcase_add_test(live, test_put_from_file_region);
	tcase_add_test(live, test_body_cap);
	tcase_add_test(live, test_bad_requests_and_refused);
	tcase_add_test(pure, test_redact_url);
	tcase_add_test(pure, test_retryable);
	suite_add_tcase(s, live);
	suite_add_tcase(s, pure);
	return s;
}

RTC_CHECK_MAIN(http_suite)

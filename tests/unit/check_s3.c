/*
 * check_s3: listing XML, error bodies, ETags, addressing and signing of
 * requests; and against the loopback fault server: paginated listings
 * whose tokens hold '+', '/' and '=', downloads through cut connections,
 * 503 bursts, short bodies, HTML and JSON error pages sent with 200,
 * checksum mismatches, resumes across runs, unsafe destinations; PUT and
 * multipart uploads with part retries, aborts and completion errors.
 */
#include "rtc_build.h"

#include <sys/stat.h>

#include "check_net.h"
#include "creds.h"
#include "error.h"
#include "hash.h"
#include "s3.h"
#include "s3_int.h"

static struct check_net_server srv;
static char *root, *out_dir, logpath[1024], faultpath[1024];
static char bigdata[200000];

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
start_server(const char *faults, const char *page)
{
	const char *args[16];
	int n = 0;

	if (faults != NULL)
		ck_assert_int_eq(rtc_fs_write_atomic(faultpath, faults,
		    strlen(faults), 0644, 0, NULL), RTC_OK);
	args[n++] = "--root";
	args[n++] = root;
	args[n++] = "--bucket";
	args[n++] = "b";
	args[n++] = "--log";
	args[n++] = logpath;
	if (faults != NULL) {
		args[n++] = "--faults";
		args[n++] = faultpath;
	}
	if (page != NULL) {
		args[n++] = "--page";
		args[n++] = page;
	}
	args[n++] = "--extra-key";
	args[n++] = "evil/../../escape";
	args[n] = NULL;
	check_net_server_start(&srv, args);
}

static void
setup(void)
{
	char name[64];
	size_t i;
	char *base = check_tmpdir();

	root = malloc(1024);
	out_dir = malloc(1024);
	snprintf(root, 1024, "%s/srv", base);
	snprintf(out_dir, 1024, "%s/out", base);
	snprintf(logpath, sizeof(logpath), "%s/requests.log", base);
	snprintf(faultpath, sizeof(faultpath), "%s/faults.json", base);
	free(base);
	for (i = 0; i < sizeof(bigdata); i++)
		bigdata[i] = (char)((i * 131) ^ (i >> 7));
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "ds/sub-%02zu/f %zu+=.txt", i, i);
		put(name, name, strlen(name));
	}
	put("ds/big.bin", bigdata, sizeof(bigdata));
	put("ds/cut.bin", bigdata, sizeof(bigdata));
	put("ds/burst.bin", bigdata, 5000);
	put("ds/html.json", "{\"a\": 1}", 8);
	put("ds/jsonerr.tsv", "a\tb\n1\t2\n", 8);
	put("ds/short.bin", bigdata, 3000);
	put("ds/dead.bin", "x", 1);
}

static void
teardown(void)
{
	char *base = strdup(root);

	check_net_server_stop(&srv);
	*strrchr(base, '/') = '\0';
	rtc_fs_remove_tree(base, NULL);
	free(base);
	free(root);
	free(out_dir);
}

static struct rtc_s3 *
client(struct rtc_http **h, struct rtc_creds **c, int signed_)
{
	struct rtc_s3_opts o;
	struct rtc_s3 *s3 = NULL;

	memset(&o, 0, sizeof(o));
	o.endpoint = srv.base;
	o.backoff_ms = 10;
	o.backoff_max_ms = 40;
	ck_assert_int_eq(rtc_http_new(NULL, NULL, h, NULL), RTC_OK);
	*c = signed_ ? rtc_creds_new("AKIDTEST", "secret", NULL, "us-east-1") :
	    rtc_creds_new(NULL, NULL, NULL, NULL);
	ck_assert_int_eq(rtc_s3_new(NULL, *h, *c, &o, &s3, NULL), RTC_OK);
	return s3;
}

static void
client_free(struct rtc_s3 *s3, struct rtc_http *h, struct rtc_creds *c)
{
	rtc_s3_free(s3);
	rtc_http_free(h);
	rtc_creds_free(c);
}

static int
count_in_log(const char *needle)
{
	char *text = NULL, *p;
	size_t len;
	int n = 0;

	if (rtc_fs_read_file(logpath, 1 << 24, &text, &len, NULL) != RTC_OK)
		return 0;
	for (p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* ---- pure ---- */

static const char page_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>b</Name><Prefix>ds/</Prefix><KeyCount>2</KeyCount>"
	"<IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>+/abc=</NextContinuationToken>"
	"<Contents><Key>ds/a &amp; b.txt</Key><LastModified>2024-01-01T00:00:00"
	".000Z</LastModified><ETag>&quot;0123456789abcdef0123456789ABCDEF&quot;"
	"</ETag><Size>12</Size></Contents>"
	"<Contents><Key>ds/big</Key><ETag>\"d41d8cd98f00b204e9800998ecf8427e-3"
	"\"</ETag><Size>123456789012</Size></Contents>"
	"<CommonPrefixes><Prefix>ds/sub/</Prefix></CommonPrefixes>"
	"</ListBucketResult>";

START_TEST(test_page_parse)
{
	struct rtc_s3_page p;
	char md5[33];

	ck_assert_int_eq(rtc_s3_page_parse(page_xml, strlen(page_xml), &p,
	    NULL), RTC_OK);
	ck_assert_int_eq(p.n, 2);
	ck_assert_int_eq(p.truncated, 1);
	ck_assert_str_eq(p.next_token, "+/abc=");
	ck_assert_str_eq(p.objs[0].key, "ds/a & b.txt");
	ck_assert_int_eq(p.objs[0].size, 12);
	ck_assert_str_eq(p.objs[0].etag, "0123456789abcdef0123456789ABCDEF");
	ck_assert(rtc_s3_etag_md5(p.objs[0].etag, md5));
	ck_assert_str_eq(md5, "0123456789abcdef0123456789abcdef");
	ck_assert_int_eq(p.objs[1].size, 123456789012LL);
	ck_assert(!rtc_s3_etag_md5(p.objs[1].etag, md5));
	ck_assert_int_eq(p.nprefixes, 1);
	ck_assert_str_eq(p.prefixes[0], "ds/sub/");
	rtc_s3_page_free(&p);
	rtc_s3_page_free(NULL);
}
END_TEST

START_TEST(test_page_parse_rejects)
{
	static const char *bad[] = {
		"<ListBucketResult><Contents><Key>a</Key><Size>x</Size>"
		"</Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Size>1</Size></Contents>"
		"</ListBucketResult>",
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"</ListBucketResult>",
		"<Error><Code>AccessDenied</Code></Error>",
		"<ListBucketResult><Contents>",
		"",
		"<ListBucketResult><Contents><Key>a</Key><Size>-1</Size>"
		"</Contents></ListBucketResult>",
	};
	struct rtc_s3_page p;
	char *cause = NULL, *huge;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(rtc_s3_page_parse(bad[i], strlen(bad[i]), &p,
		    &cause) == RTC_ERR_FORMAT, "case %zu", i);
		ck_assert_ptr_nonnull(cause);
	}
	free(cause);
	cause = NULL;
	huge = calloc(1, RTC_S3_PAGE_MAX + 2);
	memset(huge, ' ', RTC_S3_PAGE_MAX + 1);
	ck_assert_int_eq(rtc_s3_page_parse(huge, RTC_S3_PAGE_MAX + 1, &p,
	    &cause), RTC_ERR_TOO_BIG);
	free(huge);
	free(cause);
}
END_TEST

START_TEST(test_key_too_long)
{
	struct rtc_buf b;
	struct rtc_s3_page p;
	char *cause = NULL;
	int i;

	rtc_buf_init(&b, 0);
	rtc_buf_append_str(&b, "<ListBucketResult><Contents><Key>");
	for (i = 0; i < RTC_S3_KEY_MAX + 1; i++)
		rtc_buf_append_str(&b, "k");
	rtc_buf_append_str(&b, "</Key><Size>1</Size></Contents>"
	    "</ListBucketResult>");
	ck_assert_int_eq(rtc_s3_page_parse(b.data, b.len, &p, &cause),
	    RTC_ERR_TOO_BIG);
	free(cause);
	rtc_buf_free(&b);
}
END_TEST

START_TEST(test_error_parse_and_status)
{
	static const char body[] = "<?xml version=\"1.0\"?><Error><Code>"
	    "NoSuchKey</Code><Message>The specified key does not exist."
	    "</Message></Error>";
	char code[64], msg[128], *cause = NULL;

	ck_assert(rtc_s3_error_parse(body, strlen(body), code, sizeof(code),
	    msg, sizeof(msg)));
	ck_assert_str_eq(code, "NoSuchKey");
	ck_assert_str_eq(msg, "The specified key does not exist.");
	ck_assert(!rtc_s3_error_parse("<html/>", 7, code, sizeof(code), msg,
	    sizeof(msg)));
	ck_assert(!rtc_s3_error_parse("not xml", 7, code, sizeof(code), msg,
	    sizeof(msg)));
	ck_assert_int_eq(rtc_s3_status_error(404, "GET x", body, strlen(body),
	    &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "NoSuchKey"));
	ck_assert_int_eq(rtc_s3_status_error(403, "GET x", "", 0, &cause),
	    RTC_ERR_AUTH);
	ck_assert_int_eq(rtc_s3_status_error(503, "GET x", "", 0, &cause),
	    RTC_ERR_UNAVAILABLE);
	ck_assert_int_eq(rtc_s3_status_error(400, "GET x", "", 0, &cause),
	    RTC_ERR_PROTO);
	free(cause);
}
END_TEST

START_TEST(test_backoff_bounds)
{
	uint64_t rng;
	int a, i;

	s3_rand_seed(&rng);
	for (a = 1; a <= 12; a++)
		for (i = 0; i < 200; i++) {
			long hi = 100L << (a - 1), ms;

			if (hi > 5000)
				hi = 5000;
			ms = s3_backoff_ms(&rng, a, 100, 5000);
			ck_assert_int_ge(ms, hi / 2);
			ck_assert_int_le(ms, hi);
		}
}
END_TEST

START_TEST(test_request_addressing)
{
	struct rtc_http *h = NULL;
	struct rtc_creds *c = rtc_creds_new("AKIDTEST", "secret", "tok",
	    "eu-west-1");
	struct rtc_creds *anon = rtc_creds_new(NULL, NULL, NULL, NULL);
	struct rtc_s3_opts o;
	struct rtc_s3 *s3 = NULL;
	char *url = NULL, **hd = NULL, *cause = NULL;
	int i, auth = 0, tok = 0, sha = 0;

	ck_assert_int_eq(rtc_http_new(NULL, NULL, &h, NULL), RTC_OK);
	memset(&o, 0, sizeof(o));
	unsetenv("RTC_S3_ENDPOINT");
	/* AWS: virtual-host style, path-style for a dotted bucket */
	ck_assert_int_eq(rtc_s3_new(NULL, h, c, &o, &s3, NULL), RTC_OK);
	ck_assert_str_eq(rtc_s3_endpoint(s3), "https://s3.eu-west-1.amazonaws.com");
	ck_assert_int_eq(rtc_s3_request(s3, "GET", "mybucket", "a b/c+d", NULL,
	    0, NULL, 0, NULL, &url, &hd, NULL), RTC_OK);
	ck_assert_str_eq(url, "https://mybucket.s3.eu-west-1.amazonaws.com/"
	    "a%20b/c%2Bd");
	for (i = 0; hd[i] != NULL; i++) {
		auth += strncmp(hd[i], "Authorization: AWS4-HMAC-SHA256 "
		    "Credential=AKIDTEST/", 50) == 0;
		tok += strcmp(hd[i], "x-amz-security-token: tok") == 0;
		sha += strncmp(hd[i], "x-amz-content-sha256: e3b0", 26) == 0;
	}
	ck_assert(auth == 1 && tok == 1 && sha == 1);
	rtc_s3_request_free(url, hd);
	ck_assert_int_eq(rtc_s3_request(s3, "GET", "openneuro.org", "ds000001/x",
	    NULL, 0, NULL, 0, NULL, &url, &hd, NULL), RTC_OK);
	ck_assert_str_eq(url, "https://s3.eu-west-1.amazonaws.com/openneuro.org/"
	    "ds000001/x");
	rtc_s3_request_free(url, hd);
	rtc_s3_free(s3);

	/* a configured endpoint: path-style; anonymous: no Authorization */
	setenv("RTC_S3_ENDPOINT", "http://127.0.0.1:9", 1);
	ck_assert_int_eq(rtc_s3_new(NULL, h, anon, &o, &s3, NULL), RTC_OK);
	ck_assert_int_eq(rtc_s3_request(s3, "GET", "bkt", "", (struct
	    rtc_sigv4_param[]){ { "prefix", "a/b" }, { "list-type", "2" } }, 2,
	    NULL, 0, NULL, &url, &hd, NULL), RTC_OK);
	ck_assert_str_eq(url, "http://127.0.0.1:9/bkt/?list-type=2&prefix=a%2Fb");
	for (i = 0; hd[i] != NULL; i++)
		ck_assert(strncmp(hd[i], "Authorization", 13) != 0);
	rtc_s3_request_free(url, hd);
	rtc_s3_free(s3);
	unsetenv("RTC_S3_ENDPOINT");

	o.endpoint = "http://host:1/with/path";
	ck_assert_int_eq(rtc_s3_new(NULL, h, anon, &o, &s3, &cause),
	    RTC_ERR_INVAL);
	o.endpoint = "ftp://host";
	ck_assert_int_eq(rtc_s3_new(NULL, h, anon, &o, &s3, &cause),
	    RTC_ERR_INVAL);
	o.endpoint = "http://u:p@host";
	ck_assert_int_eq(rtc_s3_new(NULL, h, anon, &o, &s3, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	rtc_creds_free(c);
	rtc_creds_free(anon);
	rtc_http_free(h);
}
END_TEST

/* ---- live: listing ---- */

struct listed {
	int n;
	char last[256];
	int ordered;
};

static int
on_obj(void *arg, const struct rtc_s3_object *o)
{
	struct listed *l = arg;

	if (strcmp(o->key, l->last) <= 0)
		l->ordered = 0;
	snprintf(l->last, sizeof(l->last), "%s", o->key);
	l->n++;
	return RTC_OK;
}

START_TEST(test_list_many_pages)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct listed l = { 0, "", 1 };
	char *cause = NULL;

	start_server("{\"?list\": [\"status:503\", \"ok\", \"status:500\"]}",
	    "3");
	s3 = client(&h, &c, 1);
	ck_assert_int_eq(rtc_s3_list(s3, "b", "ds/", NULL, on_obj, &l, &cause),
	    RTC_OK);
	/* 47 objects under ds/ (the extra key is outside it) */
	ck_assert_int_eq(l.n, 47);
	ck_assert(l.ordered);
	/* 16 pages plus two retried failures; tokens were accepted */
	ck_assert_int_eq(count_in_log("list-type=2"), 18);
	ck_assert_int_eq(count_in_log(" 400 "), 0);
	ck_assert_int_ge(count_in_log("continuation-token=%2B%2F"), 15);
	client_free(s3, h, c);
}
END_TEST

START_TEST(test_list_gives_up)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct listed l = { 0, "", 1 };
	char *cause = NULL;

	start_server("{\"?list\": [\"status:503\", \"status:503\", \"status:503\","
	    " \"status:503\", \"status:503\", \"status:503\", \"status:503\","
	    " \"status:503\", \"status:503\"]}", NULL);
	s3 = client(&h, &c, 0);
	ck_assert_int_eq(rtc_s3_list(s3, "b", "", NULL, on_obj, &l, &cause),
	    RTC_ERR_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(cause, "503"));
	ck_assert_int_eq(count_in_log("list-type=2"), 8);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_s3_list(s3, "nobucket", "", NULL, on_obj, &l,
	    &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	client_free(s3, h, c);
}
END_TEST

/* ---- live: downloads ---- */

static void
item(struct rtc_dl_item *it, const char *rel, const void *data, size_t n,
    int with_md5)
{
	char key[512];

	memset(it, 0, sizeof(*it));
	snprintf(key, sizeof(key), "ds/%s", rel);
	it->key = strdup(key);
	it->rel = strdup(rel);
	it->size = data != NULL ? (long long)n : -1;
	if (with_md5 && data != NULL)
		rtc_md5_hex(data, n, it->md5);
}

static void
opts(struct rtc_dl_opts *o, char *partdir, size_t pn)
{
	memset(o, 0, sizeof(*o));
	snprintf(partdir, pn, "%s/.rtc/partial", out_dir);
	o->dir = out_dir;
	o->part_dir = partdir;
	o->bucket = "b";
	o->jobs = 4;
	o->retries = 4;
	o->backoff_ms = 10;
	o->backoff_max_ms = 50;
}

static void
assert_file(const char *rel, const void *data, size_t n)
{
	char path[1024], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", out_dir, rel);
	ck_assert_int_eq(rtc_fs_read_file(path, 1 << 24, &text, &len, NULL),
	    RTC_OK);
	ck_assert_int_eq(len, n);
	ck_assert(memcmp(text, data, n) == 0);
	free(text);
}

START_TEST(test_download_faults)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_dl_item it[7];
	struct rtc_dl_opts o;
	char pd[1024], *cause = NULL;
	int i;

	start_server("{\"ds/cut.bin\": [\"cut:70000\", \"cut:50000\"],"
	    " \"ds/burst.bin\": [\"status:503\", \"status:503\", \"status:503\"],"
	    " \"ds/html.json\": [\"html200\"], \"ds/jsonerr.tsv\":"
	    " [\"jsonerr200\"], \"ds/short.bin\": [\"short:1000\"]}", NULL);
	s3 = client(&h, &c, 0);
	item(&it[0], "big.bin", bigdata, sizeof(bigdata), 1);
	item(&it[1], "cut.bin", bigdata, sizeof(bigdata), 1);
	item(&it[2], "burst.bin", bigdata, 5000, 1);
	item(&it[3], "html.json", "{\"a\": 1}", 8, 1);
	item(&it[4], "jsonerr.tsv", "a\tb\n1\t2\n", 8, 0);
	it[4].size = -1;          /* nothing known: the JSON check must catch */
	item(&it[5], "short.bin", bigdata, 3000, 1);
	item(&it[6], "sub-00/f 0+=.txt", "ds/sub-00/f 0+=.txt", 19, 1);
	opts(&o, pd, sizeof(pd));
	ck_assert_int_eq(rtc_s3_download(s3, it, 7, &o, &cause), RTC_OK);
	for (i = 0; i < 7; i++)
		ck_assert_msg(it[i].status == RTC_OK, "%s: %s", it[i].rel,
		    it[i].cause ? it[i].cause : "");
	assert_file("big.bin", bigdata, sizeof(bigdata));
	assert_file("cut.bin", bigdata, sizeof(bigdata));
	assert_file("burst.bin", bigdata, 5000);
	assert_file("html.json", "{\"a\": 1}", 8);
	assert_file("jsonerr.tsv", "a\tb\n1\t2\n", 8);
	assert_file("short.bin", bigdata, 3000);
	assert_file("sub-00/f 0+=.txt", "ds/sub-00/f 0+=.txt", 19);
	/* the cut file resumed: no byte was fetched twice */
	ck_assert_int_eq(it[1].attempts, 3);
	ck_assert_int_eq(it[1].fetched, (long long)sizeof(bigdata));
	ck_assert_int_eq(count_in_log("bytes=70000-"), 1);
	ck_assert_int_eq(count_in_log("bytes=120000-"), 1);
	ck_assert_int_eq(it[2].attempts, 4);
	ck_assert_int_eq(it[3].attempts, 2);
	ck_assert_int_eq(it[4].attempts, 2);
	ck_assert_int_eq(it[5].attempts, 2);
	ck_assert_str_eq(it[0].got_md5, it[0].md5);
	for (i = 0; i < 7; i++)
		rtc_dl_item_clear(&it[i]);
	client_free(s3, h, c);
}
END_TEST

START_TEST(test_download_failures_are_isolated)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_dl_item it[5];
	struct rtc_dl_opts o;
	char pd[1024], path[1024], *cause = NULL;
	struct stat st;
	int i;

	start_server("{\"ds/dead.bin\": [\"status:503\", \"status:503\","
	    " \"status:503\", \"status:503\", \"status:503\", \"status:503\"]}",
	    NULL);
	s3 = client(&h, &c, 0);
	item(&it[0], "dead.bin", "x", 1, 1);
	item(&it[1], "missing.bin", "x", 1, 1);
	item(&it[2], "big.bin", bigdata, sizeof(bigdata), 1);
	memcpy(it[2].md5, "00000000000000000000000000000000", 33);
	item(&it[3], "short.bin", bigdata, 3000, 1);
	free(it[3].rel);
	it[3].rel = strdup("../escape");
	item(&it[4], "burst.bin", bigdata, 5000, 1);
	opts(&o, pd, sizeof(pd));
	ck_assert_int_ne(rtc_s3_download(s3, it, 5, &o, &cause), RTC_OK);
	ck_assert_ptr_nonnull(strstr(cause, "4 of 5"));
	ck_assert_int_eq(it[0].status, RTC_ERR_UNAVAILABLE);
	ck_assert_int_eq(it[0].attempts, 4);
	ck_assert_int_eq(it[1].status, RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(it[1].attempts, 1);
	ck_assert_int_eq(it[2].status, RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(it[2].cause, "changed since"));
	ck_assert_int_eq(it[3].status, RTC_ERR_INVAL);
	ck_assert_int_eq(it[4].status, RTC_OK);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", out_dir, it[i].rel);
		ck_assert_int_ne(stat(path, &st), 0);
	}
	free(cause);
	for (i = 0; i < 5; i++)
		rtc_dl_item_clear(&it[i]);
	client_free(s3, h, c);
}
END_TEST

START_TEST(test_checksum_mismatch_not_placed)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_dl_item it;
	struct rtc_dl_opts o;
	char pd[1024], path[1024], *cause = NULL;
	struct stat st;

	start_server(NULL, NULL);
	s3 = client(&h, &c, 0);
	item(&it, "big.bin", bigdata, sizeof(bigdata), 0);
	/* a wrong SHA-256: every attempt downloads and rejects */
	memset(it.sha256, 'a', 64);
	opts(&o, pd, sizeof(pd));
	o.retries = 2;
	ck_assert_int_eq(rtc_s3_download(s3, &it, 1, &o, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(it.cause, "checksum mismatch"));
	snprintf(path, sizeof(path), "%s/big.bin", out_dir);
	ck_assert_int_ne(stat(path, &st), 0);
	free(cause);
	rtc_dl_item_clear(&it);
	client_free(s3, h, c);
}
END_TEST

/* A partial left by an earlier run is hashed and continued. */
START_TEST(test_resume_across_runs)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_dl_item it[2];
	struct rtc_dl_opts o;
	char pd[1024], *part = NULL;

	start_server(NULL, NULL);
	s3 = client(&h, &c, 1);
	opts(&o, pd, sizeof(pd));
	ck_assert_int_eq(rtc_fs_mkdir_p(pd, 0700, NULL), RTC_OK);
	ck_assert_int_eq(rtc_dl_part_path(pd, "big.bin", &part), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(part, bigdata, 123456, 0600, 0,
	    NULL), RTC_OK);
	free(part);
	/* and one complete but not yet moved into place */
	ck_assert_int_eq(rtc_dl_part_path(pd, "burst.bin", &part), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(part, bigdata, 5000, 0600, 0,
	    NULL), RTC_OK);
	free(part);
	item(&it[0], "big.bin", bigdata, sizeof(bigdata), 1);
	item(&it[1], "burst.bin", bigdata, 5000, 1);
	ck_assert_int_eq(rtc_s3_download(s3, it, 2, &o, NULL), RTC_OK);
	ck_assert_int_eq(it[0].resumed, 1);
	ck_assert_int_eq(it[0].fetched, (long long)sizeof(bigdata) - 123456);
	ck_assert_int_eq(count_in_log("bytes=123456-"), 1);
	ck_assert_int_eq(it[1].attempts, 0);
	ck_assert_int_eq(it[1].fetched, 0);
	assert_file("big.bin", bigdata, sizeof(bigdata));
	assert_file("burst.bin", bigdata, 5000);
	rtc_dl_item_clear(&it[0]);
	rtc_dl_item_clear(&it[1]);
	client_free(s3, h, c);
}
END_TEST

/* A stale partial longer than the object is discarded. */
START_TEST(test_stale_partial)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_dl_item it;
	struct rtc_dl_opts o;
	char pd[1024], *part = NULL;

	start_server(NULL, NULL);
	s3 = client(&h, &c, 0);
	opts(&o, pd, sizeof(pd));
	ck_assert_int_eq(rtc_fs_mkdir_p(pd, 0700, NULL), RTC_OK);
	ck_assert_int_eq(rtc_dl_part_path(pd, "short.bin", &part), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(part, "zzzz", 4, 0600, 0, NULL),
	    RTC_OK);
	free(part);
	item(&it, "short.bin", bigdata, 3000, 1);
	ck_assert_int_eq(rtc_s3_download(s3, &it, 1, &o, NULL), RTC_OK);
	/* 4 bytes of garbage were continued, caught by the checksum, and
	 * the file fetched again from the start */
	assert_file("short.bin", bigdata, 3000);
	rtc_dl_item_clear(&it);
	client_free(s3, h, c);
}
END_TEST

/* ---- live: uploads ---- */

START_TEST(test_put_small_and_bad_etag)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	char path[1024], *cause = NULL;

	start_server("{\"?put\": [\"ok\", \"status:503\", \"badetag\"]}", NULL);
	s3 = client(&h, &c, 1);
	snprintf(path, sizeof(path), "%s/ds/big.bin", root);
	ck_assert_int_eq(rtc_s3_put_file(s3, "b", "up/a", path, NULL, &cause),
	    RTC_OK);
	/* a 503 is retried, a wrong ETag is an error */
	ck_assert_int_eq(rtc_s3_put_file(s3, "b", "up/b", path, NULL, &cause),
	    RTC_ERR_PROTO);
	ck_assert_ptr_nonnull(strstr(cause, "MD5"));
	ck_assert_int_eq(count_in_log("PUT /b/up/b"), 2);
	ck_assert_int_eq(rtc_s3_put_buffer(s3, "b", "up/c", "abc", 3,
	    "text/plain", &cause), RTC_OK);
	ck_assert_int_eq(rtc_s3_put_file(s3, "b", "up/d", "/nonexistent",
	    NULL, &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	client_free(s3, h, c);
}
END_TEST

static void
make_upload_file(char *path, size_t n, long long size)
{
	FILE *f;
	long long i;

	snprintf(path, n, "%s/upload.bin", root);
	f = fopen(path, "wb");
	for (i = 0; i < size; i++)
		fputc((int)((i * 7) & 0xff), f);
	fclose(f);
}

START_TEST(test_multipart_part_retry)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_s3_put_opts po;
	char path[1024], *cause = NULL;

	start_server("{\"?part\": [\"ok\", \"status:503\", \"badetag\"]}", NULL);
	s3 = client(&h, &c, 1);
	make_upload_file(path, sizeof(path), 12LL * 1024 * 1024 + 5);
	memset(&po, 0, sizeof(po));
	po.threshold = 6LL * 1024 * 1024;
	po.part_size = 5LL * 1024 * 1024;
	po.jobs = 1;
	ck_assert_int_eq(rtc_s3_put_file(s3, "b", "mp/x", path, &po, &cause),
	    RTC_OK);
	/* 3 parts, 2 retries, one completion listing all three, no abort */
	ck_assert_int_eq(count_in_log("partNumber="), 5);
	ck_assert_int_eq(count_in_log("<PartNumber>3</PartNumber>"), 1);
	ck_assert_int_eq(count_in_log("DELETE"), 0);
	ck_assert_int_eq(count_in_log("uploadId=up%2Bid%2F1%3D"), 6);
	free(cause);
	client_free(s3, h, c);
}
END_TEST

START_TEST(test_multipart_aborts)
{
	struct rtc_http *h;
	struct rtc_creds *c;
	struct rtc_s3 *s3;
	struct rtc_s3_put_opts po;
	char path[1024], *cause = NULL;

	start_server("{\"?part\": [\"status:400\"],"
	    " \"?complete\": [\"error200\"]}", NULL);
	s3 = client(&h, &c, 1);
	make_upload_file(path, sizeof(path), 11LL * 1024 * 1024);
	memset(&po, 0, sizeof(po));
	po.threshold = 6LL * 1024 * 1024;
	po.jobs = 2;
	/* a part refused for good: aborted */
	ck_assert_int_ne(rtc_s3_put_file(s3, "b", "mp/y", path, &po, &cause),
	    RTC_OK);
	ck_assert_int_eq(count_in_log("DELETE /b/mp/y?uploadId="), 1);
	ck_assert_int_eq(count_in_log("COMPLETE-BODY"), 0);
	free(cause);
	cause = NULL;
	/* completion answered 200 with <Error>: aborted as well */
	ck_assert_int_eq(rtc_s3_put_file(s3, "b", "mp/z", path, &po, &cause),
	    RTC_ERR_PROTO);
	ck_assert_ptr_nonnull(strstr(cause, "InternalError"));
	ck_assert_int_eq(count_in_log("DELETE /b/mp/z?uploadId="), 1);
	free(cause);
	client_free(s3, h, c);
}
END_TEST

static Suite *
s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_add_test(pure, test_page_parse);
	tcase_add_test(pure, test_page_parse_rejects);
	tcase_add_test(pure, test_key_too_long);
	tcase_add_test(pure, test_error_parse_and_status);
	tcase_add_test(pure, test_backoff_bounds);
	tcase_add_test(pure, test_request_addressing);
	tcase_add_checked_fixture(live, setup, teardown);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, test_list_many_pages);
	tcase_add_test(live, test_list_gives_up);
	tcase_add_test(live, test_download_faults);
	tcase_add_test(live, test_download_failures_are_isolated);
	tcase_add_test(live, test_checksum_mismatch_not_placed);
	tcase_add_test(live, test_resume_across_runs);
	tcase_add_test(live, test_stale_partial);
	tcase_add_test(live, test_put_small_and_bad_etag);
	tcase_add_test(live, test_multipart_part_retry);
	tcase_add_test(live, test_multipart_aborts);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, live);
	return s;
}

RTC_CHECK_MAIN(s3_suite)

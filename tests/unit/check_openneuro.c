/*
 * check_openneuro: accession numbers, git-annex keys, GraphQL error
 * documents and file lists (with unsafe names); and, against the loopback
 * GraphQL server, snapshot resolution, folder pruning, errors inside 200
 * bodies with retries, and the fallback to the public bucket.
 */
#include "rtc_build.h"

#include "check_net.h"
#include "creds.h"
#include "ctx.h"
#include "error.h"
#include "openneuro.h"
#include "s3.h"

START_TEST(test_parse_ref)
{
	struct rtc_on_ref r;
	char *cause = NULL;

	ck_assert_int_eq(rtc_openneuro_parse_ref("ds000001", &r, NULL), RTC_OK);
	ck_assert_str_eq(r.id, "ds000001");
	ck_assert_str_eq(r.tag, "");
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds004131:1.0.1", &r, NULL),
	    RTC_OK);
	ck_assert_str_eq(r.id, "ds004131");
	ck_assert_str_eq(r.tag, "1.0.1");
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds000117:1.0.5-rc_2+b", &r,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds1", &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds0000011", &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref("DS000001", &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds000001:", &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds000001:1.0/../x", &r,
	    &cause), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref("ds000001:a b", &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_openneuro_parse_ref(NULL, &r, &cause),
	    RTC_ERR_INVAL);
	ck_assert(rtc_openneuro_is_ref("ds123456"));
	ck_assert(!rtc_openneuro_is_ref("s3://ds123456"));
	free(cause);
}
END_TEST

START_TEST(test_annex_keys)
{
	char sha[65] = "", md5[33] = "";
	long long size = 0;

	ck_assert(rtc_openneuro_annex_key("SHA256E-s1234--"
	    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    ".nii.gz", sha, md5, &size));
	ck_assert_str_eq(sha,
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	ck_assert_int_eq(size, 1234);
	ck_assert_str_eq(md5, "");
	ck_assert(rtc_openneuro_annex_key("MD5E-s7--"
	    "d41d8cd98f00b204e9800998ecf8427e.tsv", sha, md5, &size));
	ck_assert_str_eq(md5, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_int_eq(size, 7);
	ck_assert(rtc_openneuro_annex_key("SHA256-s0--"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    sha, md5, &size));
	ck_assert_int_eq(size, 0);
	/* a git blob id, a short hash, no hash, garbage */
	ck_assert(!rtc_openneuro_annex_key("4b825dc642cb6eb9a060e54bf8d69288fbee4904",
	    sha, md5, &size));
	ck_assert(!rtc_openneuro_annex_key("SHA256E-s1--abc.nii", sha, md5,
	    &size));
	ck_assert(!rtc_openneuro_annex_key("SHA256E-s1", sha, md5, &size));
	ck_assert(!rtc_openneuro_annex_key("MD5E-s1--"
	    "zz1d8cd98f00b204e9800998ecf8427e", sha, md5, &size));
	ck_assert(!rtc_openneuro_annex_key(NULL, sha, md5, &size));
}
END_TEST

START_TEST(test_gql_errors)
{
	json_t *d;
	char msg[128];
	int retry = 0;

	d = json_loads("{\"errors\":[{\"message\":\"504 Gateway Time-out\"}],"
	    "\"data\":null}", 0, NULL);
	ck_assert(rtc_openneuro_gql_error(d, msg, sizeof(msg), &retry));
	ck_assert_int_eq(retry, 1);
	json_decref(d);
	d = json_loads("{\"errors\":[{\"message\":\"Request timed out\"}]}", 0,
	    NULL);
	ck_assert(rtc_openneuro_gql_error(d, msg, sizeof(msg), &retry));
	ck_assert_int_eq(retry, 1);
	json_decref(d);
	d = json_loads("{\"errors\":[{\"message\":\"You do not have access to "
	    "read this dataset.\"}],\"data\":{\"dataset\":null}}", 0, NULL);
	ck_assert(rtc_openneuro_gql_error(d, msg, sizeof(msg), &retry));
	ck_assert_int_eq(retry, 0);
	ck_assert_str_eq(msg, "You do not have access to read this dataset.");
	json_decref(d);
	d = json_loads("{\"errors\":[{}]}", 0, NULL);
	ck_assert(rtc_openneuro_gql_error(d, msg, sizeof(msg), &retry));
	json_decref(d);
	d = json_loads("{\"data\":{\"x\":1},\"errors\":[]}", 0, NULL);
	ck_assert(!rtc_openneuro_gql_error(d, msg, sizeof(msg), &retry));
	json_decref(d);
}
END_TEST

START_TEST(test_add_files)
{
	struct rtc_on_listing l;
	json_t *dirs = json_array(), *files;
	json_error_t je;
	char *cause = NULL;

	memset(&l, 0, sizeof(l));
	files = json_loads("["
	    "{\"id\":\"t1\",\"filename\":\"anat\",\"directory\":true},"
	    "{\"id\":\"f1\",\"key\":\"SHA256E-s10--"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    ".nii.gz\",\"filename\":\"sub-01_T1w.nii.gz\",\"size\":10,"
	    "\"directory\":false,\"urls\":[\"https://s3.amazonaws.com/"
	    "openneuro.org/ds1/sub-01/sub-01_T1w.nii.gz?versionId=x\"]},"
	    "{\"id\":\"f2\",\"key\":\"abc\",\"filename\":\"README\",\"size\":3.0,"
	    "\"urls\":[\"http://h/README\"]},"
	    "{\"id\":\"f3\",\"filename\":\"..\",\"urls\":[\"http://h/x\"]},"
	    "{\"id\":\"f4\",\"filename\":\"a/b\",\"urls\":[\"http://h/x\"]},"
	    "{\"id\":\"f5\",\"filename\":\"n\\u0000ul\",\"urls\":[\"http://h/x\"]}"
	    "]", JSON_ALLOW_NUL, &je);
	ck_assert_msg(files != NULL, "%s", je.text);
	ck_assert_int_eq(rtc_openneuro_add_files(&l, files, "sub-01", dirs,
	    &cause), RTC_OK);
	ck_assert_int_eq(l.n, 2);
	ck_assert_str_eq(l.files[0].path, "sub-01/sub-01_T1w.nii.gz");
	ck_assert_int_eq(l.files[0].size, 10);
	ck_assert_str_eq(l.files[0].sha256,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	ck_assert_ptr_nonnull(strstr(l.files[0].url, "versionId=x"));
	ck_assert_str_eq(l.files[1].path, "sub-01/README");
	ck_assert_int_eq(l.files[1].size, 3);
	ck_assert_str_eq(l.files[1].sha256, "");
	ck_assert_int_eq(json_array_size(dirs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(dirs,
	    0), "path")), "sub-01/anat");
	ck_assert_int_eq(l.nunsafe, 3);
	ck_assert_str_eq(l.unsafe[0], "sub-01/..");
	ck_assert_str_eq(l.unsafe[1], "sub-01/a/b");
	ck_assert_str_eq(l.unsafe[2], "sub-01/n?ul");
	json_decref(files);
	json_decref(dirs);
	{
		/* keep l's storage: free it through a heap copy */
		struct rtc_on_listing *h = malloc(sizeof(*h));

		*h = l;
		rtc_openneuro_listing_free(h);
	}
	free(cause);
}
END_TEST

START_TEST(test_add_files_rejects)
{
	static const char *bad[] = {
		"[{\"filename\":\"x\",\"size\":1}]",                     /* no URL */
		"[{\"filename\":\"x\",\"urls\":[\"file:///etc/passwd\"]}]",
		"[{\"filename\":\"x\",\"size\":5,\"key\":\"MD5E-s6--"
		"d41d8cd98f00b204e9800998ecf8427e\",\"urls\":[\"http://h/x\"]}]",
		"[{\"size\":1}]",                                       /* no name */
		"{\"filename\":\"x\"}",                                 /* no list */
		"[{\"filename\":\"d\",\"directory\":true}]",            /* no id */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rtc_on_listing *l = calloc(1, sizeof(*l));
		json_t *dirs = json_array();
		json_t *f = json_loads(bad[i], 0, NULL);
		char *cause = NULL;

		ck_assert_ptr_nonnull(f);
		ck_assert_msg(rtc_openneuro_add_files(l, f, "", dirs, &cause) ==
		    RTC_ERR_FORMAT, "case %zu", i);
		ck_assert_ptr_nonnull(cause);
		free(cause);
		json_decref(f);
		json_decref(dirs);
		rtc_openneuro_listing_free(l);
	}
}
END_TEST

/* ---- live ---- */

static struct check_net_server srv;
static char *root;

static void
put(const char *rel, const char *text)
{
	char path[1024], dir[1024];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(rtc_fs_mkdir_p(dir, 0755, NULL), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(path, text, strlen(text), 0644, 0,
	    NULL), RTC_OK);
}

static void
live_setup(void)
{
	root = check_tmpdir();
	put("ds/dataset_description.json", "{\"Name\": \"x\", \"DatasetDOI\": "
	    "\"doi:10.18112/openneuro.ds000042.v2.1.0\"}");
	put("ds/README", "readme\n");
	put("ds/sub-01/anat/sub-01_T1w.nii.gz", "t1-data-1");
	put("ds/sub-01/func/sub-01_task-a_bold.nii.gz", "bold-data-1");
	put("ds/sub-02/anat/sub-02_T1w.nii.gz", "t1-data-2");
	put("ds/derivatives/x/y.tsv", "a\tb\n");
}

static void
live_teardown(void)
{
	check_net_server_stop(&srv);
	rtc_fs_remove_tree(root, NULL);
	free(root);
}

static void
start(const char *faults)
{
	char fpath[1024], dsroot[1024];
	const char *args[16];
	int n = 0;

	snprintf(dsroot, sizeof(dsroot), "%s/ds", root);
	args[n++] = "--root";
	args[n++] = dsroot;
	args[n++] = "--prefix";
	args[n++] = "ds000042/";
	args[n++] = "--dataset";
	args[n++] = "ds000042";
	args[n++] = "--tag";
	args[n++] = "2.1.0";
	if (faults != NULL) {
		snprintf(fpath, sizeof(fpath), "%s/faults.json", root);
		ck_assert_int_eq(rtc_fs_write_atomic(fpath, faults,
		    strlen(faults), 0644, 0, NULL), RTC_OK);
		args[n++] = "--faults";
		args[n++] = fpath;
	}
	args[n] = NULL;
	check_net_server_start(&srv, args);
}

struct fixture {
	struct rtc_ctx *ctx;
	struct rtc_http *http;
	struct rtc_creds *creds;
	struct rtc_s3 *s3;
	struct rtc_on_opts o;
	char url[128];
};

static void
fx_open(struct fixture *f)
{
	struct rtc_s3_opts so;
	FILE *devnull = fopen("/dev/null", "w");

	memset(f, 0, sizeof(*f));
	f->ctx = rtc_ctx_new("t");
	rtc_log_set_file(f->ctx->log, devnull);
	ck_assert_int_eq(rtc_http_new(f->ctx, NULL, &f->http, NULL), RTC_OK);
	f->creds = rtc_creds_new(NULL, NULL, NULL, NULL);
	memset(&so, 0, sizeof(so));
	so.endpoint = srv.base;
	ck_assert_int_eq(rtc_s3_new(f->ctx, f->http, f->creds, &so, &f->s3,
	    NULL), RTC_OK);
	snprintf(f->url, sizeof(f->url), "%s/crn/graphql", srv.base);
	f->o.url = f->url;
	f->o.retries = 3;
	f->o.backoff_ms = 5;
	f->o.backoff_max_ms = 20;
}

static void
fx_close(struct fixture *f)
{
	rtc_s3_free(f->s3);
	rtc_creds_free(f->creds);
	rtc_http_free(f->http);
	rtc_ctx_free(f->ctx);
}

static const struct rtc_on_file *
find(const struct rtc_on_listing *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->files[i].path, path) == 0)
			return &l->files[i];
	return NULL;
}

static int
only_sub01(void *arg, const char *dir)
{
	int *calls = arg;

	(*calls)++;
	return strncmp(dir, "sub-01", 6) == 0;
}

START_TEST(test_live_graphql)
{
	struct fixture f;
	struct rtc_on_ref ref;
	struct rtc_on_listing *l = NULL;
	const struct rtc_on_file *t1;
	char *cause = NULL;
	int calls = 0;

	start("{\"?graphql\": [\"error200:504 Gateway Time-out\", \"status:502\"]}");
	fx_open(&f);
	rtc_openneuro_parse_ref("ds000042", &ref, NULL);
	f.o.want_dir = only_sub01;
	f.o.arg = &calls;
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_OK);
	ck_assert_str_eq(l->tag, "2.1.0");
	ck_assert_str_eq(l->doi, "10.18112/openneuro.ds000042.v2.1.0");
	ck_assert_str_eq(l->via, "graphql");
	/* root files and sub-01's; sub-02 and derivatives not listed */
	ck_assert_int_eq(l->n, 4);
	ck_assert_ptr_nonnull(find(l, "README"));
	ck_assert_ptr_nonnull(find(l, "sub-01/func/sub-01_task-a_bold.nii.gz"));
	ck_assert_ptr_null(find(l, "sub-02/anat/sub-02_T1w.nii.gz"));
	ck_assert_int_eq(l->dirs_skipped, 2);
	t1 = find(l, "sub-01/anat/sub-01_T1w.nii.gz");
	ck_assert_ptr_nonnull(t1);
	ck_assert_int_eq(t1->size, 9);
	ck_assert_int_eq(strlen(t1->sha256), 64);
	ck_assert_ptr_nonnull(strstr(t1->url, "/ds000042/sub-01/anat/"));
	rtc_openneuro_listing_free(l);
	fx_close(&f);
}
END_TEST

START_TEST(test_live_final_errors)
{
	struct fixture f;
	struct rtc_on_ref ref;
	struct rtc_on_listing *l = NULL;
	char *cause = NULL;

	start(NULL);
	fx_open(&f);
	rtc_openneuro_parse_ref("ds000043", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "Dataset ds000043 not found"));
	free(cause);
	cause = NULL;
	rtc_openneuro_parse_ref("ds000042:9.9.9", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	fx_close(&f);
}
END_TEST

START_TEST(test_live_fallback)
{
	struct fixture f;
	struct rtc_on_ref ref;
	struct rtc_on_listing *l = NULL;
	char *cause = NULL, dead[64];
	const char *sub[] = { "sub-02" };

	start(NULL);
	fx_open(&f);
	/* nothing listens on port 1 */
	snprintf(dead, sizeof(dead), "http://127.0.0.1:1/crn/graphql");
	f.o.url = dead;
	rtc_openneuro_parse_ref("ds000042", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_OK);
	ck_assert_str_eq(l->via, "s3-listing");
	ck_assert_str_eq(l->tag, "2.1.0");
	ck_assert_int_eq(l->n, 6);
	ck_assert_ptr_nonnull(find(l, "derivatives/x/y.tsv"));
	ck_assert_str_eq(find(l, "README")->key, "ds000042/README");
	ck_assert_int_eq(strlen(find(l, "README")->md5), 32);
	rtc_openneuro_listing_free(l);
	l = NULL;
	/* only a subtree (and the top-level files) */
	f.o.subtrees = sub;
	f.o.nsubtrees = 1;
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_OK);
	ck_assert_int_eq(l->n, 3);
	ck_assert_ptr_nonnull(find(l, "sub-02/anat/sub-02_T1w.nii.gz"));
	ck_assert_ptr_nonnull(find(l, "dataset_description.json"));
	rtc_openneuro_listing_free(l);
	l = NULL;
	/* a tag the bucket does not hold */
	rtc_openneuro_parse_ref("ds000042:2.0.0", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_ERR_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(cause, "holds snapshot 2.1.0"));
	free(cause);
	cause = NULL;
	/* no fallback wanted */
	f.o.no_fallback = 1;
	rtc_openneuro_parse_ref("ds000042", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_ERR_UNAVAILABLE);
	free(cause);
	fx_close(&f);
}
END_TEST

/* The bucket's listing holds a key outside the dataset asked for (a
 * misbehaving server): it is reported, not mapped into the dataset. */
START_TEST(test_live_fallback_foreign_key)
{
	struct fixture f;
	struct rtc_on_ref ref;
	struct rtc_on_listing *l = NULL;
	char *cause = NULL, dead[64];

	start("{\"?list\": [\"foreign:ds000043/sub-09/x.txt\"]}");
	fx_open(&f);
	snprintf(dead, sizeof(dead), "http://127.0.0.1:1/crn/graphql");
	f.o.url = dead;
	rtc_openneuro_parse_ref("ds000042", &ref, NULL);
	ck_assert_int_eq(rtc_openneuro_list(f.ctx, f.http, f.s3, &ref, &f.o,
	    &l, &cause), RTC_OK);
	ck_assert_int_eq(l->n, 6);
	ck_assert_ptr_null(find(l, "sub-09/x.txt"));
	ck_assert_ptr_null(find(l, "/sub-09/x.txt"));
	ck_assert_int_eq(l->nunsafe, 1);
	ck_assert_str_eq(l->unsafe[0], "ds000043/sub-09/x.txt");
	rtc_openneuro_listing_free(l);
	free(cause);
	fx_close(&f);
}
END_TEST

static Suite *
openneuro_suite(void)
{
	Suite *s = suite_create("openneuro");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_add_test(pure, test_parse_ref);
	tcase_add_test(pure, test_annex_keys);
	tcase_add_test(pure, test_gql_errors);
	tcase_add_test(pure, test_add_files);
	tcase_add_test(pure, test_add_files_rejects);
	tcase_add_checked_fixture(live, live_setup, live_teardown);
	tcase_set_timeout(live, 30);
	tcase_add_test(live, test_live_graphql);
	tcase_add_test(live, test_live_final_errors);
	tcase_add_test(live, test_live_fallback);
	tcase_add_test(live, test_live_fallback_foreign_key);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, live);
	return s;
}

RTC_CHECK_MAIN(openneuro_suite)

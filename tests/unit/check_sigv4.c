/*
 * check_sigv4: AWS's published SigV4 test suite (aws-sig-v4-test-suite,
 * credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, service "service"; the
 * "-unnormalized" cases, since S3 never normalises paths) and the S3
 * examples of the "Authenticating Requests (AWS Signature Version 4)"
 * guide (AKIAIOSFODNN7EXAMPLE, 2013-05-24), header and presigned forms.
 */
#include "rtc_build.h"

#include <time.h>

#include "check_common.h"
#include "error.h"
#include "hash.h"
#include "sigv4.h"

#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define FORM_HASH \
	"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

struct vec {
	const char *name;
	const char *method;
	const char *path;
	struct rtc_sigv4_param q[4];
	size_t nq;
	struct rtc_sigv4_header h[4];
	size_t nh;
	const char *token;
	const char *payload;
	const char *signed_headers;
	const char *sig;
};

static const struct vec suite[] = {
	{ "get-vanilla", "GET", "/", {{0}}, 0, {{0}}, 0, NULL, NULL,
	  "host;x-amz-date",
	  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
	{ "get-unreserved", "GET",
	  "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	  {{0}}, 0, {{0}}, 0, NULL, NULL, "host;x-amz-date",
	  "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
	{ "get-utf8", "GET", "/\xe1\x88\xb4", {{0}}, 0, {{0}}, 0, NULL, NULL,
	  "host;x-amz-date",
	  "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
	{ "get-space-unnormalized", "GET", "/example space/", {{0}}, 0, {{0}},
	  0, NULL, NULL, "host;x-amz-date",
	  "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741" },
	{ "get-slashes-unnormalized", "GET", "//example//", {{0}}, 0, {{0}}, 0,
	  NULL, NULL, "host;x-amz-date",
	  "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5" },
	{ "get-relative-unnormalized", "GET", "/example/..", {{0}}, 0, {{0}},
	  0, NULL, NULL, "host;x-amz-date",
	  "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282" },
	{ "get-vanilla-query-order-key-case", "GET", "/",
	  {{ "Param2", "value2" }, { "Param1", "value1" }}, 2, {{0}}, 0, NULL,
	  NULL, "host;x-amz-date",
	  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
	{ "get-vanilla-query-order-encoded", "GET", "/",
	  {{ "Param-3", "Value3" }, { "Param", "Value2" },
	   { "\xe1\x88\xb4", "Value1" }}, 3, {{0}}, 0, NULL, NULL,
	  "host;x-amz-date",
	  "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac" },
	{ "get-vanilla-query-unreserved", "GET", "/",
	  {{ "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" }},
	  1, {{0}}, 0, NULL, NULL, "host;x-amz-date",
	  "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
	{ "get-vanilla-utf8-query", "GET", "/", {{ "\xe1\x88\xb4", "bar" }}, 1,
	  {{0}}, 0, NULL, NULL, "host;x-amz-date",
	  "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
	{ "get-vanilla-empty-query-key", "GET", "/", {{ "Param1", "value1" }},
	  1, {{0}}, 0, NULL, NULL, "host;x-amz-date",
	  "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb" },
	{ "get-vanilla-with-session-token", "GET", "/", {{0}}, 0, {{0}}, 0,
	  "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
	  NULL, "host;x-amz-date;x-amz-security-token",
	  "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8" },
	{ "get-header-key-duplicate", "GET", "/", {{0}}, 0,
	  {{ "My-Header1", "value2" }, { "My-Header1", "value2" },
	   { "My-Header1", "value1" }}, 3, NULL, NULL,
	  "host;my-header1;x-amz-date",
	  "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
	{ "get-header-value-multiline", "GET", "/", {{0}}, 0,
	  {{ "My-Header1", "value1,value2,value3" }}, 1, NULL, NULL,
	  "host;my-header1;x-amz-date",
	  "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790" },
	{ "get-header-value-order", "GET", "/", {{0}}, 0,
	  {{ "My-Header1", "value4" }, { "My-Header1", "value1" },
	   { "My-Header1", "value3" }, { "My-Header1", "value2" }}, 4, NULL,
	  NULL, "host;my-header1;x-amz-date",
	  "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
	{ "get-header-value-trim", "GET", "/", {{0}}, 0,
	  {{ "My-Header1", " value1" }, { "My-Header2", " \"a   b   c\"" }}, 2,
	  NULL, NULL, "host;my-header1;my-header2;x-amz-date",
	  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
	{ "post-vanilla", "POST", "/", {{0}}, 0, {{0}}, 0, NULL, NULL,
	  "host;x-amz-date",
	  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
	{ "post-header-key-sort", "POST", "/", {{0}}, 0,
	  {{ "My-Header1", "value1" }}, 1, NULL, NULL,
	  "host;my-header1;x-amz-date",
	  "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c" },
	{ "post-header-value-case", "POST", "/", {{0}}, 0,
	  {{ "My-Header1", "VALUE1" }}, 1, NULL, NULL,
	  "host;my-header1;x-amz-date",
	  "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
	{ "post-sts-header-before", "POST", "/", {{0}}, 0, {{0}}, 0,
	  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
	  "LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd"
	  "QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU"
	  "9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
	  "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
	  NULL, "host;x-amz-date;x-amz-security-token",
	  "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead" },
	{ "post-vanilla-query", "POST", "/", {{ "Param1", "value1" }}, 1,
	  {{0}}, 0, NULL, NULL, "host;x-amz-date",
	  "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
	{ "post-vanilla-query-nonunreserved", "POST", "/",
	  {{ "@#$%^", "" }, { "+", "/,?><`\";:\\|][{}" }}, 2, {{0}}, 0, NULL,
	  NULL, "host;x-amz-date",
	  "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e" },
	{ "post-vanilla-query-space", "POST", "/", {{ "p", "" }}, 1, {{0}}, 0,
	  NULL, NULL, "host;x-amz-date",
	  "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b" },
	{ "post-x-www-form-urlencoded", "POST", "/", {{0}}, 0,
	  {{ "Content-Type", "application/x-www-form-urlencoded" }}, 1, NULL,
	  FORM_HASH, "content-type;host;x-amz-date",
	  "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
	{ "post-x-www-form-urlencoded-parameters", "POST", "/", {{0}}, 0,
	  {{ "Content-Type",
	     "application/x-www-form-urlencoded; charset=utf8" }}, 1, NULL,
	  FORM_HASH, "content-type;host;x-amz-date",
	  "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe" },
};

static void
suite_req(const struct vec *v, struct rtc_sigv4_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = v->method;
	r->host = "example.amazonaws.com";
	r->path = v->path;
	r->query = v->q;
	r->nquery = v->nq;
	r->headers = v->h;
	r->nheaders = v->nh;
	r->payload_hash = v->payload;
	r->region = "us-east-1";
	r->service = "service";
	r->when = utc(2015, 8, 30, 12, 36, 0);
}

START_TEST(test_suite_vectors)
{
	const struct vec *v = &suite[_i];
	struct rtc_sigv4_keys k = { "AKIDEXAMPLE", SUITE_SECRET, v->token };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;
	char *cause = NULL, want[512];

	suite_req(v, &r);
	ck_assert_msg(rtc_sigv4_sign(&r, &k, &s, &cause) == RTC_OK, "%s: %s",
	    v->name, cause ? cause : "");
	ck_assert_msg(strcmp(s.signature, v->sig) == 0, "%s: got %s\n%s",
	    v->name, s.signature, s.canonical_request);
	snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20150830/us-east-1/service/aws4_request, SignedHeaders=%s, "
	    "Signature=%s", v->signed_headers, v->sig);
	ck_assert_str_eq(s.authorization, want);
	ck_assert_str_eq(s.amz_date, "20150830T123600Z");
	rtc_sigv4_signed_free(&s);
}
END_TEST

/* The suite's canonical requests and strings to sign, not just the end. */
START_TEST(test_suite_canonical_forms)
{
	struct rtc_sigv4_keys k = { "AKIDEXAMPLE", SUITE_SECRET, NULL };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	suite_req(&suite[0], &r);
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.canonical_request, "GET\n/\n\n"
	    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	    "host;x-amz-date\n" RTC_SIGV4_EMPTY_SHA256);
	ck_assert_str_eq(s.string_to_sign, "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	ck_assert_str_eq(s.target, "/");
	rtc_sigv4_signed_free(&s);

	suite_req(&suite[7], &r);   /* get-vanilla-query-order-encoded */
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(s.canonical_request,
	    "\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"));
	ck_assert_str_eq(s.target,
	    "/?%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
	ck_assert_ptr_nonnull(strstr(s.string_to_sign,
	    "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71"));
	rtc_sigv4_signed_free(&s);

	suite_req(&suite[15], &r);  /* get-header-value-trim */
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(s.canonical_request,
	    "my-header1:value1\nmy-header2:\"a b c\"\n"));
	rtc_sigv4_signed_free(&s);

	suite_req(&suite[2], &r);   /* get-utf8 */
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.target, "/%E1%88%B4");
	rtc_sigv4_signed_free(&s);
}
END_TEST

/* post-sts-header-after: a token added after signing changes nothing. */
START_TEST(test_suite_token_after)
{
	struct rtc_sigv4_keys k = { "AKIDEXAMPLE", SUITE_SECRET, NULL };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	suite_req(&suite[16], &r);
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.signature,
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	rtc_sigv4_signed_free(&s);
}
END_TEST

static void
s3_req(struct rtc_sigv4_req *r, const char *method, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->host = "examplebucket.s3.amazonaws.com";
	r->path = path;
	r->region = "us-east-1";
	r->service = "s3";
	r->when = utc(2013, 5, 24, 0, 0, 0);
	r->s3 = 1;
}

START_TEST(test_s3_get_object_example)
{
	struct rtc_sigv4_keys k = { "AKIAIOSFODNN7EXAMPLE", S3_SECRET, NULL };
	struct rtc_sigv4_header h[] = { { "Range", "bytes=0-9" } };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	s3_req(&r, "GET", "/test.txt");
	r.headers = h;
	r.nheaders = 1;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.canonical_request, "GET\n/test.txt\n\n"
	    "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
	    "x-amz-content-sha256:" RTC_SIGV4_EMPTY_SHA256 "\n"
	    "x-amz-date:20130524T000000Z\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n"
	    RTC_SIGV4_EMPTY_SHA256);
	ck_assert_str_eq(s.string_to_sign, "AWS4-HMAC-SHA256\n"
	    "20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
	    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	ck_assert_str_eq(s.authorization, "AWS4-HMAC-SHA256 Credential="
	    "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
	    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	rtc_sigv4_signed_free(&s);
}
END_TEST

START_TEST(test_s3_put_object_example)
{
	struct rtc_sigv4_keys k = { "AKIAIOSFODNN7EXAMPLE", S3_SECRET, NULL };
	struct rtc_sigv4_header h[] = {
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
	};
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;
	char hash[65];

	rtc_sha256_hex("Welcome to Amazon S3.", 21, hash);
	ck_assert_str_eq(hash,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	s3_req(&r, "PUT", "/test$file.text");
	r.headers = h;
	r.nheaders = 2;
	r.payload_hash = hash;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.target, "/test%24file.text");
	ck_assert_str_eq(s.signature,
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	ck_assert_ptr_nonnull(strstr(s.authorization, "SignedHeaders=date;host;"
	    "x-amz-content-sha256;x-amz-date;x-amz-storage-class,"));
	rtc_sigv4_signed_free(&s);
}
END_TEST

START_TEST(test_s3_bucket_examples)
{
	struct rtc_sigv4_keys k = { "AKIAIOSFODNN7EXAMPLE", S3_SECRET, NULL };
	struct rtc_sigv4_param lc[] = { { "lifecycle", NULL } };
	struct rtc_sigv4_param ls[] = { { "prefix", "J" }, { "max-keys", "2" } };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	s3_req(&r, "GET", "/");
	r.query = lc;
	r.nquery = 1;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.signature,
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	ck_assert_str_eq(s.target, "/?lifecycle=");
	rtc_sigv4_signed_free(&s);

	r.query = ls;
	r.nquery = 2;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.signature,
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	ck_assert_str_eq(s.target, "/?max-keys=2&prefix=J");
	rtc_sigv4_signed_free(&s);
}
END_TEST

START_TEST(test_s3_presign_example)
{
	struct rtc_sigv4_keys k = { "AKIAIOSFODNN7EXAMPLE", S3_SECRET, NULL };
	struct rtc_sigv4_req r;
	char *t = NULL, *cause = NULL;

	s3_req(&r, "GET", "/test.txt");
	ck_assert_int_eq(rtc_sigv4_presign(&r, &k, 86400, &t, &cause), RTC_OK);
	ck_assert_str_eq(t, "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3"
	    "%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
	    "&X-Amz-SignedHeaders=host&X-Amz-Signature="
	    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(t);
	ck_assert_int_eq(rtc_sigv4_presign(&r, &k, 0, &t, &cause),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_sigv4_presign(&r, &k, 604801, &t, &cause),
	    RTC_ERR_INVAL);
	free(cause);
}
END_TEST

START_TEST(test_presign_session_token_in_query)
{
	struct rtc_sigv4_keys k = { "AKID", "secret", "tok/en+=" };
	struct rtc_sigv4_req r;
	char *t = NULL;

	s3_req(&r, "GET", "/b/k");
	ck_assert_int_eq(rtc_sigv4_presign(&r, &k, 60, &t, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(t, "&X-Amz-Security-Token=tok%2Fen%2B%3D&"));
	ck_assert_ptr_null(strstr(t, "secret"));
	free(t);
}
END_TEST

START_TEST(test_uri_encode)
{
	struct rtc_buf b;

	rtc_buf_init(&b, 0);
	rtc_sigv4_uri_encode("a b+c=d~e(f)/g\xc3\xa9*", 17, 1, &b);
	ck_assert_str_eq(b.data, "a%20b%2Bc%3Dd~e%28f%29/g%C3%A9%2A");
	rtc_buf_reset(&b);
	rtc_sigv4_uri_encode("x/y+z=", 6, 0, &b);
	ck_assert_str_eq(b.data, "x%2Fy%2Bz%3D");
	rtc_buf_reset(&b);
	rtc_sigv4_uri_encode("-._~AZaz09", 10, 0, &b);
	ck_assert_str_eq(b.data, "-._~AZaz09");
	rtc_buf_free(&b);
}
END_TEST

/* Keys S3 users meet: the path encodes each of them once. */
START_TEST(test_tricky_keys_targets)
{
	struct rtc_sigv4_keys k = { "AKID", "secret", NULL };
	struct rtc_sigv4_param q[] = {
		{ "continuation-token", "1Csy/IzA+aK9=" }, { "list-type", "2" },
	};
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	s3_req(&r, "GET", "/openneuro.org/ds000001/sub 01/a+b=c~(d).nii.gz");
	r.query = q;
	r.nquery = 2;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_str_eq(s.target, "/openneuro.org/ds000001/sub%2001/"
	    "a%2Bb%3Dc~%28d%29.nii.gz?continuation-token=1Csy%2FIzA%2BaK9%3D"
	    "&list-type=2");
	rtc_sigv4_signed_free(&s);
}
END_TEST

START_TEST(test_rejects_bad_input)
{
	struct rtc_sigv4_keys k = { "AKID", "secret", NULL };
	struct rtc_sigv4_header crlf[] = { { "X-A", "v\r\nInjected: 1" } };
	struct rtc_sigv4_header host[] = { { "Host", "evil" } };
	struct rtc_sigv4_header sha[] = { { "x-amz-content-sha256", "x" } };
	struct rtc_sigv4_header badname[] = { { "X A", "v" } };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;
	char *cause = NULL;

	s3_req(&r, "GET", "/k");
	r.headers = crlf;
	r.nheaders = 1;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.headers = host;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.headers = sha;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.headers = badname;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.nheaders = 0;
	r.path = "no-slash";
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.path = "/k";
	r.region = "us-east-1/evil";
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	r.region = "us-east-1";
	r.method = "get";
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, &cause), RTC_ERR_INVAL);
	free(cause);
}
END_TEST

/* Nothing the signer hands back carries the secret. */
START_TEST(test_secret_never_in_output)
{
	struct rtc_sigv4_keys k = { "AKIDVISIBLE", "TOPSECRETvalue123", "tok" };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;

	s3_req(&r, "GET", "/b/k");
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &s, NULL), RTC_OK);
	ck_assert_ptr_null(strstr(s.authorization, "TOPSECRET"));
	ck_assert_ptr_null(strstr(s.canonical_request, "TOPSECRET"));
	ck_assert_ptr_null(strstr(s.string_to_sign, "TOPSECRET"));
	ck_assert_ptr_null(strstr(s.target, "TOPSECRET"));
	ck_assert_ptr_nonnull(strstr(s.authorization, "AKIDVISIBLE/"));
	rtc_sigv4_signed_free(&s);
	rtc_sigv4_signed_free(NULL);
}
END_TEST

START_TEST(test_signature_depends_on_everything)
{
	struct rtc_sigv4_keys k = { "AKID", "secret", NULL };
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed a, b;

	s3_req(&r, "GET", "/b/k");
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &a, NULL), RTC_OK);
	r.path = "/b/K";
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &b, NULL), RTC_OK);
	ck_assert_str_ne(a.signature, b.signature);
	rtc_sigv4_signed_free(&b);
	r.path = "/b/k";
	r.payload_hash = RTC_SIGV4_UNSIGNED_PAYLOAD;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &b, NULL), RTC_OK);
	ck_assert_str_ne(a.signature, b.signature);
	ck_assert_ptr_nonnull(strstr(b.canonical_request,
	    "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
	rtc_sigv4_signed_free(&b);
	r.payload_hash = NULL;
	r.when += 1;
	ck_assert_int_eq(rtc_sigv4_sign(&r, &k, &b, NULL), RTC_OK);
	ck_assert_str_ne(a.signature, b.signature);
	rtc_sigv4_signed_free(&a);
	rtc_sigv4_signed_free(&b);
}
END_TEST

static Suite *
sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sigv4");

	tcase_add_loop_test(tc, test_suite_vectors, 0,
	    (int)(sizeof(suite) / sizeof(suite[0])));
	tcase_add_test(tc, test_suite_canonical_forms);
	tcase_add_test(tc, test_suite_token_after);
	tcase_add_test(tc, test_s3_get_object_example);
	tcase_add_test(tc, test_s3_put_object_example);
	tcase_add_test(tc, test_s3_bucket_examples);
	tcase_add_test(tc, test_s3_presign_example);
	tcase_add_test(tc, test_presign_session_token_in_query);
	tcase_add_test(tc, test_uri_encode);
	tcase_add_test(tc, test_tricky_keys_targets);
	tcase_add_test(tc, test_rejects_bad_input);
	tcase_add_test(tc, test_secret_never_in_output);
	tcase_add_test(tc, test_signature_depends_on_everything);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(sigv4_suite)

/*
 * s3_put: uploads. A file below the threshold goes up in one PUT; a
 * larger one as a multipart upload: CreateMultipartUpload, the parts in
 * parallel (each read from the file by offset, never held in memory,
 * hashed first so its payload is signed with its SHA-256 and carries a
 * Content-MD5 the server checks), then CompleteMultipartUpload. A part
 * that fails is retried alone with backoff; when one fails for good, or
 * completion does, the upload is aborted so no parts linger on the bill.
 * CompleteMultipartUpload may answer 200 with an <Error> body: that is a
 * failure too.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "clock.h"
#include "error.h"
#include "hash.h"
#include "log.h"
#include "s3.h"
#include "s3_int.h"

#define PUT_MIN_PART (5LL * 1024 * 1024)
#define PUT_MAX_PARTS 10000

struct region_sums {
	char sha[65];
	char md5[33];
	char md5_b64[32];
};

static int
hash_region(int fd, long long off, long long len, struct region_sums *s)
{
	struct rtc_hash *h1 = rtc_hash_new(RTC_HASH_SHA256);
	struct rtc_hash *h2 = rtc_hash_new(RTC_HASH_MD5);
	unsigned char raw[32];
	char *buf = malloc(1 << 18);
	long long pos = 0;
	size_t rn = 0;
	int r = RTC_OK;

	if (h1 == NULL || h2 == NULL || buf == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	while (pos < len) {
		size_t want = (size_t)(len - pos < (1 << 18) ? len - pos :
		    (1 << 18));
		ssize_t got = pread(fd, buf, want, (off_t)(off + pos));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = RTC_ERR_IO;
			goto out;
		}
		rtc_hash_update(h1, buf, (size_t)got);
		rtc_hash_update(h2, buf, (size_t)got);
		pos += got;
	}
	rtc_hash_final_hex(h1, s->sha);
	rtc_hash_final_raw(h2, raw, &rn);
	rtc_hex_encode(raw, rn, s->md5);
	EVP_EncodeBlock((unsigned char *)s->md5_b64, raw, (int)rn);
out:
	rtc_hash_free(h1);
	rtc_hash_free(h2);
	free(buf);
	return r;
}

/* One request to completion, retried with backoff when worth it.
 * OUT: resp, body (any status). RET: RTC_OK when a response came. */
static int
put_request(struct rtc_s3 *s3, const char *method, const char *bucket,
    const char *key, const struct rtc_sigv4_param *q, size_t nq,
    const struct rtc_sigv4_header *h, size_t nh, const char *payload,
    const void *mem, size_t memlen, int fd, long long off, long long len,
    struct rtc_buf *body, struct rtc_http_resp *resp, const char *what,
    char **cause)
{
	int attempt, r = RTC_OK;

	for (attempt = 1;; attempt++) {
		struct rtc_http_req req;
		char *url = NULL, **hdrs = NULL, *why = NULL;
		int retry;

		r = rtc_s3_request(s3, method, bucket, key, q, nq, h, nh,
		    payload, &url, &hdrs, cause);
		if (r != RTC_OK)
			return r;
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.url = url;
		req.headers = (const char *const *)hdrs;
		req.body = mem;
		req.body_len = memlen;
		req.body_fd = mem != NULL ? -1 : fd;
		req.body_off = off;
		req.body_fd_len = mem != NULL ? 0 : len;
		rtc_buf_reset(body);
		r = rtc_http_do(rtc_s3_http(s3), &req, body, resp, &why);
		rtc_s3_request_free(url, hdrs);
		if (r == RTC_OK && resp->status >= 200 && resp->status <= 299) {
			free(why);
			return RTC_OK;
		}
		if (r == RTC_OK) {
			retry = rtc_http_retryable(RTC_OK, resp->status);
			r = rtc_s3_status_error(resp->status, what, body->data,
			    body->len, &why);
		} else {
			retry = rtc_http_retryable(r, 0);
		}
		if (!retry || attempt >= s3->retries ||
		    rtc_ctx_stopping(s3->ctx)) {
			rtc_cause_set(cause, "%s", why ? why : rtc_strerror(r));
			free(why);
			return r;
		}
		{
			long ms = s3_backoff_ms(&s3->rng, attempt, s3->backoff_ms,
			    s3->backoff_max_ms);

			rtc_log(s3->ctx, WARN, "%s: %s; retrying in %ld ms",
			    what, why ? why : rtc_strerror(r), ms);
			s3_sleep_ms(s3->ctx, ms);
		}
		free(why);
	}
}

int
rtc_s3_put_buffer(struct rtc_s3 *s3, const char *bucket, const char *key,
    const void *data, size_t len, const char *content_type, char **cause)
{
	struct rtc_sigv4_header h[2];
	struct rtc_http_resp resp;
	struct rtc_buf body;
	struct rtc_hash *m;
	unsigned char raw[16];
	char sha[65], b64[32];
	size_t nh = 0, rn = 0;
	int r;

	rtc_sha256_hex(data, len, sha);
	m = rtc_hash_new(RTC_HASH_MD5);
	if (m == NULL)
		return RTC_ERR_NOMEM;
	rtc_hash_update(m, data, len);
	rtc_hash_final_raw(m, raw, &rn);
	rtc_hash_free(m);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)rn);
	h[nh].name = "Content-MD5";
	h[nh++].value = b64;
	if (content_type != NULL) {
		h[nh].name = "Content-Type";
		h[nh++].value = content_type;
	}
	rtc_buf_init(&body, RTC_HTTP_ERRBODY_MAX);
	r = put_request(s3, "PUT", bucket, key, NULL, 0, h, nh, sha,
	    len > 0 ? data : "", len, -1, 0, 0, &body, &resp, key, cause);
	rtc_buf_free(&body);
	return r;
}

static int
check_etag(const struct rtc_http_resp *resp, const char *md5, const char *what,
    char **cause)
{
	char got[33];

	if (resp->etag[0] && rtc_s3_etag_md5(resp->etag, got) &&
	    strcmp(got, md5) != 0) {
		rtc_cause_set(cause, "%s: the server stored MD5 %s, we sent %s",
		    what, got, md5);
		return RTC_ERR_PROTO;
	}
	return RTC_OK;
}

/* <Tag>text</Tag> under the root of a small XML answer. */
static int
xml_root_child(const char *xml, size_t len, const char *root_name,
    const char *child, char *out, size_t outsz)
{
	xmlDoc *doc;
	xmlNode *root, *c;
	int found = 0;

	if (len == 0 || len > RTC_HTTP_ERRBODY_MAX)
		return 0;
	doc = xmlReadMemory(xml, (int)len, "s3.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return 0;
	root = xmlDocGetRootElement(doc);
	if (root != NULL && strcmp((const char *)root->name, root_name) == 0)
		for (c = root->children; c != NULL; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
			    strcmp((const char *)c->name, child) == 0) {
				xmlChar *t = xmlNodeGetContent(c);

				snprintf(out, outsz, "%s", t ? (char *)t : "");
				xmlFree(t);
				found = 1;
				break;
			}
	xmlFreeDoc(doc);
	return found;
}

struct part {
	int num;
	long long off;
	long long len;
	struct region_sums sums;
	char etag[96];
	int attempts;
	int state;              /* 0 to send, 1 in flight, 2 waiting, 3 done */
	int64_t retry_at;
	char *url;
	char **hdrs;
	struct mp *mp;
};

struct mp {
	struct rtc_s3 *s3;
	int fd;
	int failed;
	int err;
	char why[400];
	int inflight;
	int done;
};

static void
part_done(void *arg, int err, const struct rtc_http_resp *r,
    const char *errbody, size_t errlen, const char *cause)
{
	struct part *p = arg;
	struct mp *mp = p->mp;
	char *why = NULL;
	int retry;

	mp->inflight--;
	rtc_s3_request_free(p->url, p->hdrs);
	p->url = NULL;
	p->hdrs = NULL;
	if (err == RTC_OK && r->status >= 200 && r->status <= 299) {
		char got[33];

		if (!rtc_s3_etag_md5(r->etag, got) ||
		    strcmp(got, p->sums.md5) != 0) {
			err = RTC_ERR_PROTO;
			rtc_cause_set(&why, "part %d: ETag %s is not the part's "
			    "MD5 %s", p->num, r->etag, p->sums.md5);
			retry = 1;
		} else {
			snprintf(p->etag, sizeof(p->etag), "%s", r->etag);
			p->state = 3;
			mp->done++;
			return;
		}
	} else if (err == RTC_OK) {
		retry = rtc_http_retryable(RTC_OK, r->status);
		err = rtc_s3_status_error(r->status, "upload part", errbody,
		    errlen, &why);
	} else {
		retry = rtc_http_retryable(err, 0);
		rtc_cause_set(&why, "part %d: %s", p->num, cause ? cause :
		    rtc_strerror(err));
	}
	if (!retry || p->attempts >= mp->s3->retries) {
		mp->failed = 1;
		mp->err = err;
		snprintf(mp->why, sizeof(mp->why), "%s (after %d attempts)",
		    why ? why : rtc_strerror(err), p->attempts);
		p->state = 3;
	} else {
		long ms = s3_backoff_ms(&mp->s3->rng, p->attempts,
		    mp->s3->backoff_ms, mp->s3->backoff_max_ms);

		rtc_log(mp->s3->ctx, WARN, "%s; retrying part %d in %ld ms",
		    why ? why : rtc_strerror(err), p->num, ms);
		p->state = 2;
		p->retry_at = rtc_clock_mono_ns() + (int64_t)ms * 1000000;
	}
	free(why);
}

static int
part_send(struct rtc_s3 *s3, const char *bucket, const char *key,
    const char *upload_id, struct part *p, char **cause)
{
	struct rtc_sigv4_param q[2];
	struct rtc_sigv4_header h[1];
	struct rtc_http_req req;
	char num[16];
	int r;

	if (p->sums.sha[0] == '\0' &&
	    (r = hash_region(p->mp->fd, p->off, p->len, &p->sums)) != RTC_OK) {
		rtc_cause_set(cause, "cannot read part %d", p->num);
		return r;
	}
	snprintf(num, sizeof(num), "%d", p->num);
	q[0].name = "partNumber";
	q[0].value = num;
	q[1].name = "uploadId";
	q[1].value = upload_id;
	h[0].name = "Content-MD5";
	h[0].value = p->sums.md5_b64;
	r = rtc_s3_request(s3, "PUT", bucket, key, q, 2, h, 1, p->sums.sha,
	    &p->url, &p->hdrs, cause);
	if (r != RTC_OK)
		return r;
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = p->url;
	req.headers = (const char *const *)p->hdrs;
	req.body_fd = p->mp->fd;
	req.body_off = p->off;
	req.body_fd_len = p->len;
	req.on_done = part_done;
	req.arg = p;
	p->attempts++;
	p->state = 1;
	r = rtc_http_start(rtc_s3_http(s3), &req, NULL, cause);
	if (r == RTC_OK)
		p->mp->inflight++;
	return r;
}

static void
mp_abort(struct rtc_s3 *s3, const char *bucket, const char *key,
    const char *upload_id)
{
	struct rtc_sigv4_param q[1] = { { "uploadId", upload_id } };
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char *why = NULL;

	rtc_buf_init(&body, RTC_HTTP_ERRBODY_MAX);
	if (put_request(s3, "DELETE", bucket, key, q, 1, NULL, 0, NULL, NULL,
	    0, -1, 0, 0, &body, &resp, "abort multipart upload", &why) !=
	    RTC_OK)
		rtc_log(s3->ctx, WARN, "s3://%s/%s: abort failed: %s; the "
		    "upload %s may need a lifecycle rule", bucket, key,
		    why ? why : "error", upload_id);
	else
		rtc_debug(s3->ctx, S3, "s3://%s/%s: multipart upload aborted",
		    bucket, key);
	free(why);
	rtc_buf_free(&body);
}

static int
multipart(struct rtc_s3 *s3, const char *bucket, const char *key, int fd,
    long long size, const struct rtc_s3_put_opts *o, char **cause)
{
	struct rtc_sigv4_param q1[1] = { { "uploads", "" } };
	struct rtc_sigv4_param q2[1];
	struct rtc_sigv4_header ct[1];
	struct rtc_http_resp resp;
	struct rtc_buf body, xml;
	struct part *parts = NULL;
	struct mp mp;
	char upload_id[512], sha[65];
	long long ps = o != NULL && o->part_size > 0 ? o->part_size :
	    8LL * 1024 * 1024;
	int nparts, i, jobs = o != NULL && o->jobs > 0 ? o->jobs : 4, r;
	int started = 0;

	if (ps < PUT_MIN_PART)
		ps = PUT_MIN_PART;
	while ((size + ps - 1) / ps > PUT_MAX_PARTS)
		ps *= 2;
	nparts = (int)((size + ps - 1) / ps);
	rtc_buf_init(&body, RTC_HTTP_ERRBODY_MAX);
	rtc_buf_init(&xml, 1024 * 1024);
	ct[0].name = "Content-Type";
	ct[0].value = o != NULL && o->content_type ? o->content_type :
	    "application/octet-stream";
	r = put_request(s3, "POST", bucket, key, q1, 1, ct, 1, NULL, "", 0,
	    -1, 0, 0, &body, &resp, "create multipart upload", cause);
	if (r != RTC_OK)
		goto out;
	if (!xml_root_child(body.data, body.len,
	    "InitiateMultipartUploadResult", "UploadId", upload_id,
	    sizeof(upload_id)) || upload_id[0] == '\0') {
		rtc_cause_set(cause, "create multipart upload: no UploadId in "
		    "the answer");
		r = RTC_ERR_PROTO;
		goto out;
	}
	started = 1;
	rtc_debug(s3->ctx, S3, "s3://%s/%s: multipart upload, %d parts of "
	    "%lld bytes", bucket, key, nparts, ps);
	parts = calloc((size_t)nparts, sizeof(*parts));
	if (parts == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	memset(&mp, 0, sizeof(mp));
	mp.s3 = s3;
	mp.fd = fd;
	for (i = 0; i < nparts; i++) {
		parts[i].num = i + 1;
		parts[i].off = (long long)i * ps;
		parts[i].len = size - parts[i].off < ps ? size - parts[i].off :
		    ps;
		parts[i].mp = &mp;
	}
	while (mp.done < nparts && !mp.failed) {
		int64_t now = rtc_clock_mono_ns();

		if (rtc_ctx_stopping(s3->ctx)) {
			mp.failed = 1;
			mp.err = RTC_ERR_CANCELLED;
			snprintf(mp.why, sizeof(mp.why), "stopped");
			break;
		}
		for (i = 0; i < nparts && mp.inflight < jobs; i++) {
			struct part *p = &parts[i];

			if (p->state == 0 || (p->state == 2 &&
			    p->retry_at <= now)) {
				char *why = NULL;

				r = part_send(s3, bucket, key, upload_id, p,
				    &why);
				if (r != RTC_OK) {
					mp.failed = 1;
					mp.err = r;
					snprintf(mp.why, sizeof(mp.why), "%s",
					    why ? why : rtc_strerror(r));
					free(why);
					break;
				}
			}
		}
		if (mp.inflight > 0) {
			if (rtc_http_run(rtc_s3_http(s3), 100) < 0) {
				mp.failed = 1;
				mp.err = RTC_ERR_INTERNAL;
				snprintf(mp.why, sizeof(mp.why), "libcurl failed");
			}
		} else if (mp.done < nparts) {
			s3_sleep_ms(s3->ctx, 20);
		}
	}
	/* let parts in flight end before aborting or completing */
	while (mp.inflight > 0 && rtc_http_run(rtc_s3_http(s3), 100) >= 0)
		;
	if (mp.failed) {
		rtc_cause_set(cause, "s3://%s/%s: %s", bucket, key, mp.why);
		r = mp.err != RTC_OK ? mp.err : RTC_ERR_PROTO;
		goto out;
	}
	if (rtc_buf_append_str(&xml, "<CompleteMultipartUpload xmlns=\""
	    "http://s3.amazonaws.com/doc/2006-03-01/\">") != RTC_OK) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nparts; i++)
		if (rtc_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber>"
		    "<ETag>%s</ETag></Part>", parts[i].num, parts[i].etag) !=
		    RTC_OK) {
			r = RTC_ERR_NOMEM;
			goto out;
		}
	if (rtc_buf_append_str(&xml, "</CompleteMultipartUpload>") != RTC_OK) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	rtc_sha256_hex(xml.data, xml.len, sha);
	q2[0].name = "uploadId";
	q2[0].value = upload_id;
	ct[0].value = "application/xml";
	r = put_request(s3, "POST", bucket, key, q2, 1, ct, 1, sha, xml.data,
	    xml.len, -1, 0, 0, &body, &resp, "complete multipart upload",
	    cause);
	if (r == RTC_OK) {
		char code[64], msg[256];

		if (rtc_s3_error_parse(body.data, body.len, code, sizeof(code),
		    msg, sizeof(msg))) {
			rtc_cause_set(cause, "complete multipart upload: %s: %s",
			    code, msg);
			r = RTC_ERR_PROTO;
		} else {
			started = 0;      /* done: nothing to abort */
		}
	}
out:
	if (started)
		mp_abort(s3, bucket, key, upload_id);
	if (parts != NULL)
		for (i = 0; i < nparts; i++)
			rtc_s3_request_free(parts[i].url, parts[i].hdrs);
	free(parts);
	rtc_buf_free(&body);
	rtc_buf_free(&xml);
	return r;
}

int
rtc_s3_put_file(struct rtc_s3 *s3, const char *bucket, const char *key,
    const char *path, const struct rtc_s3_put_opts *o, char **cause)
{
	struct rtc_sigv4_header h[2];
	struct region_sums sums;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	long long threshold = o != NULL && o->threshold > 0 ? o->threshold :
	    64LL * 1024 * 1024;
	struct stat st;
	size_t nh = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rtc_cause_set(cause, "%s: %s", path, fd < 0 ? strerror(errno) :
		    "not a regular file");
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
	}
	if (st.st_size >= threshold && st.st_size > PUT_MIN_PART) {
		r = multipart(s3, bucket, key, fd, (long long)st.st_size, o,
		    cause);
		close(fd);
		return r;
	}
	if ((r = hash_region(fd, 0, (long long)st.st_size, &sums)) != RTC_OK) {
		rtc_cause_set(cause, "%s: cannot read", path);
		close(fd);
		return r;
	}
	h[nh].name = "Content-MD5";
	h[nh++].value = sums.md5_b64;
	if (o != NULL && o->content_type != NULL) {
		h[nh].name = "Content-Type";
		h[nh++].value = o->content_type;
	}
	rtc_buf_init(&body, RTC_HTTP_ERRBODY_MAX);
	r = put_request(s3, "PUT", bucket, key, NULL, 0, h, nh, sums.sha,
	    st.st_size == 0 ? "" : NULL, 0, fd, 0, (long long)st.st_size,
	    &body, &resp, key, cause);
	if (r == RTC_OK)
		r = check_etag(&resp, sums.md5, key, cause);
	rtc_buf_free(&body);
	close(fd);
	return r;
}

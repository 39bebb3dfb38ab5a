#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "check_common.h"
#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "watch.h"
#include "watch_dcm.h"

#define E11 "dicom/siemens-e11-mosaic-rt"

static char *
data_path(const char *rel)
{
	const char *d = check_data_dir();
	char *p = NULL;

	if (d == NULL)
		return NULL;
	ck_assert_int_ne(asprintf(&p, "%s/%s", d, rel), -1);
	return p;
}

static void
read_all(const char *path, char **data, size_t *len)
{
	ck_assert_int_eq(rtc_fs_read_file(path, 64 << 20, data, len, NULL),
	    RTC_OK);
}

/* Write bytes [off, off+n) of data to path (append when off > 0). */
static void
write_part(const char *path, const char *data, size_t off, size_t n, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | (off == 0 ? O_TRUNC : O_APPEND),
	    mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data + off, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
}

static char *
join(const char *dir, const char *name)
{
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/%s", dir, name), -1);
	return p;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Completeness by content: complete when the file ends with "END\n",
 * never when it starts with "BAD". */
static int
end_marker(const char *path, void *arg)
{
	char *d = NULL;
	size_t n = 0;
	int r;

	(void)arg;
	if (rtc_fs_read_file(path, 1 << 20, &d, &n, NULL) != RTC_OK)
		return 0;
	if (n >= 3 && memcmp(d, "BAD", 3) == 0)
		r = RTC_ERR_FORMAT;
	else
		r = n >= 4 && memcmp(d + n - 4, "END\n", 4) == 0;
	free(d);
	return r;
}

static struct rtc_watch *
open_watch(const char *dir, struct rtc_watch_opts *o)
{
	struct rtc_watch *w = NULL;
	char *cause = NULL;
	int r = rtc_watch_open(NULL, dir, o, &w, &cause);

	ck_assert_msg(r == RTC_OK, "open: %s", cause ? cause : "");
	return w;
}

START_TEST(test_siemens_names)
{
	int s = -1, v = -1;

	ck_assert_int_eq(rtc_watch_parse_siemens_name("001_000013_000005.dcm",
	    &s, &v), 1);
	ck_assert_int_eq(s, 13);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(rtc_watch_parse_siemens_name("002_999999_123456.dcm",
	    &s, &v), 1);
	ck_assert_int_eq(s, 999999);
	ck_assert_int_eq(v, 123456);
	s = v = 7;
	ck_assert_int_eq(rtc_watch_parse_siemens_name("001_00013_000005.dcm",
	    &s, &v), 0);
	ck_assert_int_eq(rtc_watch_parse_siemens_name("001_000013_000005.dcmx",
	    &s, &v), 0);
	ck_assert_int_eq(rtc_watch_parse_siemens_name("001_0000a3_000005.dcm",
	    &s, &v), 0);
	ck_assert_int_eq(rtc_watch_parse_siemens_name("001-000013-000005.dcm",
	    &s, &v), 0);
	ck_assert_int_eq(rtc_watch_parse_siemens_name("", &s, &v), 0);
	ck_assert_int_eq(s, 7);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(rtc_watch_mode_parse("auto"), RTC_WATCH_AUTO);
	ck_assert_int_eq(rtc_watch_mode_parse("poll"), RTC_WATCH_POLL);
	ck_assert_int_eq(rtc_watch_mode_parse("inotify"), RTC_WATCH_INOTIFY);
	ck_assert_int_eq(rtc_watch_mode_parse("fast"), -1);
	/* /tmp is local here: auto picks inotify */
	ck_assert_int_eq(rtc_watch_is_network_fs("/tmp"), 0);
}
END_TEST

START_TEST(test_dicom_complete_check)
{
	char *full = data_path(E11 "/001_000013_000005.dcm");
	char *trunc = data_path("dicom/truncated/trunc_001_000013_000005.dcm");
	char *dir, *p, *d = NULL;
	size_t n = 0;

	if (full == NULL)
		return;
	dir = check_tmpdir();
	ck_assert_int_eq(rtc_watch_dcm_complete(full, NULL), 1);
	ck_assert_int_eq(rtc_watch_dcm_complete(trunc, NULL), 0);
	read_all(full, &d, &n);
	/* cut inside the header, exactly before the pixels, one byte short */
	p = join(dir, "cut.dcm");
	write_part(p, d, 0, 1000, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), 0);
	write_part(p, d, 0, 100, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), 0);
	write_part(p, d, 0, n - 294912 - 12, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), 0);
	write_part(p, d, 0, n - 1, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), 0);
	write_part(p, d, 0, n, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), 1);
	/* no DICM magic: rejected at once */
	memcpy(d + 128, "XXXX", 4);
	write_part(p, d, 0, n, 0644);
	ck_assert_int_eq(rtc_watch_dcm_complete(p, NULL), RTC_ERR_FORMAT);
	ck_assert_int_eq(rtc_watch_dcm_complete("/nonexistent/x.dcm", NULL), 0);
	free(p);
	free(d);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(full);
	free(trunc);
}
END_TEST

START_TEST(test_probe_file)
{
	char *full = data_path(E11 "/001_000013_000003.dcm");
	char *trunc = data_path("dicom/truncated/trunc_001_000013_000005.dcm");
	struct rtc_dcm_probe p, q;
	char *cause = NULL, *d = NULL;
	size_t n = 0;

	if (full == NULL)
		return;
	ck_assert_int_eq(rtc_watch_dcm_probe_file(full, RTC_DCM_PROBE_DIGEST,
	    &p, &cause), RTC_OK);
	ck_assert_str_eq(p.sop_class_uid, "1.2.840.10008.5.1.4.1.1.4");
	ck_assert_str_eq(p.transfer_syntax_uid, "1.2.840.10008.1.2.1");
	ck_assert_int_eq(p.series_number, 13);
	ck_assert_int_eq(p.acquisition_number, 3);
	ck_assert_int_eq(p.instance_number, 3);
	ck_assert_int_eq(p.rows, 384);
	ck_assert_int_eq(p.columns, 384);
	ck_assert_int_eq(p.encapsulated, 0);
	ck_assert_uint_eq(p.pixel_bytes, 384 * 384 * 2);
	ck_assert_int_eq(strlen(p.pixel_sha256), 64);
	/* the same bytes from memory give the same summary */
	read_all(full, &d, &n);
	ck_assert_int_eq(rtc_watch_dcm_probe_buffer(d, n, RTC_DCM_PROBE_DIGEST,
	    &q, &cause), RTC_OK);
	ck_assert_str_eq(q.sop_instance_uid, p.sop_instance_uid);
	ck_assert_str_eq(q.pixel_sha256, p.pixel_sha256);
	ck_assert_int_eq(rtc_watch_dcm_probe_buffer(d, n - 5000, 0, &q, &cause),
	    RTC_ERR_TRUNCATED);
	ck_assert_int_eq(rtc_watch_dcm_probe_buffer(d, 100, 0, &q, &cause),
	    RTC_ERR_TRUNCATED);
	ck_assert_int_eq(rtc_watch_dcm_probe_file(trunc, 0, &q, &cause),
	    RTC_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	free(d);
	free(full);
	free(trunc);
}
END_TEST

/* A real volume written into the directory: handed out once, with a ready
 * time right after its close, then repeated events are ignored. */
START_TEST(test_inotify_real_volume)
{
	char *src = data_path(E11 "/001_000013_000004.dcm");
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *dst, *d = NULL;
	size_t n = 0;
	int64_t t0, t1;
	int fd;

	if (src == NULL)
		return;
	dir = check_tmpdir();
	read_all(src, &d, &n);
	rtc_watch_opts_init(&o);
	w = open_watch(dir, &o);
	ck_assert_int_eq(rtc_watch_mode_used(w), RTC_WATCH_INOTIFY);
	ck_assert_int_eq(rtc_watch_next(w, 50, &f, NULL), RTC_ERR_TIMEOUT);
	dst = join(dir, "001_000013_000004.dcm");
	t0 = rtc_clock_mono_ns();
	write_part(dst, d, 0, n, 0644);
	t1 = rtc_clock_mono_ns();
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.path, dst);
	ck_assert_str_eq(f.name, "001_000013_000004.dcm");
	ck_assert_int_eq(f.series, 13);
	ck_assert_int_eq(f.volume, 4);
	ck_assert_int_eq(f.size, (int64_t)n);
	ck_assert_int_eq(f.preexisting, 0);
	ck_assert_int_ge(f.ready_ns, t0);
	ck_assert_int_lt(f.ready_ns - t1, 500 * 1000000LL);
	/* open for writing and close without a change: an event, no file */
	fd = open(dst, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rtc_watch_next(w, 200, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.ready, 1);
	ck_assert_uint_eq(st.ignored, 1);
	ck_assert_int_eq(st.inotify, 1);
	rtc_watch_free(w);
	free(dst);
	free(d);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(src);
}
END_TEST

/* The real half-written file is not handed out; once the rest of its
 * bytes arrive it is, exactly once. */
START_TEST(test_half_written_then_completed)
{
	char *src = data_path(E11 "/001_000013_000005.dcm");
	char *trunc = data_path("dicom/truncated/trunc_001_000013_000005.dcm");
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *dst, *d = NULL, *t = NULL;
	size_t n = 0, tn = 0;
	int64_t t_done;

	if (src == NULL)
		return;
	read_all(src, &d, &n);
	read_all(trunc, &t, &tn);
	/* the truncated file is the head of volume 5 */
	ck_assert_uint_lt(tn, n);
	ck_assert_int_eq(memcmp(d, t, tn), 0);
	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.poll_ms = 20;
	w = open_watch(dir, &o);
	dst = join(dir, "001_000013_000005.dcm");
	write_part(dst, t, 0, tn, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 300, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_ge(st.checks, 2);   /* retried, not forgotten */
	write_part(dst, d, tn, n - tn, 0644);
	t_done = rtc_clock_mono_ns();
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.name, "001_000013_000005.dcm");
	ck_assert_int_eq(f.size, (int64_t)n);
	ck_assert_int_le(f.ready_ns - t_done, 500 * 1000000LL);
	ck_assert_int_eq(rtc_watch_next(w, 200, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.ready, 1);
	ck_assert_uint_eq(st.timed_out, 0);
	rtc_watch_free(w);
	free(dst);
	free(d);
	free(t);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(src);
	free(trunc);
}
END_TEST

START_TEST(test_truncated_times_out)
{
	char *trunc = data_path("dicom/truncated/trunc_001_000013_000005.dcm");
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *dst, *t = NULL;
	size_t tn = 0;

	if (trunc == NULL)
		return;
	read_all(trunc, &t, &tn);
	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.poll_ms = 20;
	o.timeout_ms = 200;
	w = open_watch(dir, &o);
	dst = join(dir, "001_000013_000005.dcm");
	write_part(dst, t, 0, tn, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 600, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.timed_out, 1);
	ck_assert_uint_eq(st.ready, 0);
	/* given up, not rechecked while it stays the same */
	{
		unsigned long long checks = st.checks;

		ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
		rtc_watch_get_stats(w, &st);
		ck_assert_uint_eq(st.checks, checks);
	}
	rtc_watch_free(w);
	free(dst);
	free(t);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(trunc);
}
END_TEST

START_TEST(test_non_dicom_rejected)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *p;
	char junk[4096];

	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	w = open_watch(dir, &o);
	memset(junk, 'x', sizeof(junk));
	p = join(dir, "notes.dcm");
	write_part(p, junk, 0, sizeof(junk), 0644);
	ck_assert_int_eq(rtc_watch_next(w, 300, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.rejected, 1);
	ck_assert_uint_eq(st.ready, 0);
	rtc_watch_free(w);
	free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Files already there: handed out in name order, or ignored. A file still
 * being written at start is new even when existing files are ignored. */
static void
copy_file(const char *from, const char *to)
{
	char *d = NULL;
	size_t n = 0;

	read_all(from, &d, &n);
	write_part(to, d, 0, n, 0644);
	free(d);
}

START_TEST(test_existing_files)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch *w;
	char *src, *dir, *trunc, *full, *d = NULL, *t = NULL, *p;
	size_t n = 0, tn = 0;
	int i;

	src = data_path(E11);
	if (src == NULL)
		return;
	dir = check_tmpdir();
	for (i = 10; i >= 0; i--) {
		char name[32], *a, *b;

		snprintf(name, sizeof(name), "001_000013_%06d.dcm", i);
		a = join(src, name);
		b = join(dir, name);
		copy_file(a, b);
		free(a);
		free(b);
	}
	rtc_watch_opts_init(&o);
	o.process_existing = 1;
	o.poll_ms = 10;
	w = open_watch(dir, &o);
	for (i = 0; i <= 10; i++) {
		char want[32];

		snprintf(want, sizeof(want), "001_000013_%06d.dcm", i);
		ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
		ck_assert_str_eq(f.name, want);
		ck_assert_int_eq(f.preexisting, 1);
		ck_assert_int_eq(f.volume, i);
	}
	ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_free(w);

	/* ignore the complete ones; a half-written file counts as new */
	trunc = data_path("dicom/truncated/trunc_001_000013_000005.dcm");
	full = data_path(E11 "/001_000013_000005.dcm");
	read_all(trunc, &t, &tn);
	read_all(full, &d, &n);
	p = join(dir, "001_000013_000011.dcm");
	write_part(p, t, 0, tn, 0644);
	o.process_existing = 0;
	w = open_watch(dir, &o);
	ck_assert_int_eq(rtc_watch_next(w, 150, &f, NULL), RTC_ERR_TIMEOUT);
	write_part(p, d, tn, n - tn, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.name, "001_000013_000011.dcm");
	ck_assert_int_eq(f.preexisting, 1);
	ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_free(w);
	free(p);
	free(d);
	free(t);
	free(trunc);
	free(full);
	free(src);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

struct slow_writer {
	const char *dir;
	const char *data;
	size_t len;
	int files;
	int chunks;
	int pause_ms;
	int64_t done_ns[8];
};

static void *
slow_write(void *arg)
{
	struct slow_writer *sw = arg;
	int i, c;

	for (i = 0; i < sw->files; i++) {
		char name[64], *p;
		size_t step = sw->len / (size_t)sw->chunks;

		snprintf(name, sizeof(name), "001_000007_%06d.dcm", i + 1);
		p = join(sw->dir, name);
		for (c = 0; c < sw->chunks; c++) {
			size_t off = (size_t)c * step;
			size_t n = c == sw->chunks - 1 ? sw->len - off : step;

			write_part(p, sw->data, off, n, 0644);
			sleep_ms(sw->pause_ms);
		}
		sw->done_ns[i] = rtc_clock_mono_ns();
		free(p);
	}
	return NULL;
}

/* Polling (network shares): files written in slow chunks, each handed
 * out once, after its size stopped changing, in order. */
START_TEST(test_poll_slow_writer)
{
	char *src = data_path(E11 "/001_000013_000002.dcm");
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	struct slow_writer sw;
	pthread_t th;
	char *dir, *d = NULL;
	size_t n = 0;
	int i;

	if (src == NULL)
		return;
	read_all(src, &d, &n);
	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.mode = RTC_WATCH_POLL;
	o.poll_ms = 15;
	o.stable_polls = 2;
	w = open_watch(dir, &o);
	ck_assert_int_eq(rtc_watch_mode_used(w), RTC_WATCH_POLL);
	memset(&sw, 0, sizeof(sw));
	sw.dir = dir;
	sw.data = d;
	sw.len = n;
	sw.files = 3;
	sw.chunks = 4;
	sw.pause_ms = 25;
	ck_assert_int_eq(pthread_create(&th, NULL, slow_write, &sw), 0);
	for (i = 0; i < 3; i++) {
		char want[32];

		snprintf(want, sizeof(want), "001_000007_%06d.dcm", i + 1);
		ck_assert_int_eq(rtc_watch_next(w, 5000, &f, NULL), RTC_OK);
		ck_assert_str_eq(f.name, want);
		ck_assert_int_eq(f.size, (int64_t)n);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(rtc_watch_next(w, 150, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.ready, 3);
	ck_assert_int_eq(st.inotify, 0);
	ck_assert_uint_ge(st.rescans, 5);
	rtc_watch_free(w);
	free(d);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
	free(src);
}
END_TEST

/* Write to a hidden temp name, then rename into place: nothing before the
 * rename, the file once after. Non-matching names are ignored. */
START_TEST(test_rename_and_pattern)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch *w;
	char *dir, *tmp, *dst, *other;
	static const char body[] = "header...payload END\n";

	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.complete = end_marker;
	o.pattern = "*.dcm";
	w = open_watch(dir, &o);
	tmp = join(dir, ".vol1.dcm.tmp");
	dst = join(dir, "vol1.dcm");
	other = join(dir, "vol1.txt");
	write_part(tmp, body, 0, sizeof(body) - 1, 0644);
	write_part(other, body, 0, sizeof(body) - 1, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 150, &f, NULL), RTC_ERR_TIMEOUT);
	ck_assert_int_eq(rename(tmp, dst), 0);
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.name, "vol1.dcm");
	ck_assert_int_eq(f.series, -1);
	ck_assert_int_eq(f.volume, -1);
	ck_assert_int_eq(rtc_watch_next(w, 150, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_free(w);
	free(tmp);
	free(dst);
	free(other);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* A custom completeness check: retried until it says yes; a file it
 * rejects is not checked again until it changes; a rewritten file is a
 * new file. */
START_TEST(test_custom_check_and_rewrite)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *p, *bad;
	int fd;

	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.complete = end_marker;
	o.poll_ms = 10;
	w = open_watch(dir, &o);
	p = join(dir, "a");
	bad = join(dir, "b");
	write_part(p, "part one ", 0, 9, 0644);
	write_part(bad, "BAD file", 0, 8, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
	fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "and more ", 9), 9);
	close(fd);
	ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
	fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "END\n", 4), 4);
	close(fd);
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.name, "a");
	ck_assert_int_eq(f.size, 22);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.rejected, 1);
	/* rewritten with new content: a new file */
	write_part(p, "second version END\n", 0, 19, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 2000, &f, NULL), RTC_OK);
	ck_assert_str_eq(f.name, "a");
	ck_assert_int_eq(f.size, 19);
	ck_assert_int_eq(rtc_watch_next(w, 100, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_free(w);
	free(p);
	free(bad);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static void *
waker(void *arg)
{
	sleep_ms(50);
	rtc_watch_wake(arg);
	return NULL;
}

START_TEST(test_wake_and_dir_gone)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch *w;
	pthread_t th;
	int64_t t0;
	char *dir, *cause = NULL;
	int mode;

	for (mode = RTC_WATCH_INOTIFY; mode <= RTC_WATCH_POLL; mode++) {
		dir = check_tmpdir();
		rtc_watch_opts_init(&o);
		o.mode = (enum rtc_watch_mode)mode;
		o.poll_ms = 10;
		w = open_watch(dir, &o);
		t0 = rtc_clock_mono_ns();
		ck_assert_int_eq(pthread_create(&th, NULL, waker, w), 0);
		ck_assert_int_eq(rtc_watch_next(w, 5000, &f, NULL),
		    RTC_ERR_CANCELLED);
		ck_assert_int_lt(rtc_clock_mono_ns() - t0, 2000 * 1000000LL);
		pthread_join(th, NULL);
		ck_assert_int_eq(rmdir(dir), 0);
		ck_assert_msg(rtc_watch_next(w, 2000, &f, &cause) == RTC_ERR_IO,
		    "mode %d: directory removal not noticed", mode);
		ck_assert_ptr_nonnull(strstr(cause, "removed"));
		free(cause);
		cause = NULL;
		rtc_watch_free(w);
		free(dir);
	}
	ck_assert_int_eq(rtc_watch_open(NULL, "/nonexistent/dir", NULL, &w,
	    &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	rtc_watch_free(NULL);
}
END_TEST

START_TEST(test_size_cap)
{
	struct rtc_watch_opts o;
	struct rtc_watch_file f;
	struct rtc_watch_stats st;
	struct rtc_watch *w;
	char *dir, *p;

	dir = check_tmpdir();
	rtc_watch_opts_init(&o);
	o.complete = end_marker;
	o.max_bytes = 10;
	w = open_watch(dir, &o);
	p = join(dir, "big");
	write_part(p, "far too long END\n", 0, 17, 0644);
	ck_assert_int_eq(rtc_watch_next(w, 200, &f, NULL), RTC_ERR_TIMEOUT);
	rtc_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.rejected, 1);
	rtc_watch_free(w);
	free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_siemens_names);
	tcase_add_test(tc, test_dicom_complete_check);
	tcase_add_test(tc, test_probe_file);
	tcase_add_test(tc, test_inotify_real_volume);
	tcase_add_test(tc, test_half_written_then_completed);
	tcase_add_test(tc, test_truncated_times_out);
	tcase_add_test(tc, test_non_dicom_rejected);
	tcase_add_test(tc, test_existing_files);
	tcase_add_test(tc, test_poll_slow_writer);
	tcase_add_test(tc, test_rename_and_pattern);
	tcase_add_test(tc, test_custom_check_and_rewrite);
	tcase_add_test(tc, test_wake_and_dir_gone);
	tcase_add_test(tc, test_size_cap);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(watch_suite)

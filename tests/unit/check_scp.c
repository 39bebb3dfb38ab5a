#include "rtc_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "check_common.h"
#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "process.h"
#include "scp.h"
#include "watch_dcm.h"

#define E11 "dicom/siemens-e11-mosaic-rt"
#define MAXOBJ 32

struct got {
	pthread_mutex_t mu;
	int n;
	struct rtc_dcm_probe p[MAXOBJ];
	char rx[MAXOBJ][68];
	char ts[MAXOBJ][68];
	char calling[MAXOBJ][20];
	int acq[MAXOBJ];
	unsigned long long pixel_bytes[MAXOBJ];
	int64_t complete_ns[MAXOBJ];
	int refuse_acq;           /* refuse objects with this acquisition */
	int sleep_ms;             /* slow consumer */
	int kept;                 /* take ownership of one buffer */
};

static int
collect(void *arg, struct rtc_scp_object *o)
{
	struct got *g = arg;
	int i, r;

	pthread_mutex_lock(&g->mu);
	i = g->n;
	if (i < MAXOBJ) {
		r = rtc_watch_dcm_probe_buffer(o->data, o->len,
		    RTC_DCM_PROBE_DIGEST, &g->p[i], NULL);
		ck_assert_int_eq(r, RTC_OK);
		snprintf(g->rx[i], sizeof(g->rx[i]), "%s", o->received_syntax_uid);
		snprintf(g->ts[i], sizeof(g->ts[i]), "%s", o->transfer_syntax_uid);
		snprintf(g->calling[i], sizeof(g->calling[i]), "%s",
		    o->calling_aet);
		g->acq[i] = o->acquisition_number;
		g->pixel_bytes[i] = o->pixel_bytes;
		g->complete_ns[i] = o->complete_ns;
		g->n++;
	}
	if (!g->kept) {
		/* the callback may keep the buffer */
		void *keep = o->data;

		o->data = NULL;
		g->kept = 1;
		free(keep);
	}
	pthread_mutex_unlock(&g->mu);
	if (g->sleep_ms > 0) {
		struct timespec ts = { 0, (long)g->sleep_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	return o->acquisition_number == g->refuse_acq ? RTC_ERR_NOMEM : RTC_OK;
}

static int
have(const char *prog)
{
	const char *argv[] = { "sh", "-c", NULL, NULL };
	char cmd[256];
	int st = -1;

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", prog);
	argv[2] = cmd;
	if (rtc_process_run(argv, NULL, NULL, NULL, NULL, 5000, &st, NULL) ==
	    RTC_OK && st == 0)
		return 1;
	if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
		ck_abort_msg("CI=true but %s is not installed", prog);
	fprintf(stderr, "SKIP: %s not installed\n", prog);
	return 0;
}

static struct rtc_scp *
start(struct got *g, struct rtc_scp_opts *o)
{
	struct rtc_scp *s = NULL;
	char *cause = NULL;
	int r;

	o->on_object = collect;
	o->arg = g;
	r = rtc_scp_start(NULL, o, &s, &cause);
	ck_assert_msg(r == RTC_OK, "start: %s", cause ? cause : "");
	ck_assert_int_gt(rtc_scp_port(s), 0);
	return s;
}

/* Run a DCMTK tool. RET: its exit status. */
static int
run_tool(const char *const *argv)
{
	struct rtc_buf out, err;
	int st = -1, r;

	rtc_buf_init(&out, 1 << 20);
	rtc_buf_init(&err, 1 << 20);
	r = rtc_process_run(argv, NULL, NULL, &out, &err, 60000, &st, NULL);
	ck_assert_int_eq(r, RTC_OK);
	rtc_buf_free(&out);
	rtc_buf_free(&err);
	return rtc_process_exit_status(st);
}

static char *
e11_file(const char *data, int i)
{
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/" E11 "/001_000013_%06d.dcm", data, i),
	    -1);
	return p;
}

static void
wait_idle(struct rtc_scp *s)
{
	struct rtc_scp_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		rtc_scp_get_stats(s, &st);
		if (st.active == 0)
			return;
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("association still open");
}

/* DCMTK's storescu pushes the real series: every file arrives once, with
 * its SOP instance and pixel bytes intact. */
START_TEST(test_push_series)
{
	const char *data = check_data_dir();
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s;
	struct got g;
	char port[16], *files[11];
	const char *argv[32];
	int i, n = 0;
	int64_t t0, t1;

	if (data == NULL || !have("storescu"))
		return;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	g.refuse_acq = -100;
	rtc_scp_opts_init(&o);
	o.bind_addr = "127.0.0.1";
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	argv[n++] = "storescu";
	argv[n++] = "-aet";
	argv[n++] = "SCANNER";
	argv[n++] = "-aec";
	argv[n++] = "RTC";
	argv[n++] = "127.0.0.1";
	argv[n++] = port;
	for (i = 0; i < 11; i++)
		argv[n++] = files[i] = e11_file(data, i);
	argv[n] = NULL;
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(run_tool(argv), 0);
	t1 = rtc_clock_mono_ns();
	fprintf(stderr, "# storescu pushed 11 files in %.1f ms\n",
	    (double)(t1 - t0) / 1e6);
	wait_idle(s);
	ck_assert_int_eq(g.n, 11);
	for (i = 0; i < 11; i++) {
		struct rtc_dcm_probe src;

		ck_assert_int_eq(rtc_watch_dcm_probe_file(files[i],
		    RTC_DCM_PROBE_DIGEST, &src, NULL), RTC_OK);
		ck_assert_str_eq(g.p[i].sop_instance_uid, src.sop_instance_uid);
		ck_assert_str_eq(g.p[i].sop_class_uid, src.sop_class_uid);
		ck_assert_uint_eq(g.p[i].pixel_bytes, src.pixel_bytes);
		ck_assert_str_eq(g.p[i].pixel_sha256, src.pixel_sha256);
		ck_assert_int_eq(g.p[i].acquisition_number,
		    src.acquisition_number);
		ck_assert_int_eq(g.acq[i], src.acquisition_number);
		ck_assert_uint_eq(g.pixel_bytes[i], src.pixel_bytes);
		ck_assert_str_eq(g.calling[i], "SCANNER");
		ck_assert_str_eq(g.ts[i], "1.2.840.10008.1.2.1");
		ck_assert_int_ge(g.complete_ns[i], t0);
		ck_assert_int_le(g.complete_ns[i], t1);
		if (i > 0)
			ck_assert_int_ge(g.complete_ns[i], g.complete_ns[i - 1]);
		free(files[i]);
	}
	/* the duplicate file arrives as what it is: a second copy */
	ck_assert_str_eq(g.p[0].sop_instance_uid, g.p[10].sop_instance_uid);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.associations, 1);
	ck_assert_uint_eq(st.objects, 11);
	ck_assert_uint_eq(st.refused_objects, 0);
	ck_assert_uint_eq(st.nodelay_sockets, 1);
	ck_assert_uint_ge(st.bytes, 11ULL * 450000);
	ck_assert_int_eq(st.active, 0);
	rtc_scp_free(s);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

START_TEST(test_echo)
{
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s;
	struct got g;
	char port[16];
	const char *argv[] = { "echoscu", "-aec", "RTC", "127.0.0.1", port,
	    NULL };

	if (!have("echoscu"))
		return;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	rtc_scp_opts_init(&o);
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	ck_assert_int_eq(run_tool(argv), 0);
	ck_assert_int_eq(run_tool(argv), 0);
	wait_idle(s);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.echoes, 2);
	ck_assert_uint_eq(st.associations, 2);
	ck_assert_uint_eq(st.nodelay_sockets, 2);
	ck_assert_int_eq(g.n, 0);
	rtc_scp_free(s);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

/* Calling AE titles outside the allow-list, and calls to another AE
 * title, are refused. */
START_TEST(test_ae_titles)
{
	const char *data = check_data_dir();
	const char *allow[] = { "SCANNER", "CONSOLE2", NULL };
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s;
	struct got g;
	char port[16], *file;

	if (data == NULL || !have("storescu"))
		return;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	g.refuse_acq = -100;
	rtc_scp_opts_init(&o);
	o.aet = "RTC_LIVE";
	o.allow_calling = allow;
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	file = e11_file(data, 3);
	{
		const char *bad_calling[] = { "storescu", "-aet", "INTRUDER",
		    "-aec", "RTC_LIVE", "127.0.0.1", port, file, NULL };
		const char *bad_called[] = { "storescu", "-aet", "SCANNER",
		    "-aec", "PACS", "127.0.0.1", port, file, NULL };
		const char *good[] = { "storescu", "-aet", "CONSOLE2",
		    "-aec", "RTC_LIVE", "127.0.0.1", port, file, NULL };

		ck_assert_int_ne(run_tool(bad_calling), 0);
		ck_assert_int_ne(run_tool(bad_called), 0);
		ck_assert_int_eq(g.n, 0);
		ck_assert_int_eq(run_tool(good), 0);
	}
	wait_idle(s);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.calling[0], "CONSOLE2");
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.rejected, 2);
	ck_assert_uint_eq(st.associations, 1);
	rtc_scp_free(s);
	free(file);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

struct logged {
	pthread_mutex_t mu;
	char text[8192];
	size_t len;
};

static void
log_sink(void *arg, enum rtc_log_level level, const char *line)
{
	struct logged *l = arg;
	size_t n = strlen(line);

	(void)level;
	pthread_mutex_lock(&l->mu);
	if (l->len + n + 2 < sizeof(l->text)) {
		memcpy(l->text + l->len, line, n);
		l->len += n;
		l->text[l->len++] = '\n';
		l->text[l->len] = '\0';
	}
	pthread_mutex_unlock(&l->mu);
}

/* A calling AE title with control bytes (terminal escapes, line breaks)
 * is refused, with no allow-list too, and never reaches the log as is. */
START_TEST(test_ae_title_control_bytes)
{
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s = NULL;
	struct rtc_ctx *ctx;
	struct logged lg;
	struct got g;
	char port[16];
	const char *evil[] = { "echoscu", "-aet", "A\033[2J\nB", "-aec", "RTC",
	    "127.0.0.1", port, NULL };
	const char *good[] = { "echoscu", "-aet", "A?B", "-aec", "RTC",
	    "127.0.0.1", port, NULL };
	size_t i;

	if (!have("echoscu"))
		return;
	memset(&g, 0, sizeof(g));
	memset(&lg, 0, sizeof(lg));
	pthread_mutex_init(&g.mu, NULL);
	pthread_mutex_init(&lg.mu, NULL);
	ctx = rtc_ctx_new("t");
	ck_assert_ptr_nonnull(ctx);
	rtc_log_set_sink(ctx->log, log_sink, &lg);
	rtc_scp_opts_init(&o);
	o.on_object = collect;
	o.arg = &g;
	ck_assert_int_eq(rtc_scp_start(ctx, &o, &s, NULL), RTC_OK);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	ck_assert_int_ne(run_tool(evil), 0);
	ck_assert_int_eq(run_tool(good), 0);
	wait_idle(s);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.rejected, 1);
	ck_assert_uint_eq(st.echoes, 1);
	rtc_scp_free(s);
	pthread_mutex_lock(&lg.mu);
	ck_assert_ptr_nonnull(strstr(lg.text, "'A?[2J?B'"));
	for (i = 0; i < lg.len; i++)
		ck_assert(lg.text[i] == '\n' ||
		    (unsigned char)lg.text[i] >= 0x20);
	pthread_mutex_unlock(&lg.mu);
	rtc_ctx_free(ctx);
	pthread_mutex_destroy(&lg.mu);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

/* JPEG-lossless copies made with dcmcjpeg, proposed with -xs: received
 * compressed, handed out decompressed with the original pixels, or kept
 * compressed when asked. */
START_TEST(test_jpeg_lossless)
{
	const char *data = check_data_dir();
	struct rtc_scp_opts o;
	struct rtc_scp *s;
	struct got g;
	char port[16], *dir, *src[2], *jpg[2];
	int i, pass;

	if (data == NULL || !have("storescu") || !have("dcmcjpeg"))
		return;
	dir = check_tmpdir();
	for (i = 0; i < 2; i++) {
		const char *argv[] = { "dcmcjpeg", NULL, NULL, NULL };

		src[i] = e11_file(data, 4 + i);
		ck_assert_int_ne(asprintf(&jpg[i], "%s/j%d.dcm", dir, i), -1);
		argv[1] = src[i];
		argv[2] = jpg[i];
		ck_assert_int_eq(run_tool(argv), 0);
	}
	for (pass = 0; pass < 2; pass++) {
		memset(&g, 0, sizeof(g));
		pthread_mutex_init(&g.mu, NULL);
		g.refuse_acq = -100;
		rtc_scp_opts_init(&o);
		o.decompress = pass == 0;
		s = start(&g, &o);
		snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
		{
			const char *argv[] = { "storescu", "-xs", "-aec", "RTC",
			    "127.0.0.1", port, jpg[0], jpg[1], NULL };

			ck_assert_int_eq(run_tool(argv), 0);
		}
		wait_idle(s);
		ck_assert_int_eq(g.n, 2);
		for (i = 0; i < 2; i++) {
			struct rtc_dcm_probe p;

			ck_assert_int_eq(rtc_watch_dcm_probe_file(src[i],
			    RTC_DCM_PROBE_DIGEST, &p, NULL), RTC_OK);
			ck_assert_str_eq(g.rx[i], "1.2.840.10008.1.2.4.70");
			ck_assert_str_eq(g.p[i].sop_instance_uid,
			    p.sop_instance_uid);
			if (pass == 0) {
				ck_assert_str_eq(g.ts[i], "1.2.840.10008.1.2.1");
				ck_assert_int_eq(g.p[i].encapsulated, 0);
				ck_assert_uint_eq(g.p[i].pixel_bytes,
				    p.pixel_bytes);
				/* lossless: the very same pixels */
				ck_assert_str_eq(g.p[i].pixel_sha256,
				    p.pixel_sha256);
			} else {
				ck_assert_str_eq(g.ts[i],
				    "1.2.840.10008.1.2.4.70");
				ck_assert_int_eq(g.p[i].encapsulated, 1);
				ck_assert_uint_lt(g.p[i].pixel_bytes,
				    p.pixel_bytes);
				ck_assert_uint_eq(g.pixel_bytes[i],
				    g.p[i].pixel_bytes);
			}
		}
		rtc_scp_free(s);
		pthread_mutex_destroy(&g.mu);
	}
	for (i = 0; i < 2; i++) {
		free(src[i]);
		free(jpg[i]);
	}
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* A callback that refuses one object: that C-STORE fails, the others
 * succeed. An object over the size cap aborts its association. */
START_TEST(test_refusal_and_cap)
{
	const char *data = check_data_dir();
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s;
	struct got g;
	char port[16], *f[3];
	int i;

	if (data == NULL || !have("storescu"))
		return;
	for (i = 0; i < 3; i++)
		f[i] = e11_file(data, i + 1);
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	g.refuse_acq = 2;
	rtc_scp_opts_init(&o);
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	{
		/* -nh: go on after the refusal */
		const char *argv[] = { "storescu", "-nh", "-aec", "RTC",
		    "127.0.0.1", port, f[0], f[1], f[2], NULL };

		run_tool(argv);
	}
	wait_idle(s);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.objects, 2);
	ck_assert_uint_eq(st.refused_objects, 1);
	rtc_scp_free(s);

	memset(&g, 0, sizeof(g));
	g.refuse_acq = -100;
	rtc_scp_opts_init(&o);
	o.max_object_bytes = 100000;
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	{
		const char *argv[] = { "storescu", "-aec", "RTC", "127.0.0.1",
		    port, f[0], NULL };

		ck_assert_int_ne(run_tool(argv), 0);
	}
	wait_idle(s);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_ge(st.aborted, 1);
	ck_assert_int_eq(g.n, 0);
	rtc_scp_free(s);
	for (i = 0; i < 3; i++)
		free(f[i]);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

static int
try_connect(const char *addr, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The bind address is honoured; a port in use and bad options are
 * errors that say so. */
START_TEST(test_bind_and_options)
{
	struct rtc_scp_opts o;
	struct rtc_scp *s, *s2 = NULL;
	struct got g;
	char *cause = NULL;
	int fd;

	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	rtc_scp_opts_init(&o);
	o.bind_addr = "127.0.0.2";
	s = start(&g, &o);
	fd = try_connect("127.0.0.1", rtc_scp_port(s));
	ck_assert_int_eq(fd, -1);
	fd = try_connect("127.0.0.2", rtc_scp_port(s));
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* the same port again */
	o.port = rtc_scp_port(s);
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, &cause), RTC_ERR_NET);
	ck_assert_ptr_nonnull(strstr(cause, "in use"));
	free(cause);
	cause = NULL;
	rtc_scp_free(s);

	rtc_scp_opts_init(&o);
	o.on_object = collect;
	o.arg = &g;
	o.aet = "A\\B";
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, &cause), RTC_ERR_INVAL);
	free(cause);
	cause = NULL;
	o.aet = "SEVENTEEN_LETTERS";
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, NULL), RTC_ERR_INVAL);
	o.aet = "RTC";
	o.port = 70000;
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, NULL), RTC_ERR_INVAL);
	o.port = 0;
	o.on_object = NULL;
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, NULL), RTC_ERR_INVAL);
	o.on_object = collect;
	o.bind_addr = "no-such-host.invalid";
	ck_assert_int_eq(rtc_scp_start(NULL, &o, &s2, NULL), RTC_ERR_NET);
	ck_assert_int_eq(rtc_scp_valid_aet("RTC"), 1);
	ck_assert_int_eq(rtc_scp_valid_aet("    "), 0);
	ck_assert_int_eq(rtc_scp_valid_aet(""), 0);
	rtc_scp_free(NULL);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

/* A peer that sends junk, or nothing, does not take the receiver down:
 * the next association is served. */
START_TEST(test_junk_and_silent_peers)
{
	struct rtc_scp_opts o;
	struct rtc_scp_stats st;
	struct rtc_scp *s;
	struct got g;
	char port[16];
	const char *echo[] = { "echoscu", "-aec", "RTC", "127.0.0.1", port,
	    NULL };
	int fd, silent;
	int64_t t0;

	if (!have("echoscu"))
		return;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	rtc_scp_opts_init(&o);
	o.acse_timeout_s = 1;
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	fd = try_connect("127.0.0.1", rtc_scp_port(s));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	silent = try_connect("127.0.0.1", rtc_scp_port(s));
	ck_assert_int_ge(silent, 0);
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(run_tool(echo), 0);
	/* the silent peer held the door at most acse_timeout_s */
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 5000 * 1000000LL);
	close(fd);
	close(silent);
	wait_idle(s);
	rtc_scp_get_stats(s, &st);
	ck_assert_uint_eq(st.echoes, 1);
	rtc_scp_free(s);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

/* Stopping while a push is in progress returns promptly. */
START_TEST(test_stop_during_push)
{
	const char *data = check_data_dir();
	struct rtc_process_opts po;
	struct rtc_scp_opts o;
	struct rtc_scp *s;
	struct got g;
	char port[16], *files[11];
	const char *argv[32];
	pid_t pid;
	int i, n = 0, status, devnull;
	int64_t t0;

	if (data == NULL || !have("storescu"))
		return;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	g.refuse_acq = -100;
	g.sleep_ms = 300;
	rtc_scp_opts_init(&o);
	s = start(&g, &o);
	snprintf(port, sizeof(port), "%d", rtc_scp_port(s));
	argv[n++] = "storescu";
	argv[n++] = "-aec";
	argv[n++] = "RTC";
	argv[n++] = "127.0.0.1";
	argv[n++] = port;
	for (i = 0; i < 11; i++)
		argv[n++] = files[i] = e11_file(data, i);
	argv[n] = NULL;
	devnull = open("/dev/null", O_WRONLY);
	rtc_process_opts_init(&po);
	po.stdout_fd = devnull;
	po.stderr_fd = devnull;
	ck_assert_int_eq(rtc_process_spawn(argv, &po, &pid, NULL), RTC_OK);
	for (i = 0; i < 1000; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		int got;

		pthread_mutex_lock(&g.mu);
		got = g.n;
		pthread_mutex_unlock(&g.mu);
		if (got > 0)
			break;
		nanosleep(&ts, NULL);
	}
	t0 = rtc_clock_mono_ns();
	rtc_scp_free(s);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 3000 * 1000000LL);
	ck_assert_int_lt(g.n, 11);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(devnull);
	for (i = 0; i < 11; i++)
		free(files[i]);
	pthread_mutex_destroy(&g.mu);
}
END_TEST

static Suite *
scp_suite(void)
{
	Suite *s = suite_create("scp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_push_series);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_ae_titles);
	tcase_add_test(tc, test_ae_title_control_bytes);
	tcase_add_test(tc, test_jpeg_lossless);
	tcase_add_test(tc, test_refusal_and_cap);
	tcase_add_test(tc, test_bind_and_options);
	tcase_add_test(tc, test_junk_and_silent_peers);
	tcase_add_test(tc, test_stop_during_push);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(scp_suite)

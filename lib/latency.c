/*
 * latency: design notes (the contract is in latency.h).
 *
 * Samples are a flat array; summarising copies the figures out and sorts
 * the copies (qsort), so adding stays O(1) and allocation-free on the
 * pipeline's path. The TSV is built in an rtc_buf and written with
 * rtc_fs_write_atomic(), so a reader never sees half a table.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "latency.h"

struct rtc_latency {
	struct rtc_lat_sample *s;
	size_t n, cap;
	unsigned long dropped;
};

struct rtc_latency *
rtc_latency_new(size_t expected)
{
	struct rtc_latency *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cap = expected > 0 ? expected : 1024;
	l->s = malloc(l->cap * sizeof(*l->s));
	if (l->s == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void
rtc_latency_free(struct rtc_latency *l)
{
	if (l == NULL)
		return;
	free(l->s);
	free(l);
}

int
rtc_latency_add(struct rtc_latency *l, const struct rtc_fb_record *r,
    double total_ms)
{
	struct rtc_lat_sample *x;

	if (l->n == l->cap) {
		size_t nc = l->cap * 2;
		struct rtc_lat_sample *p = realloc(l->s, nc * sizeof(*p));

		if (p == NULL)
			return RTC_ERR_NOMEM;
		l->s = p;
		l->cap = nc;
	}
	x = &l->s[l->n++];
	x->run = r->run;
	x->vol = r->vol;
	x->flags = r->flags;
	x->total_ms = total_ms;
	memcpy(x->stage_ms, r->stage_ms, sizeof(x->stage_ms));
	return RTC_OK;
}

void
rtc_latency_add_dropped(struct rtc_latency *l, unsigned long n)
{
	l->dropped += n;
}

size_t
rtc_latency_count(const struct rtc_latency *l)
{
	return l->n;
}

const struct rtc_lat_sample *
rtc_latency_sample(const struct rtc_latency *l, size_t i)
{
	return i < l->n ? &l->s[i] : NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank on sorted v[0..n). */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return NAN;
	k = (size_t)ceil(p / 100.0 * (double)n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

int
rtc_latency_summarise(const struct rtc_latency *l, struct rtc_lat_summary *s)
{
	double *v;
	double sum = 0;
	size_t i, m;
	int st;

	memset(s, 0, sizeof(*s));
	s->volumes = l->n;
	s->dropped = l->dropped;
	v = malloc((l->n > 0 ? l->n : 1) * sizeof(*v));
	if (v == NULL)
		return RTC_ERR_NOMEM;
	for (i = 0; i < l->n; i++) {
		v[i] = l->s[i].total_ms;
		sum += v[i];
	}
	qsort(v, l->n, sizeof(*v), cmp_double);
	s->p50 = pct(v, l->n, 50);
	s->p95 = pct(v, l->n, 95);
	s->p99 = pct(v, l->n, 99);
	s->max = l->n > 0 ? v[l->n - 1] : NAN;
	s->mean = l->n > 0 ? sum / (double)l->n : NAN;
	s->stage_median[RTC_STAGE_INTAKE] = l->n > 0 ? 0.0 : NAN;
	for (st = 1; st < RTC_STAGE__COUNT; st++) {
		m = 0;
		for (i = 0; i < l->n; i++) {
			const double *t = l->s[i].stage_ms;
			double prev = 0.0;
			int k;

			if (!isfinite(t[st]))
				continue;
			for (k = st - 1; k >= 0; k--)
				if (isfinite(t[k])) {
					prev = t[k];
					break;
				}
			v[m++] = t[st] - prev;
		}
		qsort(v, m, sizeof(*v), cmp_double);
		s->stage_median[st] = pct(v, m, 50);
	}
	free(v);
	return RTC_OK;
}

static json_t *
num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
rtc_latency_summary_json(const struct rtc_lat_summary *s, int threads)
{
	json_t *j = json_object(), *lat = json_object(), *st = json_object();
	int i, bad = 0;

	if (j == NULL || lat == NULL || st == NULL) {
		json_decref(j);
		json_decref(lat);
		json_decref(st);
		return NULL;
	}
	bad |= json_object_set_new(j, "volumes", json_integer((json_int_t)
	    s->volumes));
	bad |= json_object_set_new(j, "dropped", json_integer((json_int_t)
	    s->dropped));
	bad |= json_object_set_new(lat, "p50", num_or_null(s->p50));
	bad |= json_object_set_new(lat, "p95", num_or_null(s->p95));
	bad |= json_object_set_new(lat, "p99", num_or_null(s->p99));
	bad |= json_object_set_new(lat, "max", num_or_null(s->max));
	bad |= json_object_set_new(lat, "mean", num_or_null(s->mean));
	bad |= json_object_set_new(j, "latency_ms", lat);
	for (i = 1; i < RTC_STAGE__COUNT; i++)
		if (isfinite(s->stage_median[i]))
			bad |= json_object_set_new(st, rtc_stage_name(i),
			    json_real(s->stage_median[i]));
	bad |= json_object_set_new(j, "stages_ms", st);
	if (threads >= 1)
		bad |= json_object_set_new(j, "threads", json_integer(threads));
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void
rtc_latency_summary_text(const struct rtc_lat_summary *s, char *out,
    size_t outsz)
{
	if (s->volumes == 0) {
		snprintf(out, outsz, "0 volumes, %lu dropped", s->dropped);
		return;
	}
	snprintf(out, outsz, "%lu volume%s, %lu dropped; latency p50 %.2f ms, "
	    "p95 %.2f ms, p99 %.2f ms, max %.2f ms", s->volumes,
	    s->volumes == 1 ? "" : "s", s->dropped, s->p50, s->p95, s->p99,
	    s->max);
}

int
rtc_latency_write_tsv(const struct rtc_latency *l, const char *path,
    char **cause)
{
	struct rtc_buf b;
	size_t i;
	int st, r = RTC_OK;

	rtc_buf_init(&b, 0);
	r |= rtc_buf_append_str(&b, "run\tvol\tlatency_ms");
	for (st = 0; st < RTC_STAGE__COUNT; st++)
		r |= rtc_buf_printf(&b, "\t%s_ms", rtc_stage_name(st));
	r |= rtc_buf_append_str(&b, "\n");
	for (i = 0; i < l->n && r == RTC_OK; i++) {
		const struct rtc_lat_sample *x = &l->s[i];

		r |= rtc_buf_printf(&b, "%d\t%d\t%.3f", x->run, x->vol,
		    x->total_ms);
		for (st = 0; st < RTC_STAGE__COUNT; st++) {
			if (isfinite(x->stage_ms[st]))
				r |= rtc_buf_printf(&b, "\t%.3f", x->stage_ms[st]);
			else
				r |= rtc_buf_append_str(&b, "\tn/a");
		}
		r |= rtc_buf_append_str(&b, "\n");
	}
	if (r != RTC_OK) {
		rtc_buf_free(&b);
		rtc_cause_set(cause, "%s: out of memory", path);
		return RTC_ERR_NOMEM;
	}
	r = rtc_fs_write_atomic(path, b.data, b.len, 0644, 0, cause);
	rtc_buf_free(&b);
	return r;
}

/* ---- status line ------------------------------------------------------ */

void
rtc_status_init(struct rtc_status_line *s, FILE *fp, int tty)
{
	s->fp = fp;
	s->tty = tty >= 0 ? tty : isatty(fileno(fp));
	s->drawn = 0;
}

/* v with prec decimals and a unit, or "-" when unknown. */
static void
fmt_num(char *out, size_t n, int prec, const char *unit, double v)
{
	if (isfinite(v))
		snprintf(out, n, "%.*f%s", prec, v, unit);
	else
		snprintf(out, n, "-");
}

void
rtc_status_format(char *out, size_t outsz, const struct rtc_fb_record *r,
    double latency_ms, size_t lag)
{
	char lat[32], fd[32], fbv[32];
	size_t n;

	fmt_num(lat, sizeof(lat), 1, " ms", latency_ms);
	fmt_num(fd, sizeof(fd), 2, " mm", r->fd);
	fmt_num(fbv, sizeof(fbv), 3, "", r->feedback);
	snprintf(out, outsz, "run %d vol %d  latency %s  FD %s  feedback %s",
	    r->run, r->vol, lat, fd, fbv);
	n = strlen(out);
	if (lag > 0 && n < outsz)
		snprintf(out + n, outsz - n, "  lag %zu", lag);
	n = strlen(out);
	if ((r->flags & RTC_FB_DUMMY) && n < outsz)
		snprintf(out + n, outsz - n, "  (dummy)");
}

void
rtc_status_update(struct rtc_status_line *s, const struct rtc_fb_record *r,
    double latency_ms, size_t lag)
{
	char line[256];

	rtc_status_format(line, sizeof(line), r, latency_ms, lag);
	if (s->tty) {
		/* carriage return, erase to end of line, redraw */
		fprintf(s->fp, "\r\033[K%s", line);
		s->drawn = 1;
	} else {
		fprintf(s->fp, "%s\n", line);
	}
	fflush(s->fp);
}

void
rtc_status_clear(struct rtc_status_line *s)
{
	if (s->tty && s->drawn) {
		fputs("\r\033[K", s->fp);
		fflush(s->fp);
		s->drawn = 0;
	}
}

void
rtc_status_finish(struct rtc_status_line *s)
{
	if (s->tty && s->drawn) {
		fputc('\n', s->fp);
		fflush(s->fp);
		s->drawn = 0;
	}
}

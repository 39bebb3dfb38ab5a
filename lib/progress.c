/*
 * progress: samples (time, bytes) are taken at most every 0.25 s into a
 * ring; the rate is the slope between the newest and the oldest sample
 * not older than five seconds. The line is built by a pure formatter so
 * that tests can check it.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "progress.h"

#define RATE_WINDOW 5.0

static double
now_s(void)
{
	return (double)rtc_clock_mono_ns() * 1e-9;
}

void
rtc_progress_init(struct rtc_progress *p, FILE *fp, int tty,
    const char *label)
{
	memset(p, 0, sizeof(*p));
	p->fp = fp;
	p->tty = tty;
	p->label = label != NULL ? label : "";
	p->files_total = -1;
	p->bytes_total = -1;
	p->t0 = now_s();
	p->interval = tty ? 0.1 : 5.0;
	p->last_draw = p->t0;
}

void
rtc_progress_total(struct rtc_progress *p, long long files, long long bytes)
{
	p->files_total = files;
	p->bytes_total = bytes;
}

static void
sample(struct rtc_progress *p, double now)
{
	if (p->ns > 0 && now - p->last_sample < 0.25)
		return;
	p->st[p->si] = now;
	p->sb[p->si] = p->bytes_done;
	p->si = (p->si + 1) % RTC_PROGRESS_SAMPLES;
	if (p->ns < RTC_PROGRESS_SAMPLES)
		p->ns++;
	p->last_sample = now;
}

void
rtc_progress_bytes(struct rtc_progress *p, long long n)
{
	p->bytes_done += n;
}

void
rtc_progress_file(struct rtc_progress *p, int ok)
{
	p->files_done++;
	if (!ok)
		p->files_failed++;
}

double
rtc_progress_rate(const struct rtc_progress *p, double now)
{
	int i, newest, oldest = -1;

	if (p->ns == 0)
		return 0;
	newest = (p->si + RTC_PROGRESS_SAMPLES - 1) % RTC_PROGRESS_SAMPLES;
	for (i = 0; i < p->ns; i++) {
		int k = (p->si + RTC_PROGRESS_SAMPLES - 1 - i) %
		    RTC_PROGRESS_SAMPLES;

		if (now - p->st[k] > RATE_WINDOW)
			break;
		oldest = k;
	}
	if (oldest < 0 || oldest == newest) {
		/* one sample in the window: average since the start */
		double dt = now - p->t0;

		return dt > 0.05 ? (double)p->bytes_done / dt : 0;
	}
	if (p->st[newest] - p->st[oldest] < 1e-3)
		return 0;
	return (double)(p->sb[newest] - p->sb[oldest]) /
	    (p->st[newest] - p->st[oldest]);
}

char *
rtc_progress_eta(double s, char *out, size_t outsz)
{
	long v;

	if (!isfinite(s) || s < 0 || s > 359999) {
		snprintf(out, outsz, "--");
		return out;
	}
	v = lround(s);
	if (v < 60)
		snprintf(out, outsz, "%lds", v);
	else if (v < 3600)
		snprintf(out, outsz, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(out, outsz, "%ldh%02ldm", v / 3600, (v % 3600) / 60);
	return out;
}

char *
rtc_progress_format(const struct rtc_progress *p, double now, int bar,
    int width, char *out, size_t outsz)
{
	char done[32], total[32], rate[32], eta[32], files[64], text[256];
	double r = rtc_progress_rate(p, now), frac = -1;
	int n, cols, fill, i;
	size_t o;

	rtc_fs_human_bytes((double)p->bytes_done, done, sizeof(done));
	if (p->bytes_total >= 0)
		rtc_fs_human_bytes((double)p->bytes_total, total,
		    sizeof(total));
	else
		snprintf(total, sizeof(total), "?");
	rtc_fs_human_bytes(r, rate, sizeof(rate));
	if (p->files_total >= 0)
		snprintf(files, sizeof(files), "%lld/%lld files", p->files_done,
		    p->files_total);
	else
		snprintf(files, sizeof(files), "%lld files (listing)",
		    p->files_done);
	if (p->bytes_total > 0) {
		frac = (double)p->bytes_done / (double)p->bytes_total;
		if (frac > 1)
			frac = 1;
		rtc_progress_eta(r > 0 ? (double)(p->bytes_total -
		    p->bytes_done) / r : -1, eta, sizeof(eta));
	} else {
		snprintf(eta, sizeof(eta), "--");
	}
	n = snprintf(text, sizeof(text), "%s  %s / %s  %s/s  ETA %s", files,
	    done, total, rate, eta);
	if (p->files_failed > 0 && n > 0 && (size_t)n < sizeof(text))
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "  %lld failed", p->files_failed);
	if (n < 0)
		n = 0;
	if (!bar) {
		snprintf(out, outsz, "%s%s%s", p->label, p->label[0] ? ": " : "",
		    text);
		return out;
	}
	/* a bar of a steady 20 columns, narrower only when the line would
	 * not fit */
	cols = width - n - 3;
	if (cols > 20)
		cols = 20;
	o = 0;
	if (cols >= 10 && frac >= 0) {
		fill = (int)(frac * cols + 0.5);
		out[o++] = '[';
		for (i = 0; i < cols && o + 2 < outsz; i++)
			out[o++] = i < fill ? '#' : '.';
		out[o++] = ']';
		out[o++] = ' ';
	}
	snprintf(out + o, outsz - o, "%s", text);
	if (width > 0 && strlen(out) > (size_t)width && (size_t)width < outsz)
		out[width] = '\0';
	return out;
}

static int
term_width(FILE *fp)
{
	struct winsize ws;

	if (ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col - 1;
	return 79;
}

void
rtc_progress_tick(struct rtc_progress *p, int force)
{
	char line[512];
	double now = now_s();

	sample(p, now);
	if (p->fp == NULL || (!force && now - p->last_draw < p->interval))
		return;
	p->last_draw = now;
	if (p->tty) {
		rtc_progress_format(p, now, 1, term_width(p->fp), line,
		    sizeof(line));
		fprintf(p->fp, "\r%s\033[K", line);
		p->drawn = 1;
	} else {
		rtc_progress_format(p, now, 0, 0, line, sizeof(line));
		fprintf(p->fp, "%s\n", line);
	}
	fflush(p->fp);
}

void
rtc_progress_end(struct rtc_progress *p)
{
	if (p->fp != NULL && p->tty && p->drawn) {
		fprintf(p->fp, "\r\033[K");
		fflush(p->fp);
		p->drawn = 0;
	}
}

/*
 * events: conditions and events in two growing arrays (setup time only;
 * the per-volume queries rtc_events_regressor / rtc_events_label only
 * read). The TSV reader splits lines and fields itself: the format is
 * tab-separated text with a header, and every field is bounded and
 * checked (length, count, numeric syntax, finiteness) before use. A
 * parse is all-or-nothing: events go into a staging copy first.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "events.h"
#include "fsutil.h"

struct event {
	int cond;
	double onset, duration, amplitude;
};

struct rtc_events {
	struct rtc_hrf hrf;
	char names[RTC_EVENTS_MAX_COND][RTC_EVENTS_MAX_NAME + 1];
	int ncond;
	struct event *ev;
	int nev, cap;
};

#define MAX_ABS_TIME 1e6

int
rtc_events_new(struct rtc_events **ep)
{
	struct rtc_events *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return RTC_ERR_NOMEM;
	rtc_hrf_canonical(&e->hrf);
	*ep = e;
	return RTC_OK;
}

void
rtc_events_free(struct rtc_events *e)
{
	if (e == NULL)
		return;
	free(e->ev);
	free(e);
}

int
rtc_events_set_hrf(struct rtc_events *e, const struct rtc_hrf *hrf)
{
	if (!rtc_hrf_valid(hrf))
		return RTC_ERR_INVAL;
	e->hrf = *hrf;
	return RTC_OK;
}

static int
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > RTC_EVENTS_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
find_cond(const struct rtc_events *e, const char *name, size_t len)
{
	int c;

	for (c = 0; c < e->ncond; c++)
		if (strlen(e->names[c]) == len &&
		    memcmp(e->names[c], name, len) == 0)
			return c;
	return -1;
}

static int
add_event(struct rtc_events *e, const char *name, size_t len, double onset,
    double duration, double amplitude, char **cause)
{
	int c;

	if (!name_ok(name, len)) {
		rtc_cause_set(cause, "events: condition names must be 1..%d "
		    "printable bytes", RTC_EVENTS_MAX_NAME);
		return RTC_ERR_INVAL;
	}
	if (!isfinite(onset) || !isfinite(duration) || !isfinite(amplitude) ||
	    fabs(onset) > MAX_ABS_TIME || duration < 0.0 ||
	    duration > MAX_ABS_TIME) {
		rtc_cause_set(cause, "events: onset, duration and amplitude "
		    "must be finite, |onset| and duration <= %g s, duration "
		    ">= 0", MAX_ABS_TIME);
		return RTC_ERR_INVAL;
	}
	c = find_cond(e, name, len);
	if (c < 0) {
		if (e->ncond >= RTC_EVENTS_MAX_COND) {
			rtc_cause_set(cause, "events: more than %d conditions",
			    RTC_EVENTS_MAX_COND);
			return RTC_ERR_TOO_BIG;
		}
		c = e->ncond++;
		memcpy(e->names[c], name, len);
		e->names[c][len] = '\0';
	}
	if (e->nev >= RTC_EVENTS_MAX_EVENTS) {
		rtc_cause_set(cause, "events: more than %d events",
		    RTC_EVENTS_MAX_EVENTS);
		return RTC_ERR_TOO_BIG;
	}
	if (e->nev == e->cap) {
		int ncap = e->cap ? e->cap * 2 : 64;
		struct event *p;

		if (ncap > RTC_EVENTS_MAX_EVENTS)
			ncap = RTC_EVENTS_MAX_EVENTS;
		p = realloc(e->ev, (size_t)ncap * sizeof(*p));
		if (p == NULL) {
			rtc_cause_set(cause, "events: out of memory");
			return RTC_ERR_NOMEM;
		}
		e->ev = p;
		e->cap = ncap;
	}
	e->ev[e->nev].cond = c;
	e->ev[e->nev].onset = onset;
	e->ev[e->nev].duration = duration;
	e->ev[e->nev].amplitude = amplitude;
	e->nev++;
	return RTC_OK;
}

int
rtc_events_add(struct rtc_events *e, const char *cond, double onset,
    double duration, double amplitude, char **cause)
{
	if (cond == NULL) {
		rtc_cause_set(cause, "events: no condition name");
		return RTC_ERR_INVAL;
	}
	return add_event(e, cond, strnlen(cond, RTC_EVENTS_MAX_NAME + 1),
	    onset, duration, amplitude, cause);
}

int
rtc_events_add_blocks(struct rtc_events *e, const char *cond,
    double first_onset, double duration, double period, int count,
    char **cause)
{
	int n, rc;

	if (count < 1 || count > RTC_EVENTS_MAX_EVENTS || !isfinite(period) ||
	    !(period > 0.0) || !(duration <= period)) {
		rtc_cause_set(cause, "events: blocks need count 1..%d, period "
		    "> 0 and duration <= period", RTC_EVENTS_MAX_EVENTS);
		return RTC_ERR_INVAL;
	}
	for (n = 0; n < count; n++)
		if ((rc = rtc_events_add(e, cond, first_onset + n * period,
		    duration, 1.0, cause)) != RTC_OK)
			return rc;
	return RTC_OK;
}

/* ---- TSV ---- */

struct field {
	const char *p;
	size_t len;
};

static int
is_na(const struct field *f)
{
	return f->len == 3 && memcmp(f->p, "n/a", 3) == 0;
}

/* Parse a whole field as a finite decimal number. RET: 0 or -1. */
static int
field_num(const struct field *f, double *out)
{
	char buf[64], *end;
	double v;
	size_t i;

	if (f->len == 0 || f->len >= sizeof(buf))
		return -1;
	for (i = 0; i < f->len; i++) {
		char c = f->p[i];

		if (!(isdigit((unsigned char)c) || c == '.' || c == '-' ||
		    c == '+' || c == 'e' || c == 'E'))
			return -1;
	}
	memcpy(buf, f->p, f->len);
	buf[f->len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || end == buf || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int
field_is(const struct field *f, const char *name)
{
	return f->len == strlen(name) && memcmp(f->p, name, f->len) == 0;
}

/* Split line[0..len) at tabs. RET: fields, or -1 for too many. */
static int
split(const char *line, size_t len, struct field *f, int max)
{
	size_t i, start = 0;
	int n = 0;

	for (i = 0; i <= len; i++)
		if (i == len || line[i] == '\t') {
			if (n >= max)
				return -1;
			f[n].p = line + start;
			f[n].len = i - start;
			n++;
			start = i + 1;
		}
	return n;
}

int
rtc_events_parse_tsv(struct rtc_events *e, const char *text, size_t len,
    char **cause)
{
	struct rtc_events *st = NULL;
	struct field *f = NULL;
	size_t pos = 0;
	int rc, lineno = 0, ncol = 0, c_on = -1, c_dur = -1, c_tt = -1;
	int c_mod = -1, i, n;

	if (len > RTC_EVENTS_MAX_BYTES) {
		rtc_cause_set(cause, "events.tsv: over %zu bytes",
		    RTC_EVENTS_MAX_BYTES);
		return RTC_ERR_TOO_BIG;
	}
	if (memchr(text, '\0', len) != NULL) {
		rtc_cause_set(cause, "events.tsv: NUL byte: not a text file");
		return RTC_ERR_FORMAT;
	}
	/* stage into a copy so a failed parse adds nothing */
	st = calloc(1, sizeof(*st));
	f = calloc(RTC_EVENTS_MAX_COLS, sizeof(*f));
	if (st == NULL || f == NULL) {
		rc = RTC_ERR_NOMEM;
		rtc_cause_set(cause, "events: out of memory");
		goto out;
	}
	*st = *e;
	st->ev = NULL;
	st->cap = 0;
	st->nev = 0;
	if (e->nev > 0) {
		st->ev = malloc((size_t)e->cap * sizeof(*st->ev));
		if (st->ev == NULL) {
			rc = RTC_ERR_NOMEM;
			rtc_cause_set(cause, "events: out of memory");
			goto out;
		}
		memcpy(st->ev, e->ev, (size_t)e->nev * sizeof(*st->ev));
		st->cap = e->cap;
		st->nev = e->nev;
	}
	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t ll;

		nl = memchr(line, '\n', len - pos);
		ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl != NULL);
		lineno++;
		if (ll > RTC_EVENTS_MAX_LINE) {
			rtc_cause_set(cause, "events.tsv line %d: longer than "
			    "%d bytes", lineno, RTC_EVENTS_MAX_LINE);
			rc = RTC_ERR_TOO_BIG;
			goto out;
		}
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;       /* blank lines (e.g. at the end) */
		n = split(line, ll, f, RTC_EVENTS_MAX_COLS);
		if (n < 0) {
			rtc_cause_set(cause, "events.tsv line %d: more than %d "
			    "columns", lineno, RTC_EVENTS_MAX_COLS);
			rc = RTC_ERR_TOO_BIG;
			goto out;
		}
		if (ncol == 0) {
			ncol = n;
			for (i = 0; i < n; i++) {
				int *slot = field_is(&f[i], "onset") ? &c_on :
				    field_is(&f[i], "duration") ? &c_dur :
				    field_is(&f[i], "trial_type") ? &c_tt :
				    field_is(&f[i], "modulation") ? &c_mod :
				    NULL;

				if (slot == NULL)
					continue;
				if (*slot >= 0) {
					rtc_cause_set(cause, "events.tsv: "
					    "column %.*s appears twice",
					    (int)f[i].len, f[i].p);
					rc = RTC_ERR_FORMAT;
					goto out;
				}
				*slot = i;
			}
			if (c_on < 0 || c_dur < 0) {
				rtc_cause_set(cause, "events.tsv: the header "
				    "needs onset and duration columns");
				rc = RTC_ERR_FORMAT;
				goto out;
			}
			continue;
		}
		if (n != ncol) {
			rtc_cause_set(cause, "events.tsv line %d: %d fields, "
			    "the header has %d", lineno, n, ncol);
			rc = RTC_ERR_FORMAT;
			goto out;
		}
		{
			double on, dur = 0.0, amp = 1.0;
			const char *name = "trial";
			size_t nlen = 5;

			if (c_tt >= 0) {
				if (is_na(&f[c_tt]))
					continue;
				name = f[c_tt].p;
				nlen = f[c_tt].len;
			}
			if (field_num(&f[c_on], &on) != 0) {
				rtc_cause_set(cause, "events.tsv line %d: onset "
				    "is not a number", lineno);
				rc = RTC_ERR_FORMAT;
				goto out;
			}
			if (!is_na(&f[c_dur]) &&
			    field_num(&f[c_dur], &dur) != 0) {
				rtc_cause_set(cause, "events.tsv line %d: "
				    "duration is not a number", lineno);
				rc = RTC_ERR_FORMAT;
				goto out;
			}
			if (c_mod >= 0 && !is_na(&f[c_mod]) &&
			    field_num(&f[c_mod], &amp) != 0) {
				rtc_cause_set(cause, "events.tsv line %d: "
				    "modulation is not a number", lineno);
				rc = RTC_ERR_FORMAT;
				goto out;
			}
			rc = add_event(st, name, nlen, on, dur, amp, cause);
			if (rc != RTC_OK) {
				rtc_cause_wrap(cause, "events.tsv line %d",
				    lineno);
				if (rc == RTC_ERR_INVAL)
					rc = RTC_ERR_FORMAT;
				goto out;
			}
		}
	}
	if (ncol == 0) {
		rtc_cause_set(cause, "events.tsv: empty (no header)");
		rc = RTC_ERR_FORMAT;
		goto out;
	}
	/* commit */
	free(e->ev);
	*e = *st;
	st->ev = NULL;
	rc = RTC_OK;
out:
	if (st != NULL)
		free(st->ev);
	free(st);
	free(f);
	return rc;
}

int
rtc_events_load_tsv(struct rtc_events *e, const char *path, char **cause)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = rtc_fs_read_file(path, RTC_EVENTS_MAX_BYTES, &data, &len, cause);
	if (rc != RTC_OK)
		return rc;
	rc = rtc_events_parse_tsv(e, data, len, cause);
	free(data);
	return rc;
}

int
rtc_events_ncond(const struct rtc_events *e)
{
	return e->ncond;
}

int
rtc_events_nevents(const struct rtc_events *e)
{
	return e->nev;
}

const char *
rtc_events_cond_name(const struct rtc_events *e, int c)
{
	return c >= 0 && c < e->ncond ? e->names[c] : NULL;
}

int
rtc_events_cond_index(const struct rtc_events *e, const char *name)
{
	if (name == NULL)
		return -1;
	return find_cond(e, name, strnlen(name, RTC_EVENTS_MAX_NAME + 1));
}

double
rtc_events_regressor(const struct rtc_events *e, int c, double t)
{
	double v = 0.0;
	int i;

	for (i = 0; i < e->nev; i++) {
		const struct event *ev = &e->ev[i];

		if (ev->cond != c || ev->onset >= t)
			continue;
		v += ev->amplitude * rtc_hrf_response(&e->hrf, t, ev->onset,
		    ev->duration);
	}
	return v;
}

int
rtc_events_label(const struct rtc_events *e, double t, double shift)
{
	double u = t - shift;
	int i, found = -1;

	for (i = 0; i < e->nev; i++) {
		const struct event *ev = &e->ev[i];

		if (u >= ev->onset && u < ev->onset + ev->duration) {
			if (found >= 0 && found != ev->cond)
				return -2;
			found = ev->cond;
		}
	}
	return found;
}

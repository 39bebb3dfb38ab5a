/*
 * synth_motion: see synth_motion.h.
 *
 * Design: a trajectory is either a formula (sine) evaluated on demand or
 * a table read once from a TSV (bounded: file size, rows, line length,
 * and every cell parsed as a finite number with strtod and checked). The
 * table is found by its header's column names, so extra columns (an
 * fMRIPrep confounds file has hundreds) are ignored.
 */
#include "rtc_build.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fsutil.h"
#include "synth_motion.h"

#define DEG (M_PI / 180.0)
#define MAX_LINE 65536
#define MAX_COLS 4096

enum traj_kind { TRAJ_SINE = 1, TRAJ_TABLE };

struct rtc_synth_traj {
	enum traj_kind kind;
	double amp_mm, amp_rad, period_s;
	double (*rows)[6];        /* trans_x..rot_z (mm, rad) */
	int nrows;
	double tr;                /* of the series it is attached to */
};

static const double sine_freq[6] = { 1.0, 0.77, 1.31, 0.89, 1.13, 0.61 };
static const char *const col_names[6] = { "trans_x", "trans_y", "trans_z",
	"rot_x", "rot_y", "rot_z" };

void
rtc_synth_motion_to_rtc(const double m[6], double trans[3], double rot[3])
{
	/* LPS -> RAS negates x and y: F R F with F = diag(-1,-1,1) turns
	 * Rx(a) into Rx(-a), Ry(b) into Ry(-b) and keeps Rz(g) */
	trans[0] = -m[0];
	trans[1] = -m[1];
	trans[2] = m[2];
	rot[0] = -m[3] * DEG;
	rot[1] = -m[4] * DEG;
	rot[2] = m[5] * DEG;
}

void
rtc_synth_motion_from_rtc(const double trans[3], const double rot[3],
    double m[6])
{
	m[0] = -trans[0];
	m[1] = -trans[1];
	m[2] = trans[2];
	m[3] = -rot[0] / DEG;
	m[4] = -rot[1] / DEG;
	m[5] = rot[2] / DEG;
}

static int
parse_num(const char *s, size_t n, double lo, double hi, double *out)
{
	char buf[64], *end;
	double v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_sine(const char *args, struct rtc_synth_traj *tj, char **cause)
{
	const char *p = args, *comma;
	double v[3] = { 0, 0, 60.0 };
	static const double lo[3] = { 0, 0, 1 }, hi[3] = { 50, 30, 10000 };
	int i;

	for (i = 0; i < 3; i++) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (parse_num(p, (size_t)(comma - p), lo[i], hi[i], &v[i]) != 0)
			goto bad;
		if (*comma == '\0')
			break;
		p = comma + 1;
	}
	if (i == 0 || i == 3)
		goto bad;
	tj->kind = TRAJ_SINE;
	tj->amp_mm = v[0];
	tj->amp_rad = v[1] * DEG;
	tj->period_s = v[2];
	return RTC_OK;
bad:
	rtc_cause_set(cause, "motion '%s': expected sine:AMP_MM,AMP_DEG"
	    "[,PERIOD_S] (AMP_MM 0..50, AMP_DEG 0..30, PERIOD_S 1..10000)",
	    args);
	return RTC_ERR_INVAL;
}

/* Split line [s, e) at tabs into at most MAX_COLS fields. RET: count. */
static int
split_tabs(const char *s, const char *e, const char **f, size_t *len)
{
	int n = 0;

	for (;;) {
		const char *t = memchr(s, '\t', (size_t)(e - s));

		if (n >= MAX_COLS)
			return -1;
		f[n] = s;
		len[n] = (size_t)((t != NULL ? t : e) - s);
		n++;
		if (t == NULL)
			return n;
		s = t + 1;
	}
}

static int
parse_table(const char *path, struct rtc_synth_traj *tj, char **cause)
{
	const char **f = NULL;
	size_t *flen = NULL, len = 0, cap = 0;
	char *text = NULL, *p, *end;
	int col[6], i, j, nf, lineno = 0, r;

	if ((r = rtc_fs_read_file(path, RTC_SYNTH_TRAJ_MAX_BYTES, &text, &len,
	    cause)) != RTC_OK)
		return r;
	f = malloc(MAX_COLS * sizeof(*f));
	flen = malloc(MAX_COLS * sizeof(*flen));
	if (f == NULL || flen == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	p = text;
	end = text + len;
	for (i = 0; i < 6; i++)
		col[i] = -1;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl != NULL ? nl : end;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le - p > MAX_LINE) {
			rtc_cause_set(cause, "%s:%d: line too long", path,
			    lineno);
			r = RTC_ERR_TOO_BIG;
			goto out;
		}
		if (le == p) {          /* blank line */
			p = nl != NULL ? nl + 1 : end;
			continue;
		}
		nf = split_tabs(p, le, f, flen);
		if (nf < 0) {
			rtc_cause_set(cause, "%s:%d: more than %d columns", path,
			    lineno, MAX_COLS);
			r = RTC_ERR_TOO_BIG;
			goto out;
		}
		if (col[0] < 0) {       /* the header */
			for (i = 0; i < 6; i++) {
				for (j = 0; j < nf; j++)
					if (flen[j] == strlen(col_names[i]) &&
					    memcmp(f[j], col_names[i],
					    flen[j]) == 0)
						break;
				if (j == nf) {
					rtc_cause_set(cause, "%s: no column "
					    "'%s' in the header", path,
					    col_names[i]);
					r = RTC_ERR_INVAL;
					goto out;
				}
				col[i] = j;
			}
		} else {
			if (tj->nrows >= RTC_SYNTH_TRAJ_MAX_ROWS) {
				rtc_cause_set(cause, "%s: more than %d rows",
				    path, RTC_SYNTH_TRAJ_MAX_ROWS);
				r = RTC_ERR_TOO_BIG;
				goto out;
			}
			if ((size_t)tj->nrows == cap) {
				size_t nc = cap ? cap * 2 : 256;
				void *q = realloc(tj->rows,
				    nc * sizeof(*tj->rows));

				if (q == NULL) {
					r = RTC_ERR_NOMEM;
					goto out;
				}
				tj->rows = q;
				cap = nc;
			}
			for (i = 0; i < 6; i++) {
				double v = 0.0;

				if (col[i] >= nf ||
				    (!(flen[col[i]] == 3 &&
				    memcmp(f[col[i]], "n/a", 3) == 0) &&
				    parse_num(f[col[i]], flen[col[i]], -1e4,
				    1e4, &v) != 0)) {
					rtc_cause_set(cause, "%s:%d: '%s' is "
					    "not a number", path, lineno,
					    col_names[i]);
					r = RTC_ERR_INVAL;
					goto out;
				}
				tj->rows[tj->nrows][i] = v;
			}
			tj->nrows++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (col[0] < 0 || tj->nrows == 0) {
		rtc_cause_set(cause, "%s: no header or no rows", path);
		r = RTC_ERR_INVAL;
		goto out;
	}
	tj->kind = TRAJ_TABLE;
	r = RTC_OK;
out:
	free(text);
	free(f);
	free(flen);
	return r;
}

int
rtc_synth_traj_parse(const char *spec, struct rtc_synth_traj **out,
    char **cause)
{
	struct rtc_synth_traj *tj;
	int r;

	if (spec == NULL || *spec == '\0') {
		rtc_cause_set(cause, "motion: empty specification");
		return RTC_ERR_INVAL;
	}
	if ((tj = calloc(1, sizeof(*tj))) == NULL)
		return RTC_ERR_NOMEM;
	if (strncmp(spec, "sine:", 5) == 0)
		r = parse_sine(spec + 5, tj, cause);
	else
		r = parse_table(spec, tj, cause);
	if (r != RTC_OK) {
		rtc_synth_traj_free(tj);
		return r;
	}
	*out = tj;
	return RTC_OK;
}

void
rtc_synth_traj_free(struct rtc_synth_traj *tj)
{
	if (tj == NULL)
		return;
	free(tj->rows);
	free(tj);
}

int
rtc_synth_traj_rows(const struct rtc_synth_traj *tj)
{
	return tj->kind == TRAJ_TABLE ? tj->nrows : 0;
}

int
rtc_synth_traj_at(const struct rtc_synth_traj *tj, int t, double tr,
    double trans[3], double rot[3])
{
	int a;

	if (t < 0)
		return -1;
	if (tj->kind == TRAJ_TABLE) {
		if (t >= tj->nrows)
			return -1;
		for (a = 0; a < 3; a++) {
			trans[a] = tj->rows[t][a];
			rot[a] = tj->rows[t][3 + a];
		}
		return 0;
	}
	for (a = 0; a < 3; a++) {
		trans[a] = tj->amp_mm * sin(2.0 * M_PI * sine_freq[a] * t * tr /
		    tj->period_s);
		rot[a] = tj->amp_rad * sin(2.0 * M_PI * sine_freq[3 + a] * t *
		    tr / tj->period_s);
	}
	return 0;
}

/* the generator's callback: tj's row t in the generator's convention */
static int
traj_motion(void *arg, int t, double motion[6])
{
	const struct rtc_synth_traj *tj = arg;
	double trans[3], rot[3];

	if (rtc_synth_traj_at(tj, t, tj->tr, trans, rot) != 0)
		return -1;
	rtc_synth_motion_from_rtc(trans, rot, motion);
	return 0;
}

void
rtc_synth_traj_attach(struct rtc_synth_traj *tj, struct rtc_synth_params *p)
{
	tj->tr = p->tr;
	p->motion = traj_motion;
	p->motion_arg = tj;
}

/*
 * plan: filters over a scanned layout. A job's inputs are the files under
 * its participant (or session) directory plus, for a session job, the
 * participant-level files outside every session (sessions.tsv and the
 * like); the dataset's top-level files are shared by all jobs and counted
 * once. required_files globs match paths relative to the participant
 * directory (or the session directory for a session job).
 */
#include "rtc_build.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "plan.h"

int
rtc_plan_dataset_local(const char *dataset, char **dir, char **cause)
{
	char real[PATH_MAX], *d;
	size_t i, n = strlen(dataset);
	int accession = n >= 8 && strncmp(dataset, "ds", 2) == 0;

	for (i = 2; accession && i < 8; i++)
		if (!isdigit((unsigned char)dataset[i]))
			accession = 0;
	if (accession && (dataset[8] == '\0' || dataset[8] == ':') &&
	    !rtc_fs_is_dir(dataset)) {
		rtc_cause_set(cause, "%s: rtcd plans local directories only: "
		    "rtc submit fetches %s first (or run rtc fetch %s -o DIR "
		    "and submit DIR)", dataset, dataset, dataset);
		return RTC_ERR_UNSUPPORTED;
	}
	if (strncmp(dataset, "s3://", 5) == 0 || strstr(dataset, "://") != NULL) {
		rtc_cause_set(cause, "%s: rtcd plans local directories only: "
		    "rtc submit fetches %s first (or run rtc fetch %s -o DIR "
		    "and submit DIR)", dataset, dataset, dataset);
		return RTC_ERR_UNSUPPORTED;
	}
	if (realpath(dataset, real) == NULL || !rtc_fs_is_dir(real)) {
		rtc_cause_set(cause, "%s: no such directory", dataset);
		return RTC_ERR_NOT_FOUND;
	}
	if ((d = strdup(real)) == NULL)
		return RTC_ERR_NOMEM;
	*dir = d;
	return RTC_OK;
}

void
rtc_plan_free(struct rtc_plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->njobs; i++)
		free(p->jobs[i].inputs);
	free(p->jobs);
	free(p->skipped);
	rtc_bids_layout_free(p->layout);
	free(p);
}

static int add_skip(struct rtc_plan *p, const char *part, const char *ses,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
add_skip(struct rtc_plan *p, const char *part, const char *ses,
    const char *fmt, ...)
{
	struct rtc_plan_skip *nv, *s;
	va_list ap;

	nv = realloc(p->skipped, (p->nskipped + 1) * sizeof(*nv));
	if (nv == NULL)
		return RTC_ERR_NOMEM;
	p->skipped = nv;
	s = &nv[p->nskipped++];
	memset(s, 0, sizeof(*s));
	snprintf(s->participant, sizeof(s->participant), "%s", part);
	snprintf(s->session, sizeof(s->session), "%s", ses ? ses : "");
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	return RTC_OK;
}

/* Is file i of p inside any session directory? */
static int
in_session(const struct rtc_bids_participant *p, size_t i)
{
	size_t s;

	for (s = 0; s < p->nsessions; s++)
		if (i >= p->sessions[s].first &&
		    i < p->sessions[s].first + p->sessions[s].nfiles)
			return 1;
	return 0;
}

/*
 * Make one job of p (ses NULL: all its files). Files are checked against
 * the required globs relative to base (the participant or session dir).
 */
static int
add_job(struct rtc_plan *p, const struct rtc_plan_opts *o,
    const struct rtc_bids_participant *part,
    const struct rtc_bids_session *ses)
{
	struct rtc_plan_job *nv, *j;
	const struct rtc_bids_file **in;
	size_t i, n = 0, r, baselen;
	char base[2 * RTC_BIDS_MAX_LABEL + 16];

	if (ses != NULL)
		baselen = (size_t)snprintf(base, sizeof(base), "sub-%s/ses-%s/",
		    part->label, ses->label);
	else
		baselen = (size_t)snprintf(base, sizeof(base), "sub-%s/",
		    part->label);
	in = calloc(part->nfiles ? part->nfiles : 1, sizeof(*in));
	if (in == NULL)
		return RTC_ERR_NOMEM;
	for (i = 0; i < part->nfiles; i++) {
		if (ses != NULL && (i < ses->first ||
		    i >= ses->first + ses->nfiles) && in_session(part, i))
			continue;
		in[n++] = &part->files[i];
	}
	for (r = 0; r < o->nrequired; r++) {
		int found = 0;

		for (i = 0; i < n && !found; i++)
			if (strncmp(in[i]->path, base, baselen) == 0 &&
			    rtc_bids_glob_match(o->required[r],
			    in[i]->path + baselen))
				found = 1;
		if (!found) {
			free(in);
			return add_skip(p, part->label, ses ? ses->label : NULL,
			    "no file matches the required %s", o->required[r]);
		}
	}
	if (n == 0) {
		free(in);
		return add_skip(p, part->label, ses ? ses->label : NULL,
		    "%s", "no files to process");
	}
	nv = realloc(p->jobs, (p->njobs + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(in);
		return RTC_ERR_NOMEM;
	}
	p->jobs = nv;
	j = &nv[p->njobs++];
	memset(j, 0, sizeof(*j));
	snprintf(j->participant, sizeof(j->participant), "%s", part->label);
	if (ses != NULL)
		snprintf(j->session, sizeof(j->session), "%s", ses->label);
	j->inputs = in;
	j->ninputs = n;
	for (i = 0; i < n; i++)
		if (in[i]->size > 0)
			j->bytes += in[i]->size;
	p->bytes += j->bytes;
	return RTC_OK;
}

static int
wanted(const struct rtc_plan_opts *o, const char *label)
{
	size_t i;

	if (o->nlabels == 0)
		return 1;
	for (i = 0; i < o->nlabels; i++) {
		const char *l = o->labels[i];

		if (strncmp(l, "sub-", 4) == 0)
			l += 4;
		if (strcmp(l, label) == 0)
			return 1;
	}
	return 0;
}

static int
check_opts(const struct rtc_bids_layout *layout,
    const struct rtc_plan_opts *o, char **cause)
{
	struct rtc_buf missing;
	size_t i;
	int r = RTC_OK;

	rtc_buf_init(&missing, 4096);
	for (i = 0; i < o->nlabels; i++) {
		const char *l = o->labels[i];

		if (strncmp(l, "sub-", 4) == 0)
			l += 4;
		if (!rtc_bids_label_valid(l)) {
			rtc_cause_set(cause, "'%s' is not a participant label "
			    "(letters and digits, like 01 or sub-01)", o->labels[i]);
			r = RTC_ERR_INVAL;
			goto out;
		}
		if (rtc_bids_layout_find(layout, l) == NULL)
			(void)rtc_buf_printf(&missing, "%s%s", missing.len ? ", " : "",
			    l);
	}
	if (missing.len > 0) {
		rtc_cause_set(cause, "%s has no participant %s (%zu participants; "
		    "try --dry-run without --participant-label to list them)",
		    layout->root, missing.data, layout->n);
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	for (i = 0; i < o->nrequired; i++) {
		const char *g = o->required[i];

		if (*g == '\0' || *g == '/' || strstr(g, "..") != NULL) {
			rtc_cause_set(cause, "required-files pattern '%s' must be "
			    "relative to the participant directory, like "
			    "anat/*_T1w.nii*", g);
			r = RTC_ERR_INVAL;
			goto out;
		}
	}
out:
	rtc_buf_free(&missing);
	return r;
}

int
rtc_plan_make(struct rtc_bids_layout *layout, const struct rtc_plan_opts *o,
    struct rtc_plan **out, char **cause)
{
	struct rtc_plan *p;
	size_t i, s;
	int r;

	r = check_opts(layout, o, cause);
	if (r != RTC_OK) {
		rtc_bids_layout_free(layout);
		return r;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rtc_bids_layout_free(layout);
		return RTC_ERR_NOMEM;
	}
	p->layout = layout;
	p->cpus = o->cpus;
	p->mem_mb = o->mem_mb;
	p->time_min = o->time_min;
	for (i = 0; i < layout->n; i++) {
		const struct rtc_bids_participant *part = &layout->p[i];

		if (!wanted(o, part->label))
			continue;
		if (!part->has_dir) {
			r = add_skip(p, part->label, NULL, "listed in "
			    "participants.tsv but there is no sub-%s directory",
			    part->label);
		} else if (o->per_session && part->nsessions > 0) {
			for (s = 0, r = RTC_OK; s < part->nsessions && r == RTC_OK; s++)
				r = add_job(p, o, part, &part->sessions[s]);
		} else {
			r = add_job(p, o, part, NULL);
		}
		if (r != RTC_OK) {
			rtc_plan_free(p);
			return r;
		}
	}
	*out = p;
	return RTC_OK;
}

json_t *
rtc_plan_to_json(const struct rtc_plan *p, int with_inputs)
{
	json_t *root, *jobs, *skipped, *j, *in;
	size_t i, k;

	root = json_pack("{s:s,s:s,s:I,s:I,s:{s:i,s:I,s:I,s:f},s:I,s:I}",
	    "dataset", p->layout->root, "name", p->layout->name,
	    "njobs", (json_int_t)p->njobs,
	    "bytes", (json_int_t)p->bytes,
	    "resources", "cpus", p->cpus, "mem_mb", (json_int_t)p->mem_mb,
	    "time_min", (json_int_t)p->time_min,
	    "cpu_hours_max", (double)p->njobs * p->cpus * (double)p->time_min / 60.0,
	    "shared_files", (json_int_t)p->layout->nshared,
	    "shared_bytes", (json_int_t)p->layout->shared_bytes);
	jobs = json_array();
	skipped = json_array();
	if (root == NULL || jobs == NULL || skipped == NULL)
		goto fail;
	for (i = 0; i < p->njobs; i++) {
		const struct rtc_plan_job *pj = &p->jobs[i];

		j = json_pack("{s:s,s:s?,s:I,s:I}", "participant", pj->participant,
		    "session", pj->session[0] ? pj->session : NULL,
		    "ninputs", (json_int_t)pj->ninputs,
		    "bytes", (json_int_t)pj->bytes);
		if (j == NULL || json_array_append_new(jobs, j) != 0)
			goto fail;
		if (!with_inputs)
			continue;
		in = json_array();
		if (in == NULL || json_object_set_new(j, "inputs", in) != 0)
			goto fail;
		for (k = 0; k < pj->ninputs; k++)
			if (json_array_append_new(in,
			    json_string(pj->inputs[k]->path)) != 0)
				goto fail;
	}
	for (i = 0; i < p->nskipped; i++) {
		j = json_pack("{s:s,s:s?,s:s}", "participant",
		    p->skipped[i].participant, "session",
		    p->skipped[i].session[0] ? p->skipped[i].session : NULL,
		    "reason", p->skipped[i].reason);
		if (j == NULL || json_array_append_new(skipped, j) != 0)
			goto fail;
	}
	if (json_object_set_new(root, "jobs", jobs) != 0) {
		jobs = NULL;
		goto fail;
	}
	jobs = NULL;
	if (json_object_set_new(root, "skipped", skipped) != 0) {
		skipped = NULL;
		goto fail;
	}
	return root;
fail:
	json_decref(jobs);
	json_decref(skipped);
	json_decref(root);
	return NULL;
}

void
rtc_plan_print(const struct rtc_plan *p, FILE *fp)
{
	char hb[32], key[2 * RTC_BIDS_MAX_LABEL + 16];
	size_t i, k;

	fprintf(fp, "plan for %s: %zu job%s, %zu skipped\n", p->layout->root,
	    p->njobs, p->njobs == 1 ? "" : "s", p->nskipped);
	for (i = 0; i < p->njobs; i++) {
		const struct rtc_plan_job *j = &p->jobs[i];

		if (j->session[0] != '\0')
			snprintf(key, sizeof(key), "sub-%s_ses-%s", j->participant,
			    j->session);
		else
			snprintf(key, sizeof(key), "sub-%s", j->participant);
		fprintf(fp, "  %-24s %5zu input%s %10s\n", key, j->ninputs,
		    j->ninputs == 1 ? " " : "s",
		    rtc_fs_human_bytes((double)j->bytes, hb, sizeof(hb)));
		for (k = 0; k < j->ninputs; k++) {
			if (j->inputs[k]->size < 0)
				fprintf(fp, "      %s (content not present)\n",
				    j->inputs[k]->path);
			else
				fprintf(fp, "      %s\n", j->inputs[k]->path);
		}
	}
	if (p->nskipped > 0) {
		fprintf(fp, "skipped (not submitted):\n");
		for (i = 0; i < p->nskipped; i++) {
			const struct rtc_plan_skip *s = &p->skipped[i];

			if (s->session[0] != '\0')
				snprintf(key, sizeof(key), "sub-%s_ses-%s",
				    s->participant, s->session);
			else
				snprintf(key, sizeof(key), "sub-%s", s->participant);
			fprintf(fp, "  %-24s %s\n", key, s->reason);
		}
	}
	for (i = 0; i < p->layout->nbad; i++)
		fprintf(fp, "ignored: %s is not a valid participant directory\n",
		    p->layout->bad_names[i]);
	fprintf(fp, "shared inputs: %zu top-level file%s, %s\n",
	    p->layout->nshared, p->layout->nshared == 1 ? "" : "s",
	    rtc_fs_human_bytes((double)p->layout->shared_bytes, hb, sizeof(hb)));
	fprintf(fp, "inputs in all: %s\n",
	    rtc_fs_human_bytes((double)p->bytes, hb, sizeof(hb)));
	fprintf(fp, "resources per job: %d CPU%s, %ld MB memory, %ld min; at "
	    "most %.1f CPU-hours in all\n", p->cpus, p->cpus == 1 ? "" : "s",
	    p->mem_mb, p->time_min,
	    (double)p->njobs * p->cpus * (double)p->time_min / 60.0);
}

/*
 * cmd_rt: see cmd_rt.h.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cmd_rt.h"
#include "cmd_util.h"
#include "ctx.h"
#include "error.h"

int
rt_common_option(const struct cmd_entry *e, struct rt_common *c, int ch,
    const char *arg)
{
	long v;

	switch (ch) {
	case 'p':
		c->project = arg;
		return 0;
	case 'o':
		c->out_dir = arg;
		return 0;
	case 'f':
		c->feedback = arg;
		return 0;
	case 'F':
		c->files_dir = arg;
		return 0;
	case 'n':
		if (cmd_parse_long(arg, 1, 100000000, &v) != 0)
			return cmd_usage_error(e, "--volumes: a positive number");
		c->max_volumes = v;
		return 0;
	case 'j':
		c->json = 1;
		return 0;
	default:
		return -1;
	}
}

int
rt_project(struct rtc_ctx *ctx, const struct cmd_entry *e, const char *spec,
    struct rtc_project **p)
{
	char *cause = NULL;
	int r;

	r = rtc_project_load(ctx, spec != NULL ? spec : "sample", p, &cause);
	if (r != RTC_OK)
		return cmd_fail(e, r, &cause);
	return 0;
}

void
rt_live_opts(const struct rt_common *c, const struct rtc_project *p,
    struct rtc_live_opts *o)
{
	rtc_live_opts_init(o);
	o->project = p;
	o->feedback_url = c->feedback;
	o->files_dir = c->files_dir;
	o->out_dir = c->out_dir;
	o->max_volumes = c->max_volumes;
	o->status_fp = stderr;
}

int
rt_finish(struct rtc_ctx *ctx, const struct cmd_entry *e,
    struct rtc_live *lv, int json)
{
	struct rtc_live_summary s;
	char *cause = NULL;
	json_t *j;
	int r, status = 0;

	r = rtc_live_wait(lv, &cause);
	if (r != RTC_OK) {
		fprintf(stderr, "rtc %s: %s\n", e->name, cause != NULL ? cause :
		    rtc_strerror(r));
		status = rtc_err_exit_code(r);
	}
	free(cause);
	rtc_live_get_summary(lv, &s);
	if (json) {
		j = rtc_live_summary_json(&s);
		if (j != NULL) {
			json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
			fputc('\n', stdout);
			json_decref(j);
		}
		if (!ctx->quiet)
			rtc_live_summary_print(&s, stderr);
	} else if (!ctx->quiet)
		rtc_live_summary_print(&s, stdout);
	fflush(stdout);
	rtc_live_free(lv);
	return status;
}

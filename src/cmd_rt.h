/*
 * cmd_rt: what the realtime verbs (live, replay, bench live) share: the
 * project, the session's outputs, and the summary at the end.
 */
#ifndef RTC_CMD_RT_H
#define RTC_CMD_RT_H

#include <stdio.h>

#include "cmd.h"
#include "live.h"
#include "project.h"

/* Options every realtime verb takes. */
struct rt_common {
	const char *project;      /* --project; NULL: "sample" */
	const char *out_dir;      /* --out */
	const char *feedback;     /* --feedback */
	const char *files_dir;    /* --files */
	long max_volumes;         /* --volumes */
	int json;                 /* --json */
};

/*
 * Take one of the options above, by its short letter: p (--project),
 * o (--out), f (--feedback), F (--files), n (--volumes), j (--json).
 * RET: -1 when ch is none of them, 0 when taken, else the exit status of
 * a usage error (printed).
 */
int rt_common_option(const struct cmd_entry *e, struct rt_common *c,
    int ch, const char *arg);

/* Load the project (named or "sample"). OUT: *p. RET: 0, or the exit
 * status after printing why. */
int rt_project(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *spec, struct rtc_project **p);

/* Fill live options from the common ones and the project. */
void rt_live_opts(const struct rt_common *c, const struct rtc_project *p,
    struct rtc_live_opts *o);

/*
 * End the session: wait for the pipeline, print the summary (JSON on
 * stdout with --json, the text on stdout otherwise, on stderr too with
 * --json unless quiet), free lv. RET: the exit status (74 when an output
 * failed, else 0).
 */
int rt_finish(struct rtc_ctx *ctx, const struct cmd_entry *e,
    struct rtc_live *lv, int json);

#endif

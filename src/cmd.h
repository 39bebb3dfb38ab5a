/*
 * cmd: the verb table's entry type. Each verb lives in src/cmd_<verb>.c
 * and defines one const struct cmd_entry; src/rtc.c lists them. The same
 * usage and help words print for `rtc help VERB` and stand in man/rtc.1
 * (tests/integration/manpage.sh checks that they agree).
 */
#ifndef RTC_CMD_H
#define RTC_CMD_H

#include "ctx.h"

struct cmd_entry {
	const char *name;     /* the verb */
	const char *usage;    /* arguments after the verb, one line */
	const char *summary;  /* what it does, one line */
	const char *help;     /* the options, one per line, or NULL */
	/* argv[0] is the verb; RET: the process exit status */
	int (*exec)(struct rtc_ctx *ctx, int argc, char **argv);
};

extern const struct cmd_entry cmd_live_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_bench_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_synth_entry;
extern const struct cmd_entry cmd_fetch_entry;
extern const struct cmd_entry cmd_submit_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_wait_entry;
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_resubmit_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_version_entry;

/* RET: the entry for a verb, or NULL. */
const struct cmd_entry *cmd_find(const char *name);

/* Print "usage: rtc VERB USAGE" and the help to fp. */
void cmd_print_help(const struct cmd_entry *e, FILE *fp);

#endif

/*
 * cmd_util: what every verb does the same way: usage errors (exit 64),
 * reporting a library error with its cause, number parsing with checks.
 */
#ifndef RTC_CMD_UTIL_H
#define RTC_CMD_UTIL_H

#include "cmd.h"

#define EXIT_USAGE 64

/* Print "rtc VERB: message" and the verb's usage to stderr. RET: 64. */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "rtc VERB: cause" (or the error's text) to stderr, free *cause.
 * RET: the sysexits status for err. */
int cmd_fail(const struct cmd_entry *e, int err, char **cause);

/* Parse whole strings as numbers within [min, max]. RET: 0 ok, -1 not. */
int cmd_parse_long(const char *s, long min, long max, long *out);
int cmd_parse_double(const char *s, double min, double max, double *out);

/* Handle -h/--help for a verb whose getopt loop saw it: print help to
 * stdout. RET: 0. */
int cmd_show_help(const struct cmd_entry *e);

#endif

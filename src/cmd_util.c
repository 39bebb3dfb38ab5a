/*
 * cmd_util: see cmd_util.h.
 */
#include "rtc_build.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd_util.h"
#include "error.h"

int
cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rtc %s: ", e->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: rtc %s%s%s\nTry 'rtc help %s'.\n", e->name,
	    e->usage[0] != '\0' ? " " : "", e->usage, e->name);
	return EXIT_USAGE;
}

int
cmd_fail(const struct cmd_entry *e, int err, char **cause)
{
	if (cause != NULL && *cause != NULL)
		fprintf(stderr, "rtc %s: %s\n", e->name, *cause);
	else
		fprintf(stderr, "rtc %s: %s\n", e->name, rtc_strerror(err));
	if (cause != NULL) {
		free(*cause);
		*cause = NULL;
	}
	return rtc_err_exit_code(err);
}

int
cmd_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cmd_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cmd_show_help(const struct cmd_entry *e)
{
	cmd_print_help(e, stdout);
	return 0;
}

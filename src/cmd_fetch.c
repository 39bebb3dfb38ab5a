/*
 * cmd_fetch: `rtc fetch SOURCE -o DIR ...`: argument parsing around
 * rtc_fetch() (lib/fetch.h).
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "error.h"
#include "fetch.h"

#define FETCH_MAX_PATTERNS 256

static int fetch_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_fetch_entry = {
	.name = "fetch",
	.usage = "SOURCE -o DIR [--include G]... [--exclude G]... [--jobs N] "
	    "[--no-sign]",
	.summary = "Download an OpenNeuro dataset or an S3 prefix, verified "
	    "and resumable.",
	.help =
	    "SOURCE is dsNNNNNN[:TAG] (an OpenNeuro snapshot, the latest when\n"
	    "no TAG) or s3://BUCKET/PREFIX (keys mirrored under DIR, prefix\n"
	    "removed). A re-run fetches only what is missing or wrong.\n"
	    "  -o, --output DIR     the target directory (required)\n"
	    "  -i, --include G      only paths matching G (repeatable); for\n"
	    "                       OpenNeuro the top-level files always come\n"
	    "  -x, --exclude G      not paths matching G (repeatable)\n"
	    "  -j, --jobs N         transfers at once (default 16)\n"
	    "      --no-sign        unsigned S3 requests (OpenNeuro always)\n"
	    "      --retries N      tries without progress per file (8)\n",
	.exec = fetch_exec,
};

static int
fetch_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "include", required_argument, NULL, 'i' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-sign", no_argument, NULL, 'N' },
		{ "retries", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *inc[FETCH_MAX_PATTERNS], *exc[FETCH_MAX_PATTERNS];
	struct rtc_fetch_opts o;
	struct rtc_fetch_stats st;
	char *cause = NULL;
	long v;
	int c, r;

	memset(&o, 0, sizeof(o));
	o.include = inc;
	o.exclude = exc;
	o.progress = 1;
	while ((c = getopt_long(argc, argv, "o:i:x:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.dir = optarg;
			break;
		case 'i':
			if (o.ninclude >= FETCH_MAX_PATTERNS)
				return cmd_usage_error(&cmd_fetch_entry,
				    "too many --include patterns");
			inc[o.ninclude++] = optarg;
			break;
		case 'x':
			if (o.nexclude >= FETCH_MAX_PATTERNS)
				return cmd_usage_error(&cmd_fetch_entry,
				    "too many --exclude patterns");
			exc[o.nexclude++] = optarg;
			break;
		case 'j':
			if (cmd_parse_long(optarg, 1, 256, &v) != 0)
				return cmd_usage_error(&cmd_fetch_entry,
				    "--jobs takes a number from 1 to 256");
			o.jobs = (int)v;
			break;
		case 'R':
			if (cmd_parse_long(optarg, 1, 100, &v) != 0)
				return cmd_usage_error(&cmd_fetch_entry,
				    "--retries takes a number from 1 to 100");
			o.retries = (int)v;
			break;
		case 'N':
			o.no_sign = 1;
			break;
		case 'h':
			return cmd_show_help(&cmd_fetch_entry);
		default:
			return cmd_usage_error(&cmd_fetch_entry,
			    "unknown option");
		}
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_fetch_entry, "no SOURCE given");
	if (optind + 1 < argc)
		return cmd_usage_error(&cmd_fetch_entry, "one SOURCE at a time");
	if (o.dir == NULL || *o.dir == '\0')
		return cmd_usage_error(&cmd_fetch_entry, "-o DIR is required");
	o.source = argv[optind];
	r = rtc_fetch(ctx, &o, &st, &cause);
	if (r == RTC_ERR_INVAL && cause != NULL &&
	    strstr(cause, "expected dsNNNNNN") != NULL) {
		r = cmd_usage_error(&cmd_fetch_entry, "%s", cause);
		free(cause);
		return r;
	}
	if (r != RTC_OK)
		return cmd_fail(&cmd_fetch_entry, r, &cause);
	return 0;
}

/*
 * cmd_synth: `rtc synth -o DIR [--volumes N] [--matrix XxYxZ] [--tr S]
 * [--seed N]`, a phantom BOLD series as Siemens-style mosaic DICOMs plus
 * truth.tsv (lib/synth does the work).
 */
#include "rtc_build.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "error.h"
#include "synth.h"

/* "64x64x27" -> three numbers. RET: 0 or -1. */
static int
parse_matrix(const char *s, int out[3])
{
	char buf[64], *p, *q;
	long v;
	int i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	p = buf;
	for (i = 0; i < 3; i++) {
		q = strchr(p, 'x');
		if ((q == NULL) != (i == 2))
			return -1;
		if (q != NULL)
			*q = '\0';
		if (cmd_parse_long(p, 1, RTC_SYNTH_MAX_DIM, &v) != 0)
			return -1;
		out[i] = (int)v;
		p = q != NULL ? q + 1 : p;
	}
	return 0;
}

static int
synth_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "volumes", required_argument, NULL, 'n' },
		{ "matrix", required_argument, NULL, 'm' },
		{ "tr", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_synth_params p;
	const char *dir = NULL;
	char *cause = NULL, *end;
	unsigned long long seed;
	long v;
	int c, m[3], r;

	rtc_synth_params_init(&p);
	while ((c = getopt_long(argc, argv, "o:n:m:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'n':
			if (cmd_parse_long(optarg, 1, RTC_SYNTH_MAX_VOLUMES, &v))
				return cmd_usage_error(&cmd_synth_entry,
				    "--volumes: a number 1..%d",
				    RTC_SYNTH_MAX_VOLUMES);
			p.nvol = (int)v;
			break;
		case 'm':
			if (parse_matrix(optarg, m) != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--matrix: XxYxZ, e.g. 64x64x27");
			p.nx = m[0];
			p.ny = m[1];
			p.nz = m[2];
			break;
		case 't':
			if (cmd_parse_double(optarg, 0.05, 60.0, &p.tr) != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--tr: seconds, 0.05..60");
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *optarg == '-' || *end != '\0' ||
			    errno != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--seed: a non-negative integer");
			p.seed = (uint64_t)seed;
			break;
		case 'h':
			return cmd_show_help(&cmd_synth_entry);
		default:
			return cmd_usage_error(&cmd_synth_entry,
			    "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_synth_entry,
		    "unexpected argument '%s'", argv[optind]);
	if (dir == NULL)
		return cmd_usage_error(&cmd_synth_entry,
		    "an output directory (-o DIR) is required");
	r = rtc_synth_write(ctx, &p, dir, &cause);
	if (r != RTC_OK)
		return cmd_fail(&cmd_synth_entry, r, &cause);
	if (!ctx->quiet)
		printf("%s: %d volume%s of %dx%dx%d, TR %g s, seed %" PRIu64
		    " (mosaic DICOM); truth in %s/truth.tsv\n", dir, p.nvol,
		    p.nvol == 1 ? "" : "s", p.nx, p.ny, p.nz, p.tr, p.seed, dir);
	return 0;
}

const struct cmd_entry cmd_synth_entry = {
	.name = "synth",
	.usage = "-o DIR [--volumes N] [--matrix XxYxZ] [--tr S] [--seed N]",
	.summary = "Write a phantom BOLD series as Siemens-style mosaic DICOMs.",
	.help =
	    "  -o, --output DIR     write 001_SSSSSS_VVVVVV.dcm files and "
	    "truth.tsv here\n"
	    "  -n, --volumes N      volumes (default 10)\n"
	    "  -m, --matrix XxYxZ   matrix (default 64x64x27)\n"
	    "  -t, --tr S           repetition time in seconds (default 2)\n"
	    "  -s, --seed N         noise seed (default 1); the same seed "
	    "gives the same files\n",
	.exec = synth_exec,
};

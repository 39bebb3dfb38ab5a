/*
 * cmd_synth: `rtc synth -o DIR [--volumes N] [--matrix XxYxZ] [--voxel
 * X,Y,Z] [--tr S] [--seed N] [--motion SPEC] [--activation PCT] [--block S] [--roi
 * X,Y,Z,R]`, a phantom BOLD series as Siemens-style mosaic DICOMs plus
 * truth.tsv (lib/synth does the work; trajectories: lib/synth_motion).
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
#include "synth_motion.h"

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

/* "A,B,..." -> n numbers, number i within [lo[i], hi[i]]. RET: 0 or -1. */
static int
parse_numbers(const char *s, int n, const double *lo, const double *hi,
    double *out)
{
	char buf[128], *p, *q;
	int i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	p = buf;
	for (i = 0; i < n; i++) {
		q = strchr(p, ',');
		if ((q == NULL) != (i == n - 1))
			return -1;
		if (q != NULL)
			*q = '\0';
		if (cmd_parse_double(p, lo[i], hi[i], &out[i]) != 0)
			return -1;
		p = q != NULL ? q + 1 : p;
	}
	return 0;
}

/* "X,Y,Z" -> voxel size in mm. RET: 0 or -1. */
static int
parse_voxel(const char *s, double out[3])
{
	static const double lo[3] = { 0.1, 0.1, 0.1 };
	static const double hi[3] = { 20.0, 20.0, 20.0 };
	double v[3];

	if (parse_numbers(s, 3, lo, hi, v) != 0)
		return -1;
	memcpy(out, v, sizeof(v));
	return 0;
}

/* "X,Y,Z,R" (scanner RAS+ mm) -> the ROI (LPS). RET: 0 or -1. */
static int
parse_roi(const char *s, struct rtc_synth_roi *roi)
{
	static const double lo[4] = { -500.0, -500.0, -500.0, 0.5 };
	static const double hi[4] = { 500.0, 500.0, 500.0, 200.0 };
	double v[4];

	if (parse_numbers(s, 4, lo, hi, v) != 0)
		return -1;
	roi->center[0] = -v[0];
	roi->center[1] = -v[1];
	roi->center[2] = v[2];
	roi->radius = v[3];
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
		{ "motion", required_argument, NULL, 'M' },
		{ "activation", required_argument, NULL, 'A' },
		{ "block", required_argument, NULL, 'B' },
		{ "roi", required_argument, NULL, 'R' },
		{ "voxel", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_synth_params p;
	struct rtc_synth_traj *tj = NULL;
	const char *dir = NULL, *motion = NULL;
	double pct;
	char *cause = NULL, *end;
	unsigned long long seed;
	long v;
	int c, m[3], r;

	rtc_synth_params_init(&p);
	/* the activated sphere: 15 mm about the middle of the head, where
	 * the neurofeedback project's target (the brain centroid) lies */
	p.roi.center[0] = p.roi.center[1] = p.roi.center[2] = 0.0;
	p.roi.radius = 15.0;
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
		case 'M':
			motion = optarg;
			break;
		case 'A':
			if (cmd_parse_double(optarg, -50.0, 50.0, &pct) != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--activation: percent, -50..50");
			p.roi.amplitude = pct / 100.0;
			break;
		case 'B':
			if (cmd_parse_double(optarg, 0.1, 3600.0, &p.block_s) !=
			    0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--block: seconds, 0.1..3600");
			break;
		case 'V':
			if (parse_voxel(optarg, p.voxel) != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--voxel: X,Y,Z in mm, 0.1..20");
			break;
		case 'R':
			if (parse_roi(optarg, &p.roi) != 0)
				return cmd_usage_error(&cmd_synth_entry,
				    "--roi: X,Y,Z,R in scanner RAS+ mm "
				    "(R 0.5..200)");
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
	if (motion != NULL) {
		if ((r = rtc_synth_traj_parse(motion, &tj, &cause)) != RTC_OK)
			return cmd_fail(&cmd_synth_entry, r, &cause);
		if (rtc_synth_traj_rows(tj) > 0 &&
		    rtc_synth_traj_rows(tj) < p.nvol) {
			fprintf(stderr, "rtc synth: %s has %d rows for %d "
			    "volumes\n", motion, rtc_synth_traj_rows(tj),
			    p.nvol);
			rtc_synth_traj_free(tj);
			return 65;
		}
		rtc_synth_traj_attach(tj, &p);
	}
	r = rtc_synth_write(ctx, &p, dir, &cause);
	rtc_synth_traj_free(tj);
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
	.usage = "-o DIR [--volumes N] [--matrix XxYxZ] [--voxel X,Y,Z] [--tr S] "
	    "[--seed N] [--motion SPEC] [--activation PCT] [--block S] "
	    "[--roi X,Y,Z,R]",
	.summary = "Write a phantom BOLD series as Siemens-style mosaic DICOMs.",
	.help =
	    "  -o, --output DIR     write 001_SSSSSS_VVVVVV.dcm files and "
	    "truth.tsv here\n"
	    "  -n, --volumes N      volumes (default 10)\n"
	    "  -m, --matrix XxYxZ   matrix (default 64x64x27)\n"
	    "      --voxel X,Y,Z    voxel size in mm (default 3,3,3.5)\n"
	    "  -t, --tr S           repetition time in seconds (default 2)\n"
	    "  -s, --seed N         noise seed (default 1); the same seed "
	    "gives the same files\n"
	    "      --motion SPEC    move the head: sine:AMP_MM,AMP_DEG[,PERIOD_S]"
	    "\n"
	    "                       or a TSV with trans_x..rot_z columns (mm, "
	    "rad)\n"
	    "      --activation PCT signal change in the ROI during task "
	    "blocks\n"
	    "      --block S        rest and task blocks of S seconds, rest "
	    "first (20)\n"
	    "      --roi X,Y,Z,R    the activated sphere, scanner RAS+ mm "
	    "(0,0,0,15)\n",
	.exec = synth_exec,
};

/*
 * cmd_convert: `rtc convert INPUT... -o DIR [--gz]`, scanner DICOM to
 * NIfTI + BIDS sidecars (lib/convert does the work).
 */
#include "rtc_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "cmd_util.h"
#include "convert.h"
#include "error.h"

static int
convert_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "gz", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_convert_opts o = { NULL, 0 };
	struct rtc_convert_output *outs = NULL;
	size_t nouts = 0, i;
	char *cause = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:zh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.outdir = optarg;
			break;
		case 'z':
			o.gz = 1;
			break;
		case 'h':
			return cmd_show_help(&cmd_convert_entry);
		default:
			return cmd_usage_error(&cmd_convert_entry,
			    "unknown option");
		}
	}
	if (o.outdir == NULL)
		return cmd_usage_error(&cmd_convert_entry,
		    "an output directory (-o DIR) is required");
	if (optind >= argc)
		return cmd_usage_error(&cmd_convert_entry,
		    "no input files or directories");
	r = rtc_convert(ctx, (const char *const *)argv + optind,
	    (size_t)(argc - optind), &o, &outs, &nouts, &cause);
	for (i = 0; i < nouts && !ctx->quiet; i++) {
		printf("%s  %dx%dx%dx%d %s", outs[i].nifti, outs[i].nx,
		    outs[i].ny, outs[i].nz, outs[i].nt,
		    rtc_dtype_name(outs[i].dtype));
		if (outs[i].tr > 0)
			printf(", TR %g s", outs[i].tr);
		printf(", from %zu file%s", outs[i].nfiles,
		    outs[i].nfiles == 1 ? "" : "s");
		if (outs[i].ndup > 0)
			printf(" (%zu duplicate%s dropped)", outs[i].ndup,
			    outs[i].ndup == 1 ? "" : "s");
		printf("\n%s\n", outs[i].sidecar);
	}
	rtc_convert_outputs_free(outs, nouts);
	if (r != RTC_OK)
		return cmd_fail(&cmd_convert_entry, r, &cause);
	return 0;
}

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.usage = "INPUT... -o DIR [--gz]",
	.summary = "Convert scanner DICOM to NIfTI-1 and BIDS sidecars, one "
	    "pair per series.",
	.help =
	    "  -o, --output DIR  write the images and sidecars here (made "
	    "when missing)\n"
	    "  -z, --gz          write .nii.gz instead of .nii\n"
	    "INPUT: DICOM files or directories (searched recursively).\n"
	    "Siemens mosaics, enhanced multi-frame and one-file-per-slice "
	    "series;\n"
	    "uncompressed, deflated, RLE and JPEG (incl. lossless) data.\n",
	.exec = convert_exec,
};

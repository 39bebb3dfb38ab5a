/*
 * rtcd: the batch daemon. Parses its arguments, finds the templates,
 * hands the backends' ops tables to the batch core and runs it.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "client.h"
#include "ctx.h"
#include "daemon.h"
#include "error.h"
#include "fsutil.h"

#ifndef RTC_BUILD_TEMPLATES
#define RTC_BUILD_TEMPLATES ""
#endif

static const struct rtc_backend_ops *const backends[] = {
	&rtc_backend_local,
	&rtc_backend_slurm,
	NULL
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: rtcd [--foreground] [--config FILE] [--state-dir DIR] "
	    "[--debug SUBSYS[,...]]\n       rtcd --help | --version\n\n"
	    "The batch daemon of rtc. rtc starts it on demand; see rtcd(8).\n");
}

/* The first directory holding job.sh: $RTC_TEMPLATE_DIR, the installed
 * templates, the source tree's (for a build that is not installed). */
static const char *
template_dir(void)
{
	static const char *const dirs[] = { RTC_PKGDATADIR "/templates",
	    RTC_BUILD_TEMPLATES, NULL };
	const char *env = getenv("RTC_TEMPLATE_DIR");
	char path[PATH_MAX];
	int i;

	if (env != NULL && *env != '\0')
		return env;
	for (i = 0; dirs[i] != NULL; i++) {
		if (dirs[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/job.sh", dirs[i]);
		if (rtc_fs_is_file(path))
			return dirs[i];
	}
	return dirs[0];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "debug", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct rtc_daemon_opts o;
	struct rtc_ctx *ctx;
	const char *config = NULL, *debug = NULL;
	char *state = NULL, *cause = NULL, real[PATH_MAX];
	int c, foreground = 0, r, is_parent = 0, ready_fd = -1;

	while ((c = getopt_long(argc, argv, "fc:s:d:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'd':
			debug = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rtcd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	ctx = rtc_ctx_new("rtcd");
	if (ctx == NULL) {
		fprintf(stderr, "rtcd: out of memory\n");
		return 70;
	}
	if ((debug != NULL && rtc_log_set_debug(ctx->log, debug, &cause) != 0) ||
	    (debug == NULL && getenv("RTC_DEBUG") != NULL &&
	    rtc_log_set_debug(ctx->log, getenv("RTC_DEBUG"), &cause) != 0)) {
		fprintf(stderr, "rtcd: %s\n", cause);
		free(cause);
		rtc_ctx_free(ctx);
		return 64;
	}
	if (rtc_ctx_load_conf(ctx, config, &cause) != RTC_OK) {
		fprintf(stderr, "rtcd: %s\n", cause ? cause : "cannot read rtc.conf");
		free(cause);
		rtc_ctx_free(ctx);
		return 78;
	}
	if (state == NULL) {
		if (rtc_client_state_dir(&state, &cause) != RTC_OK) {
			fprintf(stderr, "rtcd: %s\n", cause);
			free(cause);
			rtc_ctx_free(ctx);
			return 64;
		}
	} else {
		if (state[0] != '/' && realpath(".", real) != NULL) {
			char *abs = NULL;

			if (asprintf(&abs, "%s/%s", real, state) < 0) {
				rtc_ctx_free(ctx);
				return 70;
			}
			state = abs;
		} else {
			state = strdup(state);
		}
		if (state == NULL) {
			rtc_ctx_free(ctx);
			return 70;
		}
	}
	memset(&o, 0, sizeof(o));
	o.state_dir = state;
	o.template_dir = template_dir();
	o.version = PACKAGE_VERSION;
	o.backends = backends;
	o.foreground = foreground;
	if (!foreground) {
		r = rtc_daemon_detach(&is_parent, &ready_fd, &cause);
		if (is_parent || r != RTC_OK) {
			if (r != RTC_OK)
				fprintf(stderr, "rtcd: %s\n", cause ? cause :
				    rtc_strerror(r));
			free(cause);
			free(state);
			rtc_ctx_free(ctx);
			return r == RTC_OK ? 0 : r == RTC_ERR_BUSY ? 75 : 69;
		}
	}
	r = rtc_daemon_run(ctx, &o, ready_fd, &cause);
	if (r != RTC_OK && foreground)
		fprintf(stderr, "rtcd: %s\n", cause ? cause : rtc_strerror(r));
	free(cause);
	free(state);
	rtc_ctx_free(ctx);
	return r == RTC_OK ? 0 : r == RTC_ERR_BUSY ? 75 : rtc_err_exit_code(r);
}

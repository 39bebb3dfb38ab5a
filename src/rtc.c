/*
 * rtc: the command line. A thin table of verbs (tmux's cmd_entry idea):
 * global options, then the verb, whose handler parses its own arguments
 * and calls into librtc.
 */
#include "rtc_build.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_util.h"
#include "error.h"

static const struct cmd_entry *const cmd_table[] = {
	/* realtime */
	&cmd_live_entry,
	&cmd_replay_entry,
	&cmd_bench_entry,
	/* imaging */
	&cmd_convert_entry,
	&cmd_synth_entry,
	/* data */
	&cmd_fetch_entry,
	/* batch */
	&cmd_submit_entry,
	&cmd_status_entry,
	&cmd_logs_entry,
	&cmd_wait_entry,
	&cmd_cancel_entry,
	&cmd_resubmit_entry,
	/* this command */
	&cmd_help_entry,
	&cmd_version_entry,
	NULL
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

const struct cmd_entry *
cmd_find(const char *name)
{
	int i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

void
cmd_print_help(const struct cmd_entry *e, FILE *fp)
{
	fprintf(fp, "usage: rtc %s%s%s\n\n%s\n", e->name,
	    e->usage[0] != '\0' ? " " : "", e->usage, e->summary);
	if (e->help != NULL)
		fprintf(fp, "\n%s", e->help);
}

static void
usage(FILE *fp)
{
	int i;

	fprintf(fp,
	    "usage: rtc [-v] [-q] [--debug SUBSYS[,...]] VERB [ARGS...]\n"
	    "       rtc --help | --version | help VERB\n\nverbs:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(fp, "  %-9s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fprintf(fp, "\nSee rtc(1) for details.\n");
}

static int
help_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *e;

	(void)ctx;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		return cmd_usage_error(&cmd_help_entry, "too many arguments");
	e = cmd_find(argv[1]);
	if (e == NULL) {
		fprintf(stderr, "rtc help: unknown verb '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd_print_help(e, stdout);
	return 0;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[VERB]",
	.summary = "Show the verbs, or one verb's usage and options.",
	.help = NULL,
	.exec = help_exec,
};

static int
version_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argv;
	if (argc > 1)
		return cmd_usage_error(&cmd_version_entry, "too many arguments");
	printf("rtc %s\n", PACKAGE_VERSION);
	return 0;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "",
	.summary = "Print the version.",
	.help = NULL,
	.exec = version_exec,
};

/*
 * OpenMP threads that spin at barriers (libgomp's default) lose whole
 * scheduler slices when another process wants a core: on 2 cores, one busy
 * process raised the live path's p99 latency from 11 to 94 ms. Threads that
 * sleep at barriers ("passive") cost about as little on a quiet machine
 * and keep the p99 near 11 ms under that load, so the realtime verbs use
 * them unless OMP_WAIT_POLICY says otherwise. libgomp reads its
 * environment once, when it loads: hence the re-exec. Should it fail, rtc
 * goes on with the default policy.
 */
static void
realtime_wait_policy(const struct cmd_entry *e, char **argv)
{
	if (e != &cmd_live_entry && e != &cmd_replay_entry &&
	    e != &cmd_bench_entry)
		return;
	if (getenv("OMP_WAIT_POLICY") != NULL)
		return;
	if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
		return;
	execv("/proc/self/exe", argv);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e;
	struct rtc_ctx *ctx;
	struct sigaction sa;
	char *cause = NULL;
	const char *debug = NULL;
	int c, verbose = 0, quiet = 0, ret, vi;

	/* stop at the verb: its options are its own */
	while ((c = getopt_long(argc, argv, "+hVvqd:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rtc %s\n", PACKAGE_VERSION);
			return 0;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'd':
			debug = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	e = cmd_find(argv[optind]);
	if (e == NULL) {
		fprintf(stderr, "rtc: unknown verb '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	realtime_wait_policy(e, argv);
	ctx = rtc_ctx_new("rtc");
	if (ctx == NULL) {
		fprintf(stderr, "rtc: out of memory\n");
		return 70;
	}
	if (verbose)
		(void)rtc_log_set_debug(ctx->log, "core", NULL);
	if (quiet) {
		rtc_log_set_level(ctx->log, RTC_LOG_WARN);
		ctx->quiet = 1;
	}
	if (debug != NULL && rtc_log_set_debug(ctx->log, debug, &cause) != 0) {
		fprintf(stderr, "rtc: %s\n", cause);
		free(cause);
		rtc_ctx_free(ctx);
		return EXIT_USAGE;
	}
	if (getenv("RTC_DEBUG") != NULL &&
	    rtc_log_set_debug(ctx->log, getenv("RTC_DEBUG"), &cause) != 0) {
		fprintf(stderr, "rtc: RTC_DEBUG: %s\n", cause);
		free(cause);
		cause = NULL;
	}
	if (rtc_ctx_load_conf(ctx, NULL, &cause) != RTC_OK) {
		fprintf(stderr, "rtc: %s\n", cause ? cause : "cannot read rtc.conf");
		free(cause);
		rtc_ctx_free(ctx);
		return 78;
	}
	ctx->stop = &stop_flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* each verb sees itself as argv[0]; optind 0 resets getopt fully */
	vi = optind;
	optind = 0;
	ret = e->exec(ctx, argc - vi, argv + vi);
	rtc_ctx_free(ctx);
	return ret;
}

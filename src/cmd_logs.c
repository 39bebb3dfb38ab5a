/*
 * rtc logs: a run's events (submissions, state changes, retries and why),
 * or with --sub the app's own output of each attempt of a participant.
 * The daemon says where the logs are; this process reads them, so
 * --follow costs the daemon one small request a second.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_batch.h"
#include "cmd_util.h"
#include "error.h"

static int logs_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "RUN [--sub L] [--follow]",
	.summary = "Show a run's events, or the app's output for one participant.",
	.help =
	    "  --sub L      the output of every attempt of participant L\n"
	    "  -f, --follow keep printing what comes, until the run (or job) ends\n",
	.exec = logs_exec,
};

struct seen_file {
	char *path;
	off_t off;
	int header;
};

/* Print what path holds past *off. RET: bytes printed. */
static long
print_from(const char *path, off_t *off)
{
	char buf[65536];
	ssize_t n;
	long total = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (lseek(fd, *off, SEEK_SET) != *off) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		*off += n;
		total += n;
	}
	close(fd);
	fflush(stdout);
	return total;
}

static struct seen_file *
seen_get(struct seen_file **v, size_t *n, const char *path)
{
	struct seen_file *nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].path, path) == 0)
			return &(*v)[i];
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	nv[*n].path = strdup(path);
	if (nv[*n].path == NULL)
		return NULL;
	return &nv[(*n)++];
}

static int
logs_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_logs_entry;
	struct seen_file *files = NULL;
	size_t nfiles = 0, i, k;
	const char *sub = NULL;
	long long after = 0;
	int c, follow = 0, rc = 0;

	while ((c = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sub = optarg;
			break;
		case 'f':
			follow = 1;
			break;
		case 'h':
			return cmd_show_help(e);
		default:
			return cmd_usage_error(e, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(e, "which RUN? (rtc status lists them)");
	for (;;) {
		json_t *args, *res = NULL, *ev, *jobs, *j;
		int ended = 1;

		args = json_pack("{s:s,s:I}", "run", argv[optind], "after",
		    (json_int_t)after);
		if (args == NULL)
			return 70;
		if (sub != NULL)
			json_object_set_new(args, "sub", json_string(sub));
		rc = batch_call_retry(ctx, e, "logs", args, &res, follow ? 50 : 0);
		json_decref(args);
		if (rc != 0)
			break;
		if (sub == NULL) {
			json_array_foreach(json_object_get(res, "events"), i, ev) {
				const char *job = json_string_value(json_object_get(ev,
				    "job"));

				printf("%s  %-16s %s\n", json_string_value(
				    json_object_get(ev, "time")), job ? job : "run",
				    json_string_value(json_object_get(ev, "text")));
			}
			fflush(stdout);
			after = json_integer_value(json_object_get(res, "last_event"));
			ended = json_is_true(json_object_get(res, "finished"));
		}
		jobs = json_object_get(res, "jobs");
		json_array_foreach(jobs, i, j) {
			const char *st = json_string_value(json_object_get(j, "state"));
			json_t *logs = json_object_get(j, "logs"), *p;

			if (st != NULL && strcmp(st, "done") != 0 &&
			    strcmp(st, "failed") != 0 && strcmp(st, "cancelled") != 0)
				ended = 0;
			json_array_foreach(logs, k, p) {
				struct seen_file *sf = seen_get(&files, &nfiles,
				    json_string_value(p));

				if (sf == NULL)
					continue;
				if (!sf->header) {
					if (access(sf->path, R_OK) != 0 && follow)
						continue;   /* not written yet */
					printf("==> %s attempt %zu: %s <==\n",
					    json_string_value(json_object_get(j, "job")), k + 1,
					    sf->path);
					sf->header = 1;
					if (access(sf->path, R_OK) != 0)
						printf("(no output: %s)\n", strerror(errno));
				}
				print_from(sf->path, &sf->off);
			}
			if (!follow && st != NULL && strcmp(st, "done") == 0)
				printf("==> %s: done; manifest %s <==\n",
				    json_string_value(json_object_get(j, "job")),
				    json_string_value(json_object_get(j, "manifest")));
			else if (!follow && st != NULL)
				printf("==> %s: %s: %s <==\n",
				    json_string_value(json_object_get(j, "job")), st,
				    json_string_value(json_object_get(j, "reason")));
		}
		fflush(stdout);
		json_decref(res);
		if (!follow || ended || rtc_ctx_stopping(ctx))
			break;
		rtc_clock_sleep_ns(1000000000LL, ctx->stop);
		if (rtc_ctx_stopping(ctx))
			break;
	}
	for (i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	return rc;
}

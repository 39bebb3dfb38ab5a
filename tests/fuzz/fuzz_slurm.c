/*
 * fuzz_slurm: what Slurm's tools print, as the slurm backend
 * (cloud/slurm.c) reads it: `scontrol show config` (MaxArraySize and the
 * like), `sacctmgr` (MaxSubmitJobs), `sacct --parsable2` and `squeue`
 * (job states, array ranges, exit codes, names, reasons), `sbatch
 * --parsable` (the job id) and `scancel`'s complaints. The harness stands
 * in for the tools: the build links it with --wrap=rtc_process_run, so the
 * backend's own open, poll, submit and cancel run unchanged and get the
 * input's text as the tools' output.
 *
 * Input: six sections separated by NUL bytes, the answers of scontrol,
 * sacctmgr, sacct, squeue, sbatch and scancel. A section's first byte
 * says how the tool ends: bits 0-1 its exit code, bit 2 "not installed",
 * bit 3 the text goes to stderr instead of stdout.
 * Invariants: every query ends in a known state with an exit code of -1
 * or 0..255 and a NUL-terminated reason; a submitted task has an id of the
 * form JOB_TASK; errors are error codes. Seeds: tests/fuzz/corpus/slurm.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backends.h"
#include "buf.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "job.h"
#include "log.h"
#include "process.h"

#include "fuzz_common.h"

enum { T_SCONTROL, T_SACCTMGR, T_SACCT, T_SQUEUE, T_SBATCH, T_SCANCEL,
	T_COUNT };

static const char *const tools[T_COUNT] = {
	"scontrol", "sacctmgr", "sacct", "squeue", "sbatch", "scancel"
};

static char *section[T_COUNT];
static size_t section_len[T_COUNT];
static char run_dir[4096], jobs_dir[4096], tmpl_dir[4096];

int __wrap_rtc_process_run(const char *const argv[], const char *const *env,
    const char *input, struct rtc_buf *out, struct rtc_buf *err,
    int timeout_ms, int *status, char **cause);

/* The tools, answering from the input. */
int
__wrap_rtc_process_run(const char *const argv[], const char *const *env,
    const char *input, struct rtc_buf *out, struct rtc_buf *err,
    int timeout_ms, int *status, char **cause)
{
	const char *text;
	size_t len;
	int t, ctl;

	(void)env;
	(void)input;
	(void)timeout_ms;
	for (t = 0; t < T_COUNT; t++)
		if (strcmp(argv[0], tools[t]) == 0)
			break;
	FUZZ_CHECK(t < T_COUNT);
	if (section_len[t] == 0) {
		*status = 0;
		return RTC_OK;
	}
	ctl = (unsigned char)section[t][0];
	text = section[t] + 1;
	len = section_len[t] - 1;
	if (ctl & 4) {
		rtc_cause_set(cause, "%s: not found", argv[0]);
		return RTC_ERR_NOT_FOUND;
	}
	if (ctl & 8) {
		if (err != NULL)
			(void)rtc_buf_append(err, text, len);
	} else if (out != NULL) {
		(void)rtc_buf_append(out, text, len);
	}
	*status = (ctl & 3) << 8;     /* as waitpid reports an exit */
	return RTC_OK;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(run_dir, sizeof(run_dir), "%s/run", fuzz_dir());
	snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", run_dir);
	snprintf(tmpl_dir, sizeof(tmpl_dir), "%s/templates", fuzz_dir());
	if (rtc_fs_mkdir_p(jobs_dir, 0700, NULL) != RTC_OK ||
	    rtc_fs_mkdir_p(tmpl_dir, 0700, NULL) != RTC_OK)
		abort();
	fuzz_put(tmpl_dir, "sbatch.sh", "#!/bin/sh\nexit 0\n", 17);
	return 0;
}

static void
check_query(const struct rtc_backend_query *q)
{
	FUZZ_CHECK(q->state != RTC_SCHED_UNKNOWN);
	FUZZ_CHECK(q->exit_code >= -1 && q->exit_code <= 255);
	FUZZ_CHECK(memchr(q->reason, '\0', sizeof(q->reason)) != NULL);
	FUZZ_CHECK(memchr(q->backend_id, '\0', sizeof(q->backend_id)) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rtc_backend_ops *ops = &rtc_backend_slurm;
	struct rtc_backend_query q[5];
	struct rtc_backend_task tasks[4];
	struct rtc_backend_submit sub;
	const char *ids[3] = { "123_4", "123_5", "77_0" };
	json_t *conf;
	void *st = NULL;
	char *cause = NULL;
	size_t i;
	int r;

	if (run_dir[0] == '\0')
		LLVMFuzzerInitialize(NULL, NULL);
	fuzz_split(data, size, '\0', section, section_len, T_COUNT);
	conf = json_pack("{s:s,s:i}", "partition", "debug", "max_array_size",
	    100);
	FUZZ_CHECK(conf != NULL);
	r = ops->open(fuzz_ctx(), conf, &st, &cause);
	FUZZ_CHECK(r == RTC_OK);

	/* poll: three stored ids, two found by their submission's name */
	memset(q, 0, sizeof(q));
	for (i = 0; i < 5; i++) {
		q[i].idx = (int)i;
		q[i].token = "rtc-r1.1";
		if (i < 3)
			snprintf(q[i].backend_id, sizeof(q[i].backend_id), "%s",
			    ids[i]);
	}
	r = ops->poll(st, q, 5, &cause);
	if (r == RTC_OK)
		for (i = 0; i < 5; i++)
			check_query(&q[i]);
	free(cause);
	cause = NULL;

	/* submit four tasks, two kinds of resources */
	memset(tasks, 0, sizeof(tasks));
	memset(&sub, 0, sizeof(sub));
	for (i = 0; i < 4; i++) {
		tasks[i].idx = (int)i * 3;
		tasks[i].cpus = 1 + (int)(i / 2);
		tasks[i].mem_mb = 1000;
		tasks[i].time_min = 60;
	}
	sub.run = "r1";
	sub.run_dir = run_dir;
	sub.jobs_dir = jobs_dir;
	sub.token = "rtc-r1.1";
	sub.template_dir = tmpl_dir;
	sub.throttle = 2;
	sub.tasks = tasks;
	sub.ntasks = 4;
	r = ops->submit(st, &sub, &cause);
	FUZZ_CHECK(sub.nsubmitted <= sub.ntasks);
	for (i = 0; i < 4; i++) {
		long job, task;
		char tail;

		if (tasks[i].backend_id[0] == '\0')
			continue;
		FUZZ_CHECK(sscanf(tasks[i].backend_id, "%ld_%ld%c", &job, &task,
		    &tail) == 2 && job > 0 && task >= 0);
	}
	if (r == RTC_OK)
		FUZZ_CHECK(sub.nsubmitted == sub.ntasks);
	else
		FUZZ_CHECK(r < 0);
	free(cause);
	cause = NULL;

	r = ops->cancel(st, ids, 3, &cause);
	FUZZ_CHECK(r <= 0);
	free(cause);
	FUZZ_CHECK(ops->capacity(st) == -1);
	ops->close(st);
	json_decref(conf);
	fuzz_parts_free(section, T_COUNT);
	return 0;
}

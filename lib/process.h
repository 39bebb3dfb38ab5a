/*
 * process: run other programs without a shell (posix_spawnp + argv), so no
 * user input is ever parsed as shell syntax. Used for scheduler commands
 * (sbatch, sacct), container runtimes, reference tools in tests, and
 * custom-analysis processes that speak over pipes.
 */
#ifndef RTC_PROCESS_H
#define RTC_PROCESS_H

#include <sys/types.h>

#include "buf.h"

struct rtc_process_opts {
	const char *const *env;  /* full environment; NULL inherits ours */
	const char *cwd;         /* NULL: ours */
	int stdin_fd;            /* -1: /dev/null */
	int stdout_fd;           /* -1: inherit */
	int stderr_fd;           /* -1: inherit */
	int new_pgrp;            /* child leads its own process group */
};

/* Defaults: inherit env and cwd, stdin from /dev/null, inherit out/err. */
void rtc_process_opts_init(struct rtc_process_opts *o);

/*
 * Start argv[0] (looked up in PATH) with argv. OUT: *pid. RET: RTC_OK,
 * RTC_ERR_NOT_FOUND when the program does not exist, RTC_ERR_IO.
 */
int rtc_process_spawn(const char *const argv[], const struct rtc_process_opts *o,
    pid_t *pid, char **cause);

/*
 * Start argv with pipes to its stdin and from its stdout (stderr is
 * inherited). OUT: *pid, *to_child (write end), *from_child (read end),
 * all close-on-exec in this process.
 */
int rtc_process_spawn_pipes(const char *const argv[], const char *const *env,
    pid_t *pid, int *to_child, int *from_child, char **cause);

/*
 * Run argv to completion. IN: input (may be NULL) fed on stdin; the
 * buffers' own caps bound what is kept; timeout_ms (<= 0: none; on expiry the child's
 * process group is killed and RTC_ERR_TIMEOUT returned). OUT: out/err
 * (may be NULL: discarded), *status as from waitpid. RET: RTC_OK when the
 * program ran (whatever its exit status), else an error.
 */
int rtc_process_run(const char *const argv[], const char *const *env,
    const char *input, struct rtc_buf *out, struct rtc_buf *err,
    int timeout_ms, int *status, char **cause);

/* RET: the exit code for a normal exit, 128+signal for a signal death. */
int rtc_process_exit_status(int status);

#endif

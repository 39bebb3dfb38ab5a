/*
 * cmd_batch: what the batch verbs (submit, status, logs, wait, cancel,
 * resubmit) share: reaching rtcd (starting it when needed) and printing
 * runs for people.
 */
#ifndef RTC_CMD_BATCH_H
#define RTC_CMD_BATCH_H

#include <stdio.h>

#include <jansson.h>

#include "cmd.h"

/*
 * Connect to rtcd (starting it when none answers). OUT: *fd.
 * RET: 0, or the exit status after printing why not.
 */
int batch_connect(struct rtc_ctx *ctx, const struct cmd_entry *e, int *fd);

/*
 * One request to rtcd on a fresh connection. OUT: *result (new reference)
 * on success. RET: 0, or the exit status after printing the error.
 */
int batch_call(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *op, json_t *args, json_t **result);

/* The same, trying again up to tries times when the daemon goes away in
 * the middle (rtc logs --follow outlives a daemon restart). */
int batch_call_retry(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *op, json_t *args, json_t **result, int tries);

/* Print a run's one-line summary ("r3  running  12/16 done ..."). */
void batch_print_run_line(FILE *fp, json_t *run);

/* Print a run's jobs as a table, one line per participant. */
void batch_print_jobs(FILE *fp, json_t *run);

/* Print what went wrong in a run: each job not done, and what to do. */
void batch_print_outcome(FILE *fp, json_t *run);

#endif

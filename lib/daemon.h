/*
 * daemon: rtcd's core. One main thread runs a poll(2) loop over the
 * control socket, the client connections, a signalfd and a pipe from the
 * worker threads; it owns the job store and makes every state decision.
 * Worker threads do what may block: planning (dataset scans), rendering
 * job scripts, the backends' submit/poll/cancel (sbatch, sacct, scancel)
 * and collecting outputs. With no active job the loop sleeps without a
 * timeout: an idle daemon uses no CPU.
 *
 * Requests (lib/proto) are dispatched through one table: hello, submit,
 * status, logs, wait, cancel, resubmit.
 */
#ifndef RTC_DAEMON_H
#define RTC_DAEMON_H

#include "backend.h"
#include "ctx.h"

struct rtc_daemon_opts {
	const char *state_dir;        /* created 0700 when absent */
	const char *template_dir;     /* job.sh, run-*.sh, sbatch.sh */
	const char *version;          /* for hello and GeneratedBy */
	const struct rtc_backend_ops *const *backends;  /* NULL-terminated */
	int foreground;               /* log to stderr instead of rtcd.log */
};

/*
 * Go to the background: fork, and in the parent wait until the child
 * reports that it is ready (or why it cannot be). OUT: *is_parent, and in
 * the child *ready_fd (hand it to rtc_daemon_run). RET in the parent:
 * RTC_OK when the daemon is ready, RTC_ERR_BUSY when another one already
 * runs, another error with the child's words in *cause.
 */
int rtc_daemon_detach(int *is_parent, int *ready_fd, char **cause);

/*
 * Run the daemon until SIGTERM/SIGINT: take the state directory's lock
 * (RTC_ERR_BUSY when another rtcd holds it), open the job store,
 * reconcile every unfinished job with its backend, listen, then serve.
 * IN: ready_fd (-1 when not detached): "ok" or the error is written there
 * once listening (or failing), then it is closed.
 * RET: RTC_OK after a clean stop, or the error that stopped it.
 */
int rtc_daemon_run(struct rtc_ctx *ctx, const struct rtc_daemon_opts *o,
    int ready_fd, char **cause);

#endif

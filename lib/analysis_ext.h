/*
 * analysis_ext: a project's own analysis as an external process (any
 * language) speaking newline-delimited JSON on its stdin and stdout. The
 * protocol is documented in rtc-project(5), CUSTOM ANALYSIS; in short:
 *
 *   rtc -> process  {"type":"hello","protocol":1,"config":{...},
 *                    "project":{"dir":"...","title":"..."}}
 *   process -> rtc  {"type":"ready"}
 *   rtc -> process  {"type":"volume","seq":N,"run":R,"vol":V,
 *                    "nifti":"/dev/shm/rtc-analysis-XXXXXX/run1_vol5.nii",
 *                    "dims":[X,Y,Z],"tr":T,"record":{...}}
 *   process -> rtc  {"seq":N,"values":{"name":number,...}}
 *                   (or {"seq":N,"error":"text"})
 *   rtc -> process  {"type":"bye"}   then stdin closes
 *
 * Never blocking the run: each volume waits at most timeout_ms for its
 * reply (then the record is flagged analysis_timeout and the run goes on).
 * While the process is still busy with an older volume, newer ones are not
 * sent (flagged analysis_skipped): it always gets the freshest volume it
 * can take, never a backlog. Late replies are discarded. A process that
 * dies is started again (at most max_restarts times).
 *
 * The volume's NIfTI is written by a callback (the pipeline passes the
 * NIfTI writer) into a private directory on a RAM-backed file system, and
 * removed once the reply came (or the volume was given up).
 *
 * Not thread-safe: one pipeline thread calls it.
 */
#ifndef RTC_ANALYSIS_EXT_H
#define RTC_ANALYSIS_EXT_H

#include <jansson.h>

#include "feedback.h"

struct rtc_ctx;
struct rtc_volume;
struct rtc_analysis_ext;

/* Write volume v as a NIfTI file at path. RET: RTC_OK or an error. */
typedef int (*rtc_analysis_write_fn)(void *arg, const struct rtc_volume *v,
    const char *path, char **cause);

struct rtc_analysis_ext_opts {
	const char *const *argv;       /* program (PATH or a path) and args */
	const char *const *env;        /* NULL: ours */
	const char *cwd;               /* the process's directory; NULL ours */
	const char *shm_dir;           /* "/dev/shm" */
	int timeout_ms;                /* per volume; 500 */
	int startup_timeout_ms;        /* for "ready"; 5000 */
	int max_restarts;              /* 3 */
	json_t *config;                /* sent in hello; NULL: {} */
	json_t *project;               /* sent in hello; NULL: {} */
	rtc_analysis_write_fn write_volume;  /* NULL: "nifti" is null */
	void *write_arg;
};

struct rtc_analysis_ext_stats {
	unsigned long long sent;       /* volumes sent */
	unsigned long long answered;   /* replies in time */
	unsigned long long timeouts;
	unsigned long long skipped;    /* not sent: still busy */
	unsigned long long late;       /* replies that came too late */
	unsigned long long errors;     /* error replies, bad values */
	unsigned long long bad_lines;  /* lines that were not JSON objects */
	unsigned long long restarts;
	double max_ms;                 /* slowest reply in time */
};

void rtc_analysis_ext_opts_init(struct rtc_analysis_ext_opts *o);

/*
 * Start the process and wait for its "ready". OUT: *out. RET: RTC_OK;
 * RTC_ERR_NOT_FOUND (no such program); RTC_ERR_TIMEOUT (no "ready" in
 * time); RTC_ERR_PROTO (something else came back); RTC_ERR_IO.
 */
int rtc_analysis_ext_start(struct rtc_ctx *ctx,
    const struct rtc_analysis_ext_opts *o, struct rtc_analysis_ext **out,
    char **cause);

/*
 * Analyse one volume: write it, send the request, wait for the reply at
 * most timeout_ms, add the reply's values to r->values.
 * RET: RTC_OK; RTC_ERR_TIMEOUT (r flagged analysis_timeout);
 * RTC_ERR_BUSY (still busy: not sent, flagged analysis_skipped);
 * RTC_ERR_PROTO (an error reply or bad values: flagged analysis_failed);
 * RTC_ERR_UNAVAILABLE (the process is gone for good: flagged
 * analysis_failed); RTC_ERR_IO (the volume could not be written).
 */
int rtc_analysis_ext_process(struct rtc_analysis_ext *a,
    const struct rtc_volume *v, struct rtc_fb_record *r, char **cause);

void rtc_analysis_ext_get_stats(const struct rtc_analysis_ext *a,
    struct rtc_analysis_ext_stats *st);

/* RET: the directory volumes are written to. */
const char *rtc_analysis_ext_dir(const struct rtc_analysis_ext *a);

/* Say bye, close, wait up to a second, kill if needed, remove the
 * volumes' directory, free. NULL is a no-op. */
void rtc_analysis_ext_free(struct rtc_analysis_ext *a);

#endif

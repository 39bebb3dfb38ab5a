/*
 * replay: a recorded run as a source of volumes for the live path
 * (rtc replay, rtc bench live).
 *
 * Inputs:
 *   a 4D NIfTI (.nii, .nii.gz)     frames read one at a time (znzlib), so
 *                                  a long run never sits in memory;
 *   a DICOM directory (or file)    grouped into series and ordered by
 *                                  acquisition (lib/series); several
 *                                  series replay one after another (each
 *                                  a run), duplicates are left out; each
 *                                  volume's files are read into memory
 *                                  before its release, then decoded by
 *                                  the live path as if just received;
 *   a BIDS dataset                 the one *_bold.nii[.gz] that the
 *                                  selection (sub, ses, task, run; each
 *                                  optional, matched as BIDS means it)
 *                                  names, its TR from the sidecars by
 *                                  inheritance;
 *   a BIDS run file                its TR likewise (the dataset's root is
 *                                  the nearest directory up holding
 *                                  dataset_description.json).
 *
 * A volume is delivered in two steps: rtc_replay_load() reads its bytes
 * (not part of the latency: a scanner has them), rtc_replay_deliver()
 * releases them into the live path with the latency clock at intake_ns
 * (decoding included).
 */
#ifndef RTC_REPLAY_H
#define RTC_REPLAY_H

#include <stdint.h>

struct rtc_ctx;
struct rtc_live;
struct rtc_live_intake;
struct rtc_replay;

/* A BIDS selection; NULL fields match anything. */
struct rtc_replay_select {
	const char *sub, *ses, *task, *run;
};

#define RTC_REPLAY_MAX_FILES 1000000
#define RTC_REPLAY_MAX_NIFTI ((size_t)64 << 30)   /* a whole NIfTI */
#define RTC_REPLAY_MAX_FRAME ((size_t)1 << 30)    /* one of its volumes */

/*
 * Open input (see above). IN: sel (may be NULL; only for a BIDS
 * dataset). OUT: *out, closed with rtc_replay_close(). RET: RTC_OK;
 * RTC_ERR_NOT_FOUND (no such input, no DICOM image, no run matches);
 * RTC_ERR_INVAL (the selection matches several runs: *cause lists some);
 * RTC_ERR_FORMAT, RTC_ERR_UNSUPPORTED (an image that cannot be replayed);
 * RTC_ERR_IO, RTC_ERR_NOMEM.
 */
int rtc_replay_open(struct rtc_ctx *ctx, const char *input,
    const struct rtc_replay_select *sel, struct rtc_replay **out,
    char **cause);

/* RET: volumes in the input (all series); its TR in s (0 unknown); what
 * it is, for messages ("NIfTI sub-01_task-x_bold.nii.gz", "DICOM, 2
 * series"). */
int rtc_replay_count(const struct rtc_replay *rp);
double rtc_replay_tr(const struct rtc_replay *rp);
const char *rtc_replay_describe(const struct rtc_replay *rp);

/* Read volume k's bytes (k in order is fastest). RET: RTC_OK, RTC_ERR_IO,
 * RTC_ERR_FORMAT (a short NIfTI), RTC_ERR_INVAL (k out of range). */
int rtc_replay_load(struct rtc_replay *rp, int k, char **cause);

/*
 * Release the loaded volume into the live path: DICOM bytes go through
 * in (decoded as received), a NIfTI frame into a pool volume of lv.
 * IN: intake_ns, the latency clock's start. RET: RTC_OK or an error of
 * the decoder (logged by the live path).
 */
int rtc_replay_deliver(struct rtc_replay *rp, struct rtc_live *lv,
    struct rtc_live_intake *in, int64_t intake_ns, char **cause);

/*
 * Replay every volume into lv from a producer in this thread: paced at
 * pace_s per volume (release k at start + k * pace_s; processing slower
 * than that makes volumes queue, as a scanner would), or, with pace_s 0,
 * as fast as the pipeline goes: each volume is released once the one
 * before has its record written (a closed loop, so latency is the
 * pipeline's own, not time spent queued). Stops early on the ctx's stop
 * flag or when lv is done. Does not end lv. OUT: *delivered (may be
 * NULL). RET: RTC_OK, RTC_ERR_CANCELLED (stopped early), or a read error.
 */
int rtc_replay_run(struct rtc_replay *rp, struct rtc_live *lv, double pace_s,
    int *delivered, char **cause);

void rtc_replay_close(struct rtc_replay *rp);

#endif

/*
 * runout: a realtime run written as BIDS while it happens (rtc live and
 * rtc replay --out DIR).
 *
 * Files, with names made by lib/bids from the project's subjectName,
 * sessionId (optional), taskName and the run number:
 *
 *   DIR/dataset_description.json            (made when missing)
 *   DIR/sub-S/[ses-X/]func/sub-S[_ses-X]_task-T_run-R_bold.nii.gz
 *                                           the volumes as they arrived
 *   DIR/sub-S/[ses-X/]func/..._bold.json    RepetitionTime, TaskName,
 *                                           SliceTiming
 *   DIR/derivatives/rtc/dataset_description.json
 *   DIR/derivatives/rtc/sub-S/[ses-X/]func/
 *       ..._desc-confounds_timeseries.tsv   trans_x trans_y trans_z (mm)
 *                                           rot_x rot_y rot_z (rad)
 *                                           framewise_displacement (mm),
 *                                           fMRIPrep's column names
 *       ..._desc-feedback_timeseries.tsv    vol, acquisition_time,
 *                                           feedback, decision, the ROI
 *                                           measures, flags, custom values
 *       ..._desc-latency_timeseries.tsv     run, vol, latency_ms and each
 *                                           stage's time (as
 *                                           rtc_latency_write_tsv())
 *
 * (what rtc computed is a derivative of the raw run, so it lives under
 * derivatives/, where BIDS tools expect it).
 *
 * Appending: while the run goes on, the image is an uncompressed
 * ..._bold.nii next to its final name whose header is rewritten after
 * every volume, so it is a valid NIfTI of the volumes so far even if rtc
 * is killed; the tables grow a row per volume. rtc_runout_finish()
 * (the run's end, also after SIGINT) compresses the image to .nii.gz
 * (temp file, rename), removes the .nii, and writes the sidecar with
 * what was learnt. Frame k of the image is volume k+1 of the run: a
 * volume that never came is a frame of zeros (listed in the sidecar
 * under rtcMissingVolumes), so timing stays right.
 *
 * Not thread-safe: the pipeline thread writes.
 */
#ifndef RTC_RUNOUT_H
#define RTC_RUNOUT_H

#include <stddef.h>

#include "feedback.h"

struct rtc_ctx;
struct rtc_volume;
struct rtc_runout;

struct rtc_runout_opts {
	const char *dir;          /* the BIDS dataset's root */
	const char *sub;          /* labels as given: anything but letters
	                           * and digits is dropped, a "sub-"/"ses-"/
	                           * "task-" prefix too (see
	                           * rtc_runout_label()) */
	const char *ses;          /* NULL or "": no session */
	const char *task;         /* NULL or "": "rt" */
	int run;                  /* >= 1 */
	const char *title;        /* dataset name when the description is
	                           * made; NULL: "rtc realtime session" */
	int nkeys;                /* ROI measure columns of the feedback
	                           * table */
	const char *const *keys;
	int gzip_level;           /* 1..9 (1) */
};

void rtc_runout_opts_init(struct rtc_runout_opts *o);

/*
 * A BIDS label from free text: letters and digits kept, the rest
 * dropped, a leading "PREFIX-" removed (prefix NULL: none). OUT: out
 * (outsz bytes). RET: 0, or -1 when nothing is left (out is then "").
 */
int rtc_runout_label(const char *in, const char *prefix, char *out,
    size_t outsz);

/*
 * Start writing a run: directories, dataset descriptions (when missing),
 * the tables' headers. The image starts with the first volume.
 * OUT: *out. RET: RTC_OK; RTC_ERR_INVAL (no subject label, bad run);
 * RTC_ERR_EXISTS (the run's image is there already: nothing is
 * overwritten); RTC_ERR_IO (*cause names the file).
 */
int rtc_runout_open(struct rtc_ctx *ctx, const struct rtc_runout_opts *o,
    struct rtc_runout **out, char **cause);

/*
 * Add volume r->vol of the run: v's frame 0 to the image (the first
 * volume fixes its shape and type), a row to each table. latency_ms: its
 * latency (NaN: unknown). RET: RTC_OK; RTC_ERR_FORMAT (a volume of
 * another shape or type: its rows are written, the image skips it);
 * RTC_ERR_EXISTS (r->vol was written already); RTC_ERR_IO.
 */
int rtc_runout_add(struct rtc_runout *ro, const struct rtc_volume *v,
    const struct rtc_fb_record *r, double latency_ms, char **cause);

/* Finish the run (idempotent): image compressed, sidecar, tables closed.
 * RET: RTC_OK or RTC_ERR_IO. */
int rtc_runout_finish(struct rtc_runout *ro, char **cause);

/* RET: the image's final path (..._bold.nii.gz). */
const char *rtc_runout_bold_path(const struct rtc_runout *ro);
/* RET: the directory of the derived tables. */
const char *rtc_runout_deriv_dir(const struct rtc_runout *ro);
/* RET: frames in the image so far. */
int rtc_runout_frames(const struct rtc_runout *ro);

/* Finish (errors logged) and free. NULL is a no-op. */
void rtc_runout_free(struct rtc_runout *ro);

#endif

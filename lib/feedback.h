/*
 * feedback: the per-volume result record and its outputs.
 *
 * The record (struct rtc_fb_record) is what the pipeline fills for every
 * volume; it becomes one JSON object (the format is in rtc-project(5)):
 *
 *   {"run":1,"vol":5,"series":13,"acquisition_time":45670.3275,
 *    "feedback":0.42,"decision":null,
 *    "roi":{"target.psc":0.8},"values":{},
 *    "motion":{"trans_x":0.01,...,"rot_z":0.0002},
 *    "framewise_displacement":0.05,
 *    "flags":{"dummy":false,"lagging":false,...},
 *    "stages_ms":{"intake":0,"decoded":1.2,...,"feedback":4.1},
 *    "runId":1,"trId":5,"value":0.42,"timestamp":1732000000.123}
 *
 * Numbers that are not known (NaN) are null. runId/trId/value/timestamp
 * repeat run/vol/feedback and the wall-clock time of the result under the
 * names RT-Cloud's subject feedback messages use.
 *
 * Outputs (struct rtc_feedback), any combination:
 *  - tcp://HOST:PORT: one JSON line per volume to the stimulus computer,
 *    TCP_NODELAY. rtc_feedback_write() never blocks on the network: when
 *    the connection is up and idle the line is sent at once (non-blocking
 *    send); otherwise it waits in a backlog that a background thread sends
 *    as the listener reads. The thread reconnects with exponential backoff
 *    (retry_min_ms doubling to retry_max_ms). Backlog policy: the newest
 *    `backlog` lines are kept while the listener is away or slow; older
 *    ones are dropped, counted (stats.lost) and reported in the log when
 *    the listener returns. Lines the kernel had accepted before the
 *    connection broke may be lost with it (TCP cannot tell us); a peer
 *    that closed its end is noticed before each send, so a listener that
 *    quits cleanly between volumes loses nothing.
 *  - files DIR: one file per volume, DIR/run{R}_TR{T}.json, written
 *    atomically (temporary name, then rename), as RT-Cloud's PsychoPy
 *    examples read them.
 *
 * Threads: the record helpers and the encoder are not thread-safe (one
 * per thread); rtc_feedback_* may be called from any thread.
 */
#ifndef RTC_FEEDBACK_H
#define RTC_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct rtc_ctx;

/* Stages, in pipeline order; stage_ms[] holds when each one finished. */
enum rtc_stage {
	RTC_STAGE_INTAKE = 0,     /* bytes complete: always 0 */
	RTC_STAGE_DECODED,
	RTC_STAGE_MOTION,
	RTC_STAGE_SMOOTH,
	RTC_STAGE_GLM,
	RTC_STAGE_ROI,
	RTC_STAGE_CLASSIFIER,
	RTC_STAGE_FEEDBACK,       /* feedback value ready */
	RTC_STAGE__COUNT
};

/* Record flags. */
#define RTC_FB_DUMMY            0x01u  /* a dummy volume: not analysed */
#define RTC_FB_LAGGING          0x02u  /* volumes were queued behind it */
#define RTC_FB_MOTION_OUTLIER   0x04u  /* FD over the project threshold */
#define RTC_FB_GAP              0x08u  /* volumes before it never came */
#define RTC_FB_ANALYSIS_TIMEOUT 0x10u  /* custom analysis gave no answer */
#define RTC_FB_ANALYSIS_SKIPPED 0x20u  /* custom analysis still busy */
#define RTC_FB_ANALYSIS_FAILED  0x40u  /* custom analysis errored */
#define RTC_FB_NFLAGS 7

#define RTC_FB_NAME_MAX 32       /* names: [A-Za-z0-9_.-]{1,31} */
#define RTC_FB_MAX_ROI 32
#define RTC_FB_MAX_VALUES 16
#define RTC_FB_LINE_MAX 16384    /* an encoded record is shorter */

struct rtc_fb_value {
	char name[RTC_FB_NAME_MAX];
	double value;
};

struct rtc_fb_record {
	int run;                  /* run index, 1-based */
	int vol;                  /* volume in the run, 1-based (the TR) */
	int series;               /* series number, -1 unknown */
	double acquisition_time;  /* s after midnight, < 0 unknown */
	int64_t intake_ns;        /* monotonic: bytes complete */
	double stage_ms[RTC_STAGE__COUNT];  /* ms after intake; NaN: not run */
	double feedback;          /* the feedback value; NaN: none */
	double decision;          /* classifier decision value; NaN: none */
	double motion[6];         /* trans_x/y/z (mm), rot_x/y/z (rad) */
	double fd;                /* framewise displacement, mm */
	int n_roi;
	struct rtc_fb_value roi[RTC_FB_MAX_ROI];        /* "name.measure" */
	int n_values;
	struct rtc_fb_value values[RTC_FB_MAX_VALUES];  /* custom analysis */
	unsigned flags;           /* RTC_FB_* */
	double wall_time;         /* epoch s of the result; 0: at encoding */
};

/* RET: "intake", "decoded", ... ; NULL out of range. */
const char *rtc_stage_name(enum rtc_stage s);
/* RET: "dummy", "lagging", ... for one RTC_FB_* bit; NULL otherwise. */
const char *rtc_fb_flag_name(unsigned bit);
/* RET: "trans_x" ... "rot_z" for i in 0..5. */
const char *rtc_fb_motion_name(int i);

/* Reset r: numbers NaN (stage INTAKE 0), counts 0, series -1, no flags. */
void rtc_fb_record_init(struct rtc_fb_record *r);

/* stage_ms[s] = now - intake_ns, in ms. */
void rtc_fb_record_stamp(struct rtc_fb_record *r, enum rtc_stage s);

/* RET: nonzero for a valid value name ([A-Za-z0-9_.-], 1-31 chars). */
int rtc_fb_valid_name(const char *name);

/* Set (or replace) a named ROI measure / custom value. RET: RTC_OK,
 * RTC_ERR_INVAL (bad name), RTC_ERR_TOO_BIG (table full). */
int rtc_fb_record_set_roi(struct rtc_fb_record *r, const char *name,
    double v);
int rtc_fb_record_set_value(struct rtc_fb_record *r, const char *name,
    double v);

/* RET: a new JSON object for r (caller json_decref()s), NULL on memory
 * failure. */
json_t *rtc_fb_record_to_json(const struct rtc_fb_record *r);

/*
 * Encoder: turns records into JSON lines, reusing one JSON tree (values
 * are updated in place; the tree is rebuilt only when the ROI or value
 * names change), so steady-state encoding allocates next to nothing.
 */
struct rtc_fb_encoder;

struct rtc_fb_encoder *rtc_fb_encoder_new(void);
void rtc_fb_encoder_free(struct rtc_fb_encoder *e);

/* OUT: *line (owned by e, valid until the next call; line[*len] is '\n',
 * then NUL), *len (without the newline). RET: RTC_OK, RTC_ERR_NOMEM,
 * RTC_ERR_TOO_BIG (longer than RTC_FB_LINE_MAX). */
int rtc_fb_encode(struct rtc_fb_encoder *e, const struct rtc_fb_record *r,
    const char **line, size_t *len);

/* ---- outputs --------------------------------------------------------- */

struct rtc_feedback;

struct rtc_feedback_opts {
	const char *tcp;          /* "tcp://HOST:PORT" or NULL */
	const char *files_dir;    /* created when missing; or NULL */
	size_t backlog;           /* lines kept for the listener; 1000 */
	int connect_timeout_ms;   /* 1000 */
	int retry_min_ms;         /* 100 */
	int retry_max_ms;         /* 2000 */
	int fsync_files;          /* fsync each file before its rename; 0 */
};

struct rtc_feedback_stats {
	unsigned long long lines;        /* records written */
	unsigned long long sent;         /* lines fully sent */
	unsigned long long lost;         /* dropped from a full backlog */
	unsigned long long connects;
	unsigned long long disconnects;
	unsigned long long files;        /* files written */
	unsigned long long file_errors;
	size_t backlog;                  /* lines waiting now */
	int connected;
	int nodelay;                     /* TCP_NODELAY read back on */
	int64_t max_write_ns;            /* longest rtc_feedback_write() */
};

void rtc_feedback_opts_init(struct rtc_feedback_opts *o);

/*
 * Parse "tcp://HOST:PORT" (HOST: a name, IPv4, or [IPv6]). OUT: host
 * (hostsz bytes), *port. RET: RTC_OK or RTC_ERR_INVAL with *cause.
 */
int rtc_feedback_parse_url(const char *url, char *host, size_t hostsz,
    int *port, char **cause);

/*
 * Open the outputs. The TCP connection is made in the background: no
 * listener yet is not an error. OUT: *out. RET: RTC_OK, RTC_ERR_INVAL
 * (bad URL or options), RTC_ERR_IO (files dir cannot be made).
 */
int rtc_feedback_open(struct rtc_ctx *ctx, const struct rtc_feedback_opts *o,
    struct rtc_feedback **out, char **cause);

/*
 * Write one record to every output. Never waits for the network. RET:
 * RTC_OK, or RTC_ERR_IO when the file could not be written (*cause);
 * network trouble is not an error (see the stats).
 */
int rtc_feedback_write(struct rtc_feedback *fb, const struct rtc_fb_record *r,
    char **cause);

/* Wait up to timeout_ms for the backlog to drain (run end).
 * RET: RTC_OK or RTC_ERR_TIMEOUT. */
int rtc_feedback_flush(struct rtc_feedback *fb, int timeout_ms);

void rtc_feedback_get_stats(struct rtc_feedback *fb,
    struct rtc_feedback_stats *st);

/* Stop the sender (lines still queued are counted lost and logged), close,
 * free. NULL is a no-op. */
void rtc_feedback_free(struct rtc_feedback *fb);

#endif

/*
 * project: a realtime project, projects/<name>/project.toml, parsed and
 * validated (the format is documented in rtc-project(5)).
 *
 * Top-level keys are RT-Cloud's (title, subjectName, runNum, scanNum,
 * plot*, dicomNamePattern, minExpectedDicomSize, ...); rtc's own settings
 * live in [intake], [pipeline], [feedback] and [analysis]; [custom] holds
 * anything a project's own code wants and is not checked. Every other key
 * is an error that names it; so is a wrong type or a value out of range.
 * Relative paths resolve against the project's directory and may not
 * leave it; files they name must exist.
 *
 * Nothing here depends on the input's geometry: ROIs are masks (resampled
 * by the pipeline through world coordinates), spheres in world mm placed
 * relative to the brain mask's centroid, the grid centre or the scanner
 * origin, or the automatic brain mask; timing is in seconds.
 */
#ifndef RTC_PROJECT_H
#define RTC_PROJECT_H

#include <stddef.h>

#include <jansson.h>

#include "feedback.h"
#include "watch.h"

struct rtc_ctx;

#define RTC_PROJ_MAX_LIST 64
#define RTC_PROJ_MAX_ROIS 16
#define RTC_PROJ_MAX_CONDITIONS 16
#define RTC_PROJ_MAX_BLOCKS 16
#define RTC_PROJ_MAX_CONTRASTS 16
#define RTC_PROJ_MAX_ALLOW 32
#define RTC_PROJ_MAX_ARGV 64
#define RTC_PROJ_MAX_SMOOTH 64
#define RTC_PROJ_NAME_MAX 24        /* ROI, condition, contrast names */

enum rtc_proj_reference {
	RTC_PROJ_REF_FIRST = 0,     /* first volume after the dummies */
	RTC_PROJ_REF_INDEX,         /* volume reference_index (1-based) */
	RTC_PROJ_REF_NIFTI          /* reference_path */
};

enum rtc_proj_roi_kind {
	RTC_PROJ_ROI_BRAIN = 0,     /* the automatic brain mask */
	RTC_PROJ_ROI_MASK,          /* a NIfTI mask */
	RTC_PROJ_ROI_SPHERE         /* a sphere in world coordinates */
};

enum rtc_proj_anchor {
	RTC_PROJ_ANCHOR_BRAIN = 0,  /* centre += brain mask centroid */
	RTC_PROJ_ANCHOR_GRID,       /* centre += centre of the voxel grid */
	RTC_PROJ_ANCHOR_SCANNER     /* centre is scanner RAS+ as is */
};

enum rtc_proj_stat {
	RTC_PROJ_STAT_MEAN = 0,
	RTC_PROJ_STAT_PSC,          /* % signal change, running baseline */
	RTC_PROJ_STAT_Z,            /* z-score, running baseline */
	RTC_PROJ_STAT_T             /* mean t of a contrast in the ROI */
};

enum rtc_proj_measure_kind {
	RTC_PROJ_MEAS_ROI = 0,      /* record.roi[name] */
	RTC_PROJ_MEAS_DECISION,     /* record.decision ("classifier") */
	RTC_PROJ_MEAS_PROB,         /* record.values["classifier.prob"] */
	RTC_PROJ_MEAS_FD,           /* record.fd */
	RTC_PROJ_MEAS_ANALYSIS      /* record.values[NAME] ("analysis.NAME") */
};

/* A named measure: what feedback.value refers to. */
struct rtc_proj_measure {
	enum rtc_proj_measure_kind kind;
	int roi;                    /* ROI index, for RTC_PROJ_MEAS_ROI */
	enum rtc_proj_stat stat;
	int contrast;               /* contrast index, for RTC_PROJ_STAT_T */
	char key[RTC_FB_NAME_MAX];  /* the record key it is read from */
	char name[64];              /* as written ("analysis.score") */
};

struct rtc_proj_roi {
	char name[RTC_PROJ_NAME_MAX];
	enum rtc_proj_roi_kind kind;
	char *mask;                 /* resolved path (RTC_PROJ_ROI_MASK) */
	double center_mm[3];        /* RTC_PROJ_ROI_SPHERE */
	double radius_mm;
	enum rtc_proj_anchor anchor;
	int baseline_vols;          /* running baseline for psc and z */
};

/* A repeating block: condition on from onset_s for duration_s, again
 * every period_s (0: once), repeats times (0: until the run ends). */
struct rtc_proj_block {
	char condition[RTC_PROJ_NAME_MAX];
	double onset_s, duration_s, period_s;
	int repeats;
};

struct rtc_proj_contrast {
	char name[RTC_PROJ_NAME_MAX];
	int n;                      /* weights given */
	char condition[RTC_PROJ_MAX_CONDITIONS][RTC_PROJ_NAME_MAX];
	double weight[RTC_PROJ_MAX_CONDITIONS];
};

struct rtc_project {
	char *dir;                  /* absolute project directory */
	char *file;                 /* its project.toml */
	json_t *root;               /* the parsed file; strings below live here */

	/* RT-Cloud-compatible keys (NULL / -1 / NaN when absent) */
	const char *title;
	const char *subject_name;
	const char *session_id;
	const char *task_name;
	const char *datestr;
	const char *dicom_name_pattern;
	const char *plot_title, *plot_x_label, *plot_y_label;
	const char *ds_accession;
	int subject_num, subject_day, session_num;
	int run_num[RTC_PROJ_MAX_LIST];
	int n_run_num;
	int scan_num[RTC_PROJ_MAX_LIST];
	int n_scan_num;
	double plot_x_low, plot_x_high, plot_y_low, plot_y_high;
	int plot_auto_x, plot_auto_y;   /* -1 absent */
	long long min_dicom_bytes;      /* 0 absent */
	double tr_s;                    /* trInterval; 0 absent */

	struct {
		int dummies;
		int reorder_wait_ms;
		int queue_warn_mb;
		enum rtc_watch_mode watch_mode;
		int poll_ms, stable_polls, timeout_ms;
		int process_existing;
		const char *pattern;
		const char *aet;
		const char *allow[RTC_PROJ_MAX_ALLOW + 1];  /* NULL-terminated */
		int n_allow;
		int max_associations;
		int scp_timeout_s;
	} intake;

	struct {
		enum rtc_proj_reference reference;
		int reference_index;
		char *reference_path;
		char *mask;                 /* NULL: automatic brain mask */
		int motion;
		int reslice;
		const char *interpolation;  /* "trilinear" or "cubic" */
		double fd_threshold_mm;
		double fd_radius_mm;
		double smooth_fwhm_mm;      /* 0: off */
		int glm;
		int drift_order;
		int motion_regressors;
		const char *hrf;            /* "spm" or "glover" */
		char *events;               /* BIDS events.tsv, or NULL */
		int n_blocks;
		struct rtc_proj_block blocks[RTC_PROJ_MAX_BLOCKS];
		int n_conditions;           /* from blocks (events: unknown) */
		char conditions[RTC_PROJ_MAX_CONDITIONS][RTC_PROJ_NAME_MAX];
		int n_contrasts;
		struct rtc_proj_contrast contrasts[RTC_PROJ_MAX_CONTRASTS];
		int n_rois;
		struct rtc_proj_roi rois[RTC_PROJ_MAX_ROIS];
		struct {
			int enabled;
			int online;             /* 0: weights file */
			const char *kind;       /* "logistic" or "svm" */
			char *weights;          /* NIfTI of weights */
			double bias;
			int train_after_blocks;
			char positive[RTC_PROJ_NAME_MAX];
			char negative[RTC_PROJ_NAME_MAX];  /* "rest": nothing on */
			int features_roi;       /* ROI index; -1: brain mask */
			double shift_s;         /* labels lag the design (HRF) */
			double lambda;          /* L2 regularisation */
		} classifier;
	} pipeline;

	struct {
		int has_value;
		struct rtc_proj_measure a, b;
		int difference;             /* value = a - b */
		double scale, offset;
		int smooth_vols;            /* moving mean over 1..64 values */
		int clip;
		double clip_lo, clip_hi;
	} feedback;

	struct {
		char **argv;                /* NULL-terminated, or NULL */
		int argc;
		char *plugin;               /* resolved .so path, or NULL */
		int timeout_ms;
		int startup_timeout_ms;
		const char *shm_dir;
		json_t *config;             /* borrowed; an object */
	} analysis;

	json_t *custom;                 /* borrowed; an object */
};

/* Running state of the feedback value (its smoothing window). */
struct rtc_proj_fbstate {
	double hist[RTC_PROJ_MAX_SMOOTH];
	int n, pos;
};

/*
 * Find a project. IN: spec, a path (anything with a '/', or ending in
 * .toml: a directory holding project.toml, or the file) or a name looked
 * up as NAME/project.toml in each directory of $RTC_PROJECTS_DIR
 * (colon-separated), then in the installed projects (RTC_PKGDATADIR
 * "/projects"). OUT: *path (malloc'd). RET: RTC_OK, RTC_ERR_NOT_FOUND
 * (*cause says where it looked), RTC_ERR_INVAL (a bad name).
 */
int rtc_project_find(const char *spec, char **path, char **cause);

/* Find, read and validate. OUT: *out, freed with rtc_project_free(). */
int rtc_project_load(struct rtc_ctx *ctx, const char *spec,
    struct rtc_project **out, char **cause);

/*
 * Validate TOML text as a project whose relative paths resolve against
 * dir (an existing directory). IN: name for messages. RET: RTC_OK,
 * RTC_ERR_FORMAT (TOML syntax), RTC_ERR_INVAL (*cause names the key),
 * RTC_ERR_NOT_FOUND (a file it names is missing).
 */
int rtc_project_parse(const char *text, size_t len, const char *name,
    const char *dir, struct rtc_project **out, char **cause);

void rtc_project_free(struct rtc_project *p);

/* RET: the index of the ROI / contrast of that name, or -1. */
int rtc_project_roi_index(const struct rtc_project *p, const char *name);
int rtc_project_contrast_index(const struct rtc_project *p,
    const char *name);

/*
 * Parse a measure name ("target.psc", "target.t.task", "classifier",
 * "classifier.prob", "fd", "analysis.NAME") against p's ROIs and
 * contrasts. RET: RTC_OK or RTC_ERR_INVAL with *cause.
 */
int rtc_project_measure(const struct rtc_project *p, const char *s,
    struct rtc_proj_measure *m, char **cause);

/* RET: the measure's value in r, NaN when r lacks it. */
double rtc_project_measure_value(const struct rtc_proj_measure *m,
    const struct rtc_fb_record *r);

/* Reset the smoothing (at a run start). */
void rtc_project_fbstate_init(struct rtc_proj_fbstate *st);

/*
 * The feedback value of one volume: the measure (or difference), times
 * scale plus offset, averaged over the last smooth_vols values, clipped.
 * RET: the value, NaN when its measures are not in r yet (the smoothing
 * window is not advanced) or the project has no feedback value.
 */
double rtc_project_feedback(const struct rtc_project *p,
    struct rtc_proj_fbstate *st, const struct rtc_fb_record *r);

#endif

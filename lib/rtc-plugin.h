/*
 * rtc-plugin.h: the C plugin interface of rtc's realtime pipeline.
 *
 * A plugin is a shared object that rtc loads with dlopen(3) when a
 * project's [analysis] names it (plugin = "my_plugin.so"). It exports one
 * function, rtc_plugin_entry, returning a pointer to a static struct
 * rtc_plugin. rtc calls init once with the project's [analysis.config]
 * table as JSON text, process once per analysed volume (in the pipeline's
 * thread, between the ROI/classifier stages and the feedback), and fini at
 * the end. Values process returns are added to the volume's record and
 * can be the feedback ([feedback] value = "analysis.NAME").
 *
 * process runs in rtc's process and thread: it must be fast (it adds to
 * every volume's latency), must not block, must not keep the pointers it
 * is given after it returns, and must not call exit(). Slow or untrusted
 * code belongs in an external analysis process instead (rtc-project(5)).
 *
 * Versioning: abi is RTC_PLUGIN_ABI; rtc refuses another major version.
 * Every struct starts with its size as the side that filled it was built,
 * so later versions can append fields: read a field only when the size
 * says it is there.
 *
 * Build: cc -shared -fPIC -o my_plugin.so my_plugin.c
 *        (with -I the directory holding this header)
 */
#ifndef RTC_PLUGIN_H
#define RTC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTC_PLUGIN_ABI 1
#define RTC_PLUGIN_ENTRY "rtc_plugin_entry"
#define RTC_PLUGIN_NAME_MAX 32     /* value names: [A-Za-z0-9_.-]{1,31} */
#define RTC_PLUGIN_MAX_VALUES 16

/* One volume, as floats with the scanner's scaling applied. */
struct rtc_plugin_volume {
	uint32_t size;             /* sizeof(struct rtc_plugin_volume) */
	int nx, ny, nz;            /* voxels along i, j, k */
	const float *data;         /* nx*ny*nz values, i fastest */
	double affine[4][4];       /* voxel (i, j, k, 1) -> scanner RAS+ mm */
	double tr;                 /* repetition time, s; 0 unknown */
	int run;                   /* run index, 1-based */
	int vol;                   /* volume in the run, 1-based */
	int series;                /* series number, -1 unknown */
	double acquisition_time;   /* s after midnight, < 0 unknown */
};

/* A name and a number: ROI measures given to process, values it returns. */
struct rtc_plugin_value {
	char name[RTC_PLUGIN_NAME_MAX];
	double value;
};

/* What the pipeline knows of the volume so far (NaN: not computed). */
struct rtc_plugin_record {
	uint32_t size;             /* sizeof(struct rtc_plugin_record) */
	const char *json;          /* the whole record as one JSON object, the
	                            * format of the feedback line */
	double feedback;
	double decision;           /* classifier decision value */
	double motion[6];          /* trans_x/y/z mm, rot_x/y/z rad */
	double fd;                 /* framewise displacement, mm */
	int n_roi;
	const struct rtc_plugin_value *roi;   /* "ROI.measure" = value */
	unsigned flags;            /* the record's flags (see rtc-project(5)) */
};

struct rtc_plugin {
	uint32_t abi;              /* RTC_PLUGIN_ABI */
	uint32_t size;             /* sizeof(struct rtc_plugin) */
	const char *name;          /* for messages */
	/*
	 * Called once. IN: config_json, the project's [analysis.config] as
	 * JSON ("{}" when absent). OUT: *state, handed to process and fini.
	 * RET: 0, or nonzero with a message in err (errlen bytes).
	 */
	int (*init)(const char *config_json, void **state, char *err,
	    size_t errlen);
	/*
	 * Called per volume. OUT: up to max_out values in out. RET: the
	 * number of values, or negative with a message in err.
	 */
	int (*process)(void *state, const struct rtc_plugin_volume *v,
	    const struct rtc_plugin_record *r, struct rtc_plugin_value *out,
	    int max_out, char *err, size_t errlen);
	/* Called once at the end (may be NULL). */
	void (*fini)(void *state);
};

/* The one symbol a plugin exports. */
typedef const struct rtc_plugin *(*rtc_plugin_entry_fn)(void);
const struct rtc_plugin *rtc_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif

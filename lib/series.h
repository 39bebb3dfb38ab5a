/*
 * series: from single DICOM files to the volumes of a series.
 *
 * Two ways in, one set of rules:
 *
 * 1. rtc_series_group(): a batch of files known up front (rtc convert).
 *    Files are grouped by SeriesInstanceUID and echo number (the echoes
 *    of a multi-echo series become series of their own), duplicates (same
 *    SOPInstanceUID; else same instance/acquisition number, time and
 *    position) dropped, and each series ordered by acquisition:
 *      volume files (mosaic, multi-frame): one after another;
 *      slice files: by position along the slice normal (k), and at each
 *      position by acquisition (t).
 *
 * 2. struct rtc_asm: slices that arrive one at a time (rtc live). Each
 *    slice goes to the oldest open volume of its series that lacks its
 *    position (or, when the file carries a temporal index, the volume of
 *    that index); a volume is handed back as soon as it has all slices.
 *    How many slices a volume has:
 *      a. GE LocationsInAcquisition (0021,104F), else
 *      b. ImagesInAcquisition (0020,1002), else
 *      c. learned: the positions seen before the first position repeats
 *         form volume 1 (handed back when that repeat arrives, one slice
 *         late); later volumes complete on their last slice.
 *    Volumes are reused: in steady state no memory is allocated.
 *    An assembled volume's acq.acquisition_number is its place in the
 *    series (what the realtime queue orders by; the slices' own
 *    AcquisitionNumber is often the same for all, as on GE): the files'
 *    temporal index, else (lowest InstanceNumber - 1) / slices + 1, else
 *    the order of completion.
 *
 * Order "by acquisition" compares, in turn, TemporalPositionIdentifier /
 * TemporalPositionIndex, AcquisitionNumber, AcquisitionTime and
 * InstanceNumber (each only when both files have it and they differ),
 * then the file name.
 *
 * Assembled slices get the geometry dcm2niix gives them: the plane normal
 * (pointing from slice 0 to the last) times the distance of slices 0
 * and 1, so both tools agree to the micrometre.
 */
#ifndef RTC_SERIES_H
#define RTC_SERIES_H

#include <stddef.h>

#include "dicom.h"
#include "volume.h"

/* What grouping needs from one file: a compact copy of its meta. */
struct rtc_series_entry {
	const char *path;        /* not owned */
	int index;               /* the caller's, e.g. into its own arrays */
	enum rtc_dicom_kind kind;
	char series_uid[RTC_DICOM_STR];
	char sop_uid[RTC_DICOM_STR];
	int series_number, acq_number, instance_number, temporal_index;
	int stack_position;
	int echo_number;         /* -1 unknown */
	double acq_time;         /* s after midnight; < 0 unknown */
	double trigger_time;     /* ms; < 0 unknown */
	int rows, cols, nslices, nvolumes;
	double iop[6];
	double ipp[3];
	double proj;             /* ipp along the series' slice normal */
	int dup;                 /* set by grouping: a dropped duplicate */
};

/* Fill e from a file's meta. IN: path (kept, not copied), index. */
void rtc_series_entry_from_meta(const struct rtc_dicom_meta *m,
    const char *path, int index, struct rtc_series_entry *e);

/* RET: <0, 0, >0: a before, same as, after b in acquisition order. */
int rtc_series_order_cmp(const struct rtc_series_entry *a,
    const struct rtc_series_entry *b);

struct rtc_series {
	char uid[RTC_DICOM_STR];
	int series_number;
	int echo_number;         /* the files' echo number, -1 unknown */
	int echoes;              /* echoes the series (UID) has: > 1 for a
	                          * multi-echo series split by echo */
	enum rtc_dicom_kind kind;
	int nx, ny, nz, nt;      /* the 4D image */
	size_t nfiles;           /* files after duplicates are dropped */
	struct rtc_series_entry **files;  /* volume files: in time order;
	                          * slices: files[t * nz + k] */
	size_t ndup;             /* duplicates dropped */
	char *error;             /* why the series cannot be assembled, or
	                          * NULL; the other fields are then partial */
};

/* Called for every dropped duplicate. */
typedef void (*rtc_series_dup_fn)(void *arg,
    const struct rtc_series_entry *dropped,
    const struct rtc_series_entry *kept);

/*
 * Group n entries into series. IN/OUT: e (sorted in place; the dup flags
 * set). OUT: *out, an array of *nout series ordered by series number then
 * UID; free with rtc_series_free(). A series that cannot be assembled
 * (inconsistent image size or orientation, incomplete volumes, mixed
 * kinds) comes back with .error set; the call itself fails only for
 * RTC_ERR_NOMEM / RTC_ERR_INVAL.
 */
int rtc_series_group(struct rtc_series_entry *e, size_t n,
    rtc_series_dup_fn on_dup, void *arg, struct rtc_series **out,
    size_t *nout);
void rtc_series_free(struct rtc_series *s, size_t n);

/*
 * Geometry of a stack of single slices (all with m0's orientation and
 * size). IN: m0, the meta of slice 0; ipp0, ipp1, ipplast: positions of
 * slices 0, 1 and nz-1 (ipp1 ignored when nz == 1). OUT: *geom, a copy of
 * m0 with ipp, ipp_last, slice_normal, slice_distance and nslices set for
 * the stack (feed it to rtc_dicom_meta_affine()).
 */
void rtc_series_stack_geometry(const struct rtc_dicom_meta *m0,
    const double ipp0[3], const double ipp1[3], const double ipplast[3],
    int nz, struct rtc_dicom_meta *geom);

/*
 * Slice times of an assembled stack, s from the volume's start, in k
 * order. IN: m0 (vendor, TR, GE slice order), nz; per slice k: stack[k]
 * (InStackPositionNumber, or -1), trig[k] (TriggerTime ms or < 0),
 * acq[k] (AcquisitionTime s or < 0). Rules: GE with a protocol slice
 * order: computed from it (by stack position when every slice has one);
 * else distinct trigger times; else, for Siemens, distinct acquisition
 * times. OUT: times[nz]. RET: 1 when times were set, 0 when unknown.
 */
int rtc_series_slice_times(const struct rtc_dicom_meta *m0, int nz,
    const int *stack, const double *trig, const double *acq, double *times);

/* ---- incremental assembly ---- */

struct rtc_asm;

/* IN: max_open, volumes in flight per assembler (2..64; 0: 4).
 * RET: a new assembler or NULL. Free with rtc_asm_free(). */
struct rtc_asm *rtc_asm_new(int max_open);
void rtc_asm_free(struct rtc_asm *a);

/*
 * Add one decoded file. IN: vol and meta as rtc_dicom_read_*() made them.
 * A whole volume (mosaic, multi-frame: meta->kind != RTC_DICOM_SLICE) is
 * copied to out at once; a slice is kept until its volume is complete.
 * OUT: *done = 1 when out now holds a complete volume (reshaped with
 * rtc_volume_reshape(): out's memory is reused), else 0.
 * RET: RTC_OK; RTC_ERR_FORMAT (a slice whose size or orientation differs
 * from its series', or a slice of a series of another geometry);
 * RTC_ERR_EXISTS (the same SOPInstanceUID again: ignored);
 * RTC_ERR_TOO_BIG (over RTC_DICOM_MAX_SLICES slices); RTC_ERR_NOMEM.
 * When a new series starts, open volumes of the previous one are dropped
 * (counted in rtc_asm_dropped()).
 */
int rtc_asm_add(struct rtc_asm *a, const struct rtc_volume *vol,
    const struct rtc_dicom_meta *meta, struct rtc_volume *out, int *done,
    char **cause);

/* RET: slices per volume of the current series, 0 while unknown. */
int rtc_asm_slices_per_volume(const struct rtc_asm *a);

/* RET: incomplete volumes dropped so far (new series, too many open). */
size_t rtc_asm_dropped(const struct rtc_asm *a);

/* Drop every open volume and forget the series (e.g. at a run's end). */
void rtc_asm_reset(struct rtc_asm *a);

#endif

/*
 * dicom: scanner DICOM to struct rtc_volume, through DCMTK (a C++ shim
 * with a C ABI; no C++ exception crosses into C).
 *
 * One call decodes ONE file or ONE in-memory buffer:
 *
 *   Siemens mosaic (CSA NumberOfImagesInMosaic)  -> a whole 3D volume
 *   enhanced multi-frame MR (e.g. Siemens XA)    -> a whole volume (or
 *                                                   several: nt > 1)
 *   one image per file (GE, Philips, Siemens 2D) -> one slice (nz = 1);
 *                                                   rtc_asm (series.h)
 *                                                   assembles volumes
 *
 * and fills a struct rtc_dicom_meta with what the file says about the
 * acquisition (never about the patient: no patient attribute is read into
 * it, so none can leak into outputs or logs).
 *
 * Voxel order and geometry of the volumes made here (the same as
 * dcm2niix, so that files from either tool line up voxel for voxel):
 *   i  along the DICOM columns (left to right in the stored image),
 *   j  along the DICOM rows, bottom row first (the stored rows reversed),
 *   k  along the slices in stored order (mosaic tiles in order, frames in
 *      stack order); the affine's third column follows the slices, so a
 *      head-to-foot stack simply has a negative-determinant affine.
 * The affine maps (i, j, k) to scanner RAS+ mm (DICOM's LPS with x and y
 * negated). Stored integers are kept as they are (RescaleSlope/Intercept
 * go to scl_slope/scl_inter, never applied).
 *
 * Buffers: the caller owns the struct rtc_volume and passes the same one
 * again and again; it is reshaped with rtc_volume_reshape(), which only
 * grows, so decoding a stream of same-geometry volumes allocates no output
 * memory in steady state (DCMTK's parse allocates its own objects).
 *
 * Threads: a struct rtc_dicom is used by one thread at a time; make one
 * per thread. rtc_dicom_new() registers DCMTK's decoders once per process
 * and turns DCMTK's own logging off (it could print attribute values).
 */
#ifndef RTC_DICOM_H
#define RTC_DICOM_H

#include <stddef.h>

#include "buf.h"
#include "volume.h"

#define RTC_DICOM_MAX_SLICES 512     /* slices in one volume */
#define RTC_DICOM_MAX_FRAMES 16384   /* frames in one multi-frame file */
#define RTC_DICOM_MAX_DIM 4096       /* rows or columns of one image */
#define RTC_DICOM_MAX_FILE (2048ull << 20)  /* bytes of one file */
#define RTC_DICOM_STR 68             /* LO/SH/UI values + NUL */

/* What one file holds. */
enum rtc_dicom_kind {
	RTC_DICOM_SLICE = 1,       /* one 2D image: a slice of a volume */
	RTC_DICOM_MOSAIC = 2,      /* Siemens mosaic: one volume in tiles */
	RTC_DICOM_MULTIFRAME = 3   /* multi-frame (enhanced) volume(s) */
};

enum rtc_vendor {
	RTC_VENDOR_UNKNOWN = 0,
	RTC_VENDOR_SIEMENS,
	RTC_VENDOR_GE,
	RTC_VENDOR_PHILIPS,
	RTC_VENDOR_OTHER
};

/*
 * Facts about one file. Fixed size (no pointers), so it can be copied and
 * kept per file. Numbers that are unknown are -1 (counts, indices), a
 * negative or zero value (times, as documented) or NaN-free zero vectors.
 */
struct rtc_dicom_meta {
	enum rtc_dicom_kind kind;
	enum rtc_vendor vendor;
	char manufacturer[RTC_DICOM_STR];        /* (0008,0070) */
	char model[RTC_DICOM_STR];               /* (0008,1090) */
	char software[RTC_DICOM_STR];            /* (0018,1020) */
	char series_description[RTC_DICOM_STR];  /* (0008,103E) */
	char protocol_name[RTC_DICOM_STR];       /* (0018,1030) */
	char sequence_name[RTC_DICOM_STR];       /* (0018,0024) or (0018,9005) */
	char image_type[RTC_DICOM_STR];          /* (0008,0008), '\\'-separated */
	char mr_acq_type[4];                     /* (0018,0023): "2D", "3D" */
	char sop_instance_uid[RTC_DICOM_STR];    /* (0008,0018) */
	char transfer_syntax[RTC_DICOM_STR];     /* UID the data came in */
	struct rtc_acq acq;       /* series/acquisition/instance numbers,
	                           * acquisition time, SeriesInstanceUID */
	double tr;                /* RepetitionTime, s; 0 unknown */
	double te;                /* EchoTime, s; 0 unknown */
	double flip_angle;        /* degrees; 0 unknown */
	double field_strength;    /* T; 0 unknown */

	/* geometry, all in DICOM LPS */
	int rows, cols;           /* of one image (one tile of a mosaic) */
	int nslices;              /* slices per volume in this file (1: SLICE) */
	int nvolumes;             /* volumes in this file (>1: 4D multi-frame) */
	int nframes;              /* frames in the file (1 unless multi-frame) */
	int mosaic_cols;          /* tiles per mosaic row; 0 unless MOSAIC */
	double iop[6];            /* row then column direction cosines */
	double ipp[3];            /* centre of the first voxel of slice 0
	                           * (mosaic corner corrected) */
	double ipp_last[3];       /* same, last slice (multi-frame; = ipp
	                           * for SLICE and MOSAIC) */
	double pixel_spacing[2];  /* between rows, between columns, mm */
	double slice_thickness;   /* (0018,0050), mm; 0 unknown */
	double slice_spacing;     /* (0018,0088), mm; 0 unknown */
	double slice_normal[3];   /* unit vector of increasing k */
	double slice_distance;    /* mm from one slice to the next along
	                           * slice_normal: SpacingBetweenSlices of a
	                           * mosaic or multi-frame stack (else the
	                           * thickness; else, multi-frame, the
	                           * distance of slices 0 and 1), as
	                           * dcm2niix; the same (else 1) for one
	                           * slice */

	/* timing of slices within a volume, s from the volume's start, in
	 * k order; n_slice_times 0 when the file does not say */
	int n_slice_times;
	double slice_times[RTC_DICOM_MAX_SLICES];

	/* phase encoding in the stored image: 'R' along rows (i), 'C' along
	 * columns (j), 0 unknown; pe_positive 1/0 (Siemens CSA
	 * PhaseEncodingDirectionPositive), -1 unknown */
	char pe_dir;
	int pe_positive;

	/* what assembles slices into volumes */
	int temporal_index;       /* (0020,0100) or (0020,9128); -1 */
	int stack_position;       /* (0020,9057) InStackPositionNumber; -1 */
	int locations_in_acq;     /* GE (0021,104F) LocationsInAcquisition; -1 */
	int images_in_acq;        /* (0020,1002) ImagesInAcquisition; -1 */
	int ge_slice_order;       /* GE protocol SLICEORDER: 0 sequential,
	                           * 1 interleaved; -1 unknown */
	int ge_mb_factor;         /* GE protocol MBACCEL; -1 unknown */
	int ge_pe_flipped;        /* GE PhaseEncodingPolarityGE: 1 Flipped,
	                           * 0 Unflipped, -1 unknown */
	double trigger_time;      /* (0018,1060), ms; < 0 unknown */
	int echo_number;          /* (0018,0086) EchoNumbers; -1 unknown */

	/* pixels */
	int bits_allocated, bits_stored, pixel_signed;
	double rescale_slope, rescale_intercept;  /* 1, 0 when absent */
};

struct rtc_dicom;   /* a decoder: settings and nothing else shared */

/* RET: a new decoder, or NULL when out of memory. Free with
 * rtc_dicom_free(). */
struct rtc_dicom *rtc_dicom_new(void);
void rtc_dicom_free(struct rtc_dicom *d);

/* Flags for the decode calls. */
#define RTC_DICOM_HEADER_ONLY 0x1u  /* fill meta only; pixels not decoded */

/*
 * Decode one DICOM file. IN: d, path, flags. OUT: *meta (always filled on
 * success); vol (may be NULL with RTC_DICOM_HEADER_ONLY) reshaped and
 * filled: geometry, tr, slice_timing (nz values or NULL), acq, voxels.
 * RET: RTC_OK;
 *   RTC_ERR_NOT_FOUND  the file does not exist;
 *   RTC_ERR_FORMAT     not DICOM, not an image rtc converts (colour,
 *                      8-bit signed or 32-bit pixels, multi-frame
 *                      without per-frame geometry), or malformed;
 *   RTC_ERR_TRUNCATED  the file ends early (*cause names the file and how
 *                      many bytes are missing; a watcher may retry later);
 *   RTC_ERR_UNSUPPORTED a transfer syntax rtc has no decoder for (*cause
 *                      names it);
 *   RTC_ERR_TOO_BIG    over a cap above; RTC_ERR_IO; RTC_ERR_NOMEM.
 * Outputs are left as they were unless RTC_OK (vol's contents may change).
 */
int rtc_dicom_read_file(struct rtc_dicom *d, const char *path,
    unsigned flags, struct rtc_dicom_meta *meta, struct rtc_volume *vol,
    char **cause);

/*
 * Decode one DICOM object held in memory: a Part 10 file (preamble and
 * meta header) or a bare dataset in Explicit or Implicit VR Little
 * Endian. IN: buf/len (not kept), name (for messages; may be NULL).
 * Otherwise as rtc_dicom_read_file().
 */
int rtc_dicom_read_buffer(struct rtc_dicom *d, const void *buf, size_t len,
    const char *name, unsigned flags, struct rtc_dicom_meta *meta,
    struct rtc_volume *vol, char **cause);

/* RET: nonzero when the first bytes of a file look like DICOM Part 10
 * ("DICM" at offset 128). IN: head, the first n bytes. */
int rtc_dicom_sniff(const void *head, size_t n);

/* ---- writing Siemens-style mosaics (lib/dicom_write.cc) ---- */

/* What a mosaic file says besides its pixels. Strings are copied; NULL
 * or "" leaves an attribute empty. No patient attribute is written with
 * a value (the patient module's attributes are present and empty). */
struct rtc_dicom_mosaic_desc {
	const char *study_uid, *series_uid, *sop_uid, *frame_uid;
	const char *date;              /* YYYYMMDD */
	const char *series_description;
	const char *protocol_name;
	const char *manufacturer;      /* "SIEMENS" for a Siemens mosaic */
	const char *model;
	const char *software;
	int series_number, acquisition_number, instance_number;
	double acquisition_time;       /* s after midnight */
	double series_time;            /* StudyTime and SeriesTime, same */
	double iop[6];                 /* LPS direction cosines */
	double ipp[3];                 /* first voxel of slice 0 (the
	                                * writer moves it to the corner) */
	double pixel_spacing[2];       /* between rows, between columns */
	double slice_thickness, slice_spacing;
	double slice_normal[3];        /* unit, direction of increasing k */
	double tr, te;                 /* s */
	double flip_angle, field_strength;
	const double *slice_times;     /* nz values, s; NULL: none */
	int pe_positive;               /* CSA PhaseEncodingDirectionPositive */
};

/*
 * Write vol (nx x ny x nz, one frame, uint16 or int16, rtc's voxel order)
 * as one Siemens-style mosaic MR Image Storage object (Explicit VR Little
 * Endian Part 10) with a CSA image header (NumberOfImagesInMosaic,
 * SliceNormalVector, MosaicRefAcqTimes, PhaseEncodingDirectionPositive)
 * that dcm2niix and rtc both read. OUT: the bytes appended to out.
 * RET: RTC_OK, RTC_ERR_INVAL (bad volume), RTC_ERR_NOMEM, RTC_ERR_TOO_BIG
 * (out's cap), RTC_ERR_INTERNAL (DCMTK refused).
 */
int rtc_dicom_write_mosaic(const struct rtc_volume *vol,
    const struct rtc_dicom_mosaic_desc *d, struct rtc_buf *out,
    char **cause);

/* ---- geometry and timing helpers (lib/dicom_geom.c) ---- */

/* RET: a short name ("mosaic", "multi-frame", "slice"). */
const char *rtc_dicom_kind_name(enum rtc_dicom_kind k);

/* RET: the vendor from a Manufacturer value ("SIEMENS", "Siemens
 * Healthineers", "GE MEDICAL SYSTEMS", "Philips Medical Systems"...). */
enum rtc_vendor rtc_dicom_vendor(const char *manufacturer);

/* RET: the vendor's short name as BIDS sidecars write it ("Siemens",
 * "GE", "Philips"), or NULL for other/unknown. */
const char *rtc_dicom_vendor_name(enum rtc_vendor v);

/*
 * Parse a DICOM TM ("HHMMSS.FFFFFF", "HHMM", "HH:MM:SS.F") or the time
 * part of a DT ("YYYYMMDDHHMMSS.FFFFFF+ZZZZ") into seconds after midnight.
 * OUT: *out. RET: RTC_OK or RTC_ERR_FORMAT.
 */
int rtc_dicom_parse_tm(const char *s, double *out);
int rtc_dicom_parse_dt_time(const char *s, double *out);

/* Cross product out = a x b; RET of normalize: 0, or -1 for a null
 * vector (left unchanged). */
void rtc_vec3_cross(const double a[3], const double b[3], double out[3]);
int rtc_vec3_normalize(double v[3]);
double rtc_vec3_dot(const double a[3], const double b[3]);

/*
 * Mosaic geometry: a mosaic of mrows x mcols pixels holding n tiles of
 * rows x cols. IN: ipp, the position DICOM gives (the mosaic's corner),
 * iop, pixel spacing (row, col). OUT: first, the centre of the first
 * voxel of tile 0. RET: RTC_OK or RTC_ERR_INVAL (tiles do not fit).
 */
int rtc_dicom_mosaic_origin(const double ipp[3], const double iop[6],
    const double spacing[2], int mrows, int mcols, int rows, int cols,
    double first[3]);

/*
 * The affine of a volume in rtc's voxel order (see top). IN: iop, ipp of
 * slice 0 (first voxel centre, LPS), spacing (row, col), slice step
 * (vector from slice 0 to slice 1, LPS mm; a unit normal times the
 * spacing for a single slice), ny (rows: the j axis is flipped).
 * OUT: affine (voxel -> RAS mm).
 */
void rtc_dicom_affine(const double iop[6], const double ipp[3],
    const double spacing[2], const double step[3], int ny,
    double affine[4][4]);

/*
 * The affine of the volume meta describes (rtc_dicom_affine() with the
 * slice step slice_normal * slice_distance). OUT: affine.
 */
void rtc_dicom_meta_affine(const struct rtc_dicom_meta *m,
    double affine[4][4]);

/*
 * Copy tiles of a mosaic (mrows x mcols values of esize bytes, row major)
 * into a volume of cols x rows x n, flipping rows (j = rows-1-r).
 * IN: tiles per mosaic row = ceil(sqrt(n)) unless mosaic_cols > 0.
 * RET: RTC_OK or RTC_ERR_INVAL (tiles do not fit the mosaic).
 */
int rtc_dicom_unmosaic(const void *mosaic, int mrows, int mcols,
    size_t esize, int rows, int cols, int n, int mosaic_cols, void *out);

/* Copy one image (rows x cols of esize bytes) flipping rows. */
void rtc_dicom_copy_flip(const void *img, int rows, int cols, size_t esize,
    void *out);

/*
 * Slice times for a GE-style acquisition: n slices in stack order,
 * multiband factor mb (n/mb excitations), order 0 sequential or 1
 * interleaved (even excitations first, then odd), tr in s. OUT: times[n].
 * RET: RTC_OK or RTC_ERR_INVAL (mb does not divide n, tr <= 0).
 */
int rtc_dicom_slice_times_ge(int n, int mb, int order, double tr,
    double *times);

/*
 * GE protocol data block (0025,101B): a 4-byte length and a gzip stream of
 * `KEY "value"` lines. OUT: *slice_order (SLICEORDER), *mb (MBACCEL, 1
 * when absent). RET: RTC_OK; RTC_ERR_FORMAT (not gzip, no SLICEORDER);
 * RTC_ERR_TOO_BIG (inflates past 4 MiB).
 */
int rtc_dicom_ge_protocol(const void *blk, size_t len, int *slice_order,
    int *mb, char **cause);

/*
 * GE phase-encoding polarity from the binary header in (0043,102A)
 * (UserDefinedData, "GEMS_PARM_01"), read as dcm2niix reads it: a 16-bit
 * header offset at byte 24, the header's version (float, 5..40) there;
 * from version 25.002 the fields sit 0x4C bytes further and the ky
 * direction 0x8C bytes nearer. For an EPI (flag 0x800 at +0x3A), the
 * pepolar bit (0x4 at +0x30) gives the polarity, inverted when the ky
 * direction (+0x394) is bottom-up (2). OUT: *flipped (1 Flipped, 0
 * Unflipped). RET: RTC_OK; RTC_ERR_NOT_FOUND (not an EPI);
 * RTC_ERR_FORMAT (too short, an unknown version).
 */
int rtc_dicom_ge_pe_polarity(const void *hdr, size_t len, int *flipped);

#endif

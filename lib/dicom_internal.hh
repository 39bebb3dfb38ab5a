/*
 * dicom_internal: the C++ side of lib/dicom, for C++ callers inside rtc
 * (the DICOM network receiver hands over a DcmDataset it already holds,
 * so it must not serialise and parse it again).
 *
 * Include <dcmtk/config/osconfig.h> before this header (it does so itself
 * for safety). Nothing here throws.
 */
#ifndef RTC_DICOM_INTERNAL_HH
#define RTC_DICOM_INTERNAL_HH

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstddef>

extern "C" {
#include "dicom.h"
}

/* One frame of a multi-frame file, as sorted into (volume, slice). */
struct rtc_dicom_frame {
	double pos[3];       /* ImagePositionPatient, LPS */
	double proj;         /* pos along the slice normal */
	double time;         /* FrameAcquisitionDateTime, s after midnight;
	                      * < -1e8 unknown */
	double sdi_time;     /* Siemens XA private slice time, s; < -1e8 */
	int temporal;        /* TemporalPositionIndex, -1 */
	int stack;           /* InStackPositionNumber, -1 */
	int src;             /* frame number in the file, 0-based */
};

struct rtc_dicom {
	/* scratch for multi-frame files, grown on demand and reused */
	struct rtc_dicom_frame *frames;
	size_t frames_cap;
	int *order;          /* order[t*nz + k] = source frame */
	size_t order_cap;
};

/*
 * Decode a dataset already in memory, e.g. from a C-STORE receiver.
 * IN: d; ds (compressed pixel data is decompressed in place, which
 * changes ds's representation; nothing else is modified); xfer, the
 * transfer syntax ds was received in (EXS_Unknown: ds->getOriginalXfer());
 * name for messages (may be NULL); flags as for rtc_dicom_read_file().
 * OUT/RET: as rtc_dicom_read_file().
 */
int rtc_dicom_read_dataset(struct rtc_dicom *d, DcmDataset *ds,
    E_TransferSyntax xfer, const char *name, unsigned flags,
    struct rtc_dicom_meta *meta, struct rtc_volume *vol, char **cause)
    noexcept;

/*
 * Fill meta from a dataset's attributes (lib/dicom_meta.cc); for
 * multi-frame files also sorts the frames into d->order.
 * RET: RTC_OK, RTC_ERR_FORMAT, RTC_ERR_TOO_BIG, RTC_ERR_NOMEM. May throw std::bad_alloc (callers catch).
 */
int rtc_dicom_meta_fill(struct rtc_dicom *d, DcmItem *ds,
    E_TransferSyntax xfer, const char *name, struct rtc_dicom_meta *meta,
    char **cause);

#endif

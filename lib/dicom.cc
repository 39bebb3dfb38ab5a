/*
 * dicom: load a DICOM object with DCMTK and turn it into a volume (see
 * dicom.h). The attribute reading is in dicom_meta.cc, the arithmetic in
 * dicom_geom.c.
 *
 * Design notes:
 * - Files load with DCMTK's default lazy loading: values over 4 KiB (the
 *   pixel data, CSA series headers) stay in the file until touched, so a
 *   header-only read never reads the pixels.
 * - A file that ends early: DCMTK reports a premature end. We then find
 *   where the last element's value starts (a second parse that stops at
 *   that element) and say exactly how many bytes are missing.
 * - Compressed transfer syntaxes are decoded in process by DCMTK's codecs
 *   (JPEG baseline/extended/lossless via dcmjpeg, RLE via dcmdata),
 *   registered once per process (pthread_once: the one piece of process
 *   state, immutable after it ran). A syntax without a codec is named in
 *   the error.
 * - DCMTK's own logger is switched off: its messages can quote attribute
 *   values, and patient identifiers must never reach a log.
 * - Every extern "C" entry catches all exceptions.
 */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/oflog/oflog.h>

/* rtc_build.h is not included: DCMTK's osconfig.h, which must come first,
 * defines PACKAGE_NAME and friends too. Nothing here needs it. */

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include <pthread.h>
#include <sys/stat.h>

#include "dicom_internal.hh"

extern "C" {
#include "error.h"
}

namespace {

pthread_once_t codecs_once = PTHREAD_ONCE_INIT;

void
codecs_init(void)
{
	try {
		OFLog::configure(OFLogger::OFF_LOG_LEVEL);
		DJDecoderRegistration::registerCodecs();
		DcmRLEDecoderRegistration::registerCodecs();
	} catch (...) {
		/* decoding compressed data will then fail with a message */
	}
}

const char *
nm(const char *name)
{
	return name != NULL ? name : "DICOM data";
}

/* The last top-level element (where a premature end hit). */
DcmObject *
last_element(DcmItem *it)
{
	DcmObject *o = NULL, *last = NULL;

	while ((o = it->nextInContainer(o)) != NULL)
		last = o;
	return last;
}

/*
 * After a premature end: the number of bytes missing from the file, or -1
 * when it cannot be told. IN: open, a function that opens a fresh stream
 * over the same bytes; total, their number.
 */
template <typename Open>
long long
missing_bytes(DcmFileFormat &ff, Open open, unsigned long long total)
{
	DcmDataset *ds = ff.getDataset();
	DcmObject *last;

	if (ds == NULL || (last = last_element(ds)) == NULL)
		return -1;
	Uint32 declared = last->getLengthField();
	if (declared == DCM_UndefinedLength)
		return -1;
	DcmInputStream *st = open();
	if (st == NULL)
		return -1;
	DcmFileFormat probe;
	probe.transferInit();
	OFCondition c = probe.readUntilTag(*st, EXS_Unknown, EGL_noChange,
	    DCM_MaxReadLength, last->getTag());
	probe.transferEnd();
	long long start = (long long)st->tell();
	delete st;
	(void)c;
	long long end = start + (long long)declared;
	if (start <= 0 || end <= (long long)total)
		return -1;
	return end - (long long)total;
}

bool
premature(const OFCondition &c)
{
	return c == EC_StreamNotifyClient || c == EC_PrematureSequDelimitationItem
	    || c == EC_ItemEnd || c == EC_SequEnd || c == EC_EndOfStream;
}

void
truncated_cause(char **cause, const char *name, long long missing,
    unsigned long long have, DcmFileFormat &ff)
{
	DcmObject *last = ff.getDataset() ? last_element(ff.getDataset()) :
	    NULL;
	char tag[32] = "";

	if (last != NULL)
		snprintf(tag, sizeof(tag), " in (%04x,%04x)",
		    last->getTag().getGroup(), last->getTag().getElement());
	if (missing > 0)
		rtc_cause_set(cause, "%s: truncated: %lld bytes missing%s "
		    "(the file has %llu bytes, %llu expected)", name, missing,
		    tag, have, have + (unsigned long long)missing);
	else
		rtc_cause_set(cause, "%s: truncated: the data ends early%s "
		    "after %llu bytes", name, tag, have);
}

/* Copy pixels of a decoded dataset into vol as meta describes. */
int
decode_pixels(struct rtc_dicom *d, DcmDataset *ds, E_TransferSyntax xfer,
    const char *name, const struct rtc_dicom_meta *m, struct rtc_volume *vol,
    char **cause)
{
	DcmXfer x(xfer);
	DcmElement *pe = NULL;
	const unsigned char *px = NULL;
	size_t esize = (size_t)m->bits_allocated / 8, have, want, frame;
	enum rtc_dtype dt;
	int nz = m->nslices, nt = m->nvolumes, r;

	if (x.isEncapsulated()) {
		OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit,
		    NULL);
		if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
			rtc_cause_set(cause, "%s: unsupported transfer syntax "
			    "%s (%s)", name, x.getXferName(), x.getXferID());
			return RTC_ERR_UNSUPPORTED;
		}
	}
	if (ds->findAndGetElement(DCM_PixelData, pe, false).bad() || pe == NULL) {
		rtc_cause_set(cause, "%s: no pixel data", name);
		return RTC_ERR_FORMAT;
	}
	if (esize == 2) {
		Uint16 *p16 = NULL;
		if (pe->getUint16Array(p16).bad())
			p16 = NULL;
		px = (const unsigned char *)p16;
	} else {
		Uint8 *p8 = NULL;
		if (pe->getUint8Array(p8).bad())
			p8 = NULL;
		px = p8;
	}
	if (px == NULL) {
		rtc_cause_set(cause, "%s: cannot read the pixel data", name);
		return RTC_ERR_FORMAT;
	}
	have = pe->getLength();
	frame = (size_t)m->rows * (size_t)m->cols * esize;
	if (m->kind == RTC_DICOM_MOSAIC)
		want = frame * (size_t)m->mosaic_cols * (size_t)m->mosaic_cols;
	else
		want = frame * (size_t)m->nframes;
	if (have < want) {
		rtc_cause_set(cause, "%s: pixel data holds %zu bytes, the "
		    "image needs %zu", name, have, want);
		return RTC_ERR_FORMAT;
	}
	dt = esize == 1 ? RTC_DT_UINT8 : m->pixel_signed ? RTC_DT_INT16 :
	    RTC_DT_UINT16;
	if ((r = rtc_volume_reshape(vol, m->cols, m->rows, nz, nt, dt)) !=
	    RTC_OK) {
		rtc_cause_set(cause, "%s: cannot hold a %dx%dx%dx%d volume",
		    name, m->cols, m->rows, nz, nt);
		return r;
	}
	switch (m->kind) {
	case RTC_DICOM_MOSAIC:
		r = rtc_dicom_unmosaic(px, m->rows * m->mosaic_cols,
		    m->cols * m->mosaic_cols, esize, m->rows, m->cols, nz,
		    m->mosaic_cols, vol->data);
		if (r != RTC_OK) {
			rtc_cause_set(cause, "%s: mosaic tiles do not fit", name);
			return r;
		}
		break;
	case RTC_DICOM_MULTIFRAME:
		for (int i = 0; i < nz * nt; i++)
			rtc_dicom_copy_flip(px + (size_t)d->order[i] * frame,
			    m->rows, m->cols, esize,
			    (unsigned char *)vol->data + (size_t)i * frame);
		break;
	case RTC_DICOM_SLICE:
		rtc_dicom_copy_flip(px, m->rows, m->cols, esize, vol->data);
		break;
	}
	return RTC_OK;
}

/* Geometry, timing and acquisition fields of vol from meta. */
int
fill_volume(const struct rtc_dicom_meta *m, struct rtc_volume *vol)
{
	rtc_dicom_meta_affine(m, vol->affine);
	rtc_volume_update_voxel_size(vol);
	vol->tr = m->tr;
	if (m->rescale_slope != 1.0 || m->rescale_intercept != 0.0) {
		vol->scl_slope = m->rescale_slope;
		vol->scl_inter = m->rescale_intercept;
	} else {
		vol->scl_slope = 0.0;
		vol->scl_inter = 0.0;
	}
	vol->acq = m->acq;
	if (m->n_slice_times == vol->nz) {
		if (vol->slice_timing == NULL) {
			vol->slice_timing = (double *)malloc((size_t)vol->nz *
			    sizeof(double));
			if (vol->slice_timing == NULL)
				return RTC_ERR_NOMEM;
		}
		memcpy(vol->slice_timing, m->slice_times,
		    (size_t)vol->nz * sizeof(double));
	} else {
		free(vol->slice_timing);
		vol->slice_timing = NULL;
	}
	return RTC_OK;
}

int
decode(struct rtc_dicom *d, DcmDataset *ds, E_TransferSyntax xfer,
    const char *name, unsigned flags, struct rtc_dicom_meta *meta,
    struct rtc_volume *vol, char **cause)
{
	struct rtc_dicom_meta mm, *m = &mm;
	int r;

	if (d == NULL || ds == NULL || meta == NULL ||
	    (vol == NULL && !(flags & RTC_DICOM_HEADER_ONLY)))
		return RTC_ERR_INVAL;
	if (xfer == EXS_Unknown)
		xfer = ds->getOriginalXfer();
	/* meta is only written on success */
	r = rtc_dicom_meta_fill(d, ds, xfer, nm(name), m, cause);
	if (r == RTC_OK && (flags & RTC_DICOM_HEADER_ONLY)) {
		/* say now, not when the pixels are wanted, that a syntax
		 * has no decoder */
		DcmXfer x(xfer);
		if (x.isEncapsulated() && !DcmCodecList::canChangeCoding(xfer,
		    EXS_LittleEndianExplicit)) {
			rtc_cause_set(cause, "%s: unsupported transfer syntax "
			    "%s (%s)", nm(name), x.getXferName(), x.getXferID());
			r = RTC_ERR_UNSUPPORTED;
		}
	}
	if (r == RTC_OK && !(flags & RTC_DICOM_HEADER_ONLY)) {
		r = decode_pixels(d, ds, xfer, nm(name), m, vol, cause);
		if (r == RTC_OK)
			r = fill_volume(m, vol);
	}
	if (r == RTC_OK)
		memcpy(meta, m, sizeof(*m));
	return r;
}

/* Does the start of the data look like DICOM: Part 10, or a bare dataset
 * starting with a group 0002 or 0008 element (little endian)? */
bool
plausible(const unsigned char *p, size_t n)
{
	if (rtc_dicom_sniff(p, n))
		return true;
	return n >= 8 && p[1] == 0x00 && (p[0] == 0x02 || p[0] == 0x08) &&
	    p[3] == 0x00;
}

struct file_opener {
	const char *path;
	DcmInputStream *operator()() const
	{
		DcmInputFileStream *s = new (std::nothrow)
		    DcmInputFileStream(path);
		if (s != NULL && s->status().bad()) {
			delete s;
			return NULL;
		}
		return s;
	}
};

struct buffer_opener {
	const void *buf;
	size_t len;
	DcmInputStream *operator()() const
	{
		DcmInputBufferStream *s = new (std::nothrow) DcmInputBufferStream();
		if (s == NULL)
			return NULL;
		s->setBuffer(buf, (offile_off_t)len);
		s->setEos();
		return s;
	}
};

/*
 * Parse a whole object from a fresh stream. A parse that fails with the
 * stream used up is a truncation (DCMTK says "premature end" or, for
 * memory streams, "invalid stream"): RTC_ERR_TRUNCATED with the missing
 * byte count; any other failure is RTC_ERR_FORMAT.
 */
template <typename Open>
int
load(DcmFileFormat &ff, Open op, unsigned long long total, const char *name,
    char **cause)
{
	DcmInputStream *st = op();
	OFCondition c;
	bool ended;

	if (st == NULL) {
		rtc_cause_set(cause, "%s: cannot open", name);
		return RTC_ERR_IO;
	}
	ff.transferInit();
	c = ff.read(*st, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
	ff.transferEnd();
	ended = st->eos() || st->avail() == 0;
	delete st;
	if (c.good())
		return RTC_OK;
	if (premature(c) || ended) {
		truncated_cause(cause, name, missing_bytes(ff, op, total), total,
		    ff);
		return RTC_ERR_TRUNCATED;
	}
	rtc_cause_set(cause, "%s: not readable as DICOM: %s", name, c.text());
	return RTC_ERR_FORMAT;
}

} // namespace

extern "C" {

int
rtc_dicom_sniff(const void *head, size_t n)
{
	return n >= 132 && memcmp((const char *)head + 128, "DICM", 4) == 0;
}

struct rtc_dicom *
rtc_dicom_new(void)
{
	struct rtc_dicom *d;

	(void)pthread_once(&codecs_once, codecs_init);
	d = (struct rtc_dicom *)calloc(1, sizeof(*d));
	return d;
}

void
rtc_dicom_free(struct rtc_dicom *d)
{
	if (d == NULL)
		return;
	free(d->frames);
	free(d->order);
	free(d);
}

int
rtc_dicom_read_file(struct rtc_dicom *d, const char *path, unsigned flags,
    struct rtc_dicom_meta *meta, struct rtc_volume *vol, char **cause)
{
	struct stat st;
	unsigned char head[132];
	FILE *fp;
	size_t n;

	if (d == NULL || path == NULL)
		return RTC_ERR_INVAL;
	if (stat(path, &st) != 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? RTC_ERR_NOT_FOUND :
		    RTC_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		rtc_cause_set(cause, "%s: not a regular file", path);
		return RTC_ERR_FORMAT;
	}
	if ((unsigned long long)st.st_size > RTC_DICOM_MAX_FILE) {
		rtc_cause_set(cause, "%s: %lld bytes is over the %llu-byte cap "
		    "for one DICOM file", path, (long long)st.st_size,
		    RTC_DICOM_MAX_FILE);
		return RTC_ERR_TOO_BIG;
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return RTC_ERR_IO;
	}
	n = fread(head, 1, sizeof(head), fp);
	fclose(fp);
	if (!plausible(head, n)) {
		rtc_cause_set(cause, "%s: not a DICOM file", path);
		return RTC_ERR_FORMAT;
	}
	try {
		file_opener op = { path };
		DcmFileFormat ff;
		int r = load(ff, op, (unsigned long long)st.st_size, path, cause);
		if (r != RTC_OK)
			return r;
		return decode(d, ff.getDataset(), EXS_Unknown, path, flags, meta,
		    vol, cause);
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "%s: internal error in the DICOM decoder",
		    path);
		return RTC_ERR_INTERNAL;
	}
}

int
rtc_dicom_read_buffer(struct rtc_dicom *d, const void *buf, size_t len,
    const char *name, unsigned flags, struct rtc_dicom_meta *meta,
    struct rtc_volume *vol, char **cause)
{
	if (d == NULL || (buf == NULL && len > 0))
		return RTC_ERR_INVAL;
	name = nm(name);
	if (len > RTC_DICOM_MAX_FILE) {
		rtc_cause_set(cause, "%s: %zu bytes is over the cap for one "
		    "DICOM object", name, len);
		return RTC_ERR_TOO_BIG;
	}
	if (!plausible((const unsigned char *)buf, len)) {
		rtc_cause_set(cause, "%s: not DICOM data", name);
		return RTC_ERR_FORMAT;
	}
	try {
		buffer_opener op = { buf, len };
		DcmFileFormat ff;
		int r = load(ff, op, len, name, cause);
		if (r != RTC_OK)
			return r;
		return decode(d, ff.getDataset(), EXS_Unknown, name, flags, meta,
		    vol, cause);
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "%s: internal error in the DICOM decoder",
		    name);
		return RTC_ERR_INTERNAL;
	}
}

} // extern "C"

int
rtc_dicom_read_dataset(struct rtc_dicom *d, DcmDataset *ds,
    E_TransferSyntax xfer, const char *name, unsigned flags,
    struct rtc_dicom_meta *meta, struct rtc_volume *vol, char **cause)
    noexcept
{
	try {
		return decode(d, ds, xfer, name, flags, meta, vol, cause);
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "%s: internal error in the DICOM decoder",
		    nm(name));
		return RTC_ERR_INTERNAL;
	}
}

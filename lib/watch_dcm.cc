/*
 * watch_dcm: DCMTK side of the intake's DICOM checks.
 *
 * Completeness: DCMTK reads the file with lazy loading (values over
 * DCM_MaxReadLength stay on disk but their lengths are checked against the
 * bytes left), so a check costs ~0.1 ms for a 450 KB mosaic. Any read
 * failure of a file that starts like a Part-10 file counts as "not yet":
 * a half-written file fails in many ways (premature end, invalid stream
 * when cut inside a header) and the watcher's timeout, not this check,
 * decides when to give up. Only a file without the "DICM" magic is
 * rejected at once. An image object must also hold its PixelData: a file
 * cut exactly between two elements before the pixels parses cleanly.
 *
 * DCMTK logs read errors itself; every partial file would print them, so
 * the dcmdata logger is set to FATAL once (our own messages say what
 * happened).
 *
 * No C++ exception crosses into C: DCMTK does not throw in these paths,
 * and allocation failures are caught below.
 */
#include "rtc_build.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/oflog/oflog.h>

extern "C" {
#include "error.h"
#include "hash.h"
#include "watch_dcm.h"
}

namespace {

std::once_flag quiet_once;

void
quiet_dcmtk(void)
{
	std::call_once(quiet_once, [] {
		OFLog::getLogger("dcmtk.dcmdata").setLogLevel(
		    OFLogger::FATAL_LOG_LEVEL);
	});
}

/* 1: "DICM" at 128; 0: too short to tell; -1: not a Part-10 file. */
int
has_magic_fd(int fd)
{
	char m[4];
	ssize_t n = pread(fd, m, sizeof(m), 128);

	if (n < (ssize_t)sizeof(m))
		return 0;
	return memcmp(m, "DICM", 4) == 0 ? 1 : -1;
}

void
copy_str(DcmItem *it, const DcmTagKey &tag, char *out, size_t n)
{
	const char *s = NULL;

	out[0] = '\0';
	if (it->findAndGetString(tag, s).good() && s != NULL)
		snprintf(out, n, "%s", s);
}

int
get_int(DcmItem *it, const DcmTagKey &tag, int def)
{
	Sint32 v = 0;

	if (it->findAndGetSint32(tag, v).good())
		return (int)v;
	return def;
}

/* Pixel bytes and (optionally) their digest. RET: RTC_OK or an error. */
int
probe_pixels(DcmDataset *ds, unsigned flags, struct rtc_dcm_probe *p)
{
	DcmElement *el = NULL;
	struct rtc_hash *h = NULL;
	int ret = RTC_OK;

	if (ds->findAndGetElement(DCM_PixelData, el).bad() || el == NULL)
		return RTC_OK;
	if (flags & RTC_DCM_PROBE_DIGEST) {
		h = rtc_hash_new(RTC_HASH_SHA256);
		if (h == NULL)
			return RTC_ERR_NOMEM;
	}
	DcmPixelData *pd = OFdynamic_cast(DcmPixelData *, el);
	DcmPixelSequence *seq = NULL;
	if (pd != NULL && DcmXfer(ds->getOriginalXfer()).isEncapsulated() &&
	    pd->getEncapsulatedRepresentation(ds->getOriginalXfer(), NULL,
	    seq).good() && seq != NULL) {
		p->encapsulated = 1;
		/* item 0 is the basic offset table */
		for (unsigned long i = 1; i < seq->card(); i++) {
			DcmPixelItem *item = NULL;
			Uint8 *bytes = NULL;

			if (seq->getItem(item, i).bad() || item == NULL)
				continue;
			p->pixel_bytes += item->getLength();
			if (h != NULL && item->getLength() > 0) {
				if (item->getUint8Array(bytes).bad()) {
					ret = RTC_ERR_TRUNCATED;
					goto out;
				}
				rtc_hash_update(h, bytes, item->getLength());
			}
		}
	} else {
		Uint8 *bytes = NULL;

		p->pixel_bytes = el->getLength();
		if (h != NULL && el->getLength() > 0) {
			if (el->getUint8Array(bytes).bad() || bytes == NULL) {
				ret = RTC_ERR_TRUNCATED;
				goto out;
			}
			rtc_hash_update(h, bytes, el->getLength());
		}
	}
	if (h != NULL)
		rtc_hash_final_hex(h, p->pixel_sha256);
out:
	rtc_hash_free(h);
	return ret;
}

int
probe_ff(DcmFileFormat &ff, unsigned flags, struct rtc_dcm_probe *p)
{
	DcmDataset *ds = ff.getDataset();
	DcmMetaInfo *mi = ff.getMetaInfo();

	memset(p, 0, sizeof(*p));
	if (mi != NULL)
		copy_str(mi, DCM_TransferSyntaxUID, p->transfer_syntax_uid,
		    sizeof(p->transfer_syntax_uid));
	copy_str(ds, DCM_SOPClassUID, p->sop_class_uid, sizeof(p->sop_class_uid));
	copy_str(ds, DCM_SOPInstanceUID, p->sop_instance_uid,
	    sizeof(p->sop_instance_uid));
	copy_str(ds, DCM_SeriesInstanceUID, p->series_uid, sizeof(p->series_uid));
	p->series_number = get_int(ds, DCM_SeriesNumber, -1);
	p->acquisition_number = get_int(ds, DCM_AcquisitionNumber, -1);
	p->instance_number = get_int(ds, DCM_InstanceNumber, -1);
	{
		Uint16 v = 0;

		if (ds->findAndGetUint16(DCM_Rows, v).good())
			p->rows = v;
		if (ds->findAndGetUint16(DCM_Columns, v).good())
			p->columns = v;
	}
	p->frames = get_int(ds, DCM_NumberOfFrames, 1);
	return probe_pixels(ds, flags, p);
}

int
read_error(OFCondition c, const char *what, char **cause)
{
	rtc_cause_set(cause, "%s: %s", what, c.text());
	if (c == EC_StreamNotifyClient || c == EC_InvalidStream ||
	    c == EC_ItemEnd || c == EC_SequEnd)
		return RTC_ERR_TRUNCATED;
	return RTC_ERR_FORMAT;
}

} // namespace

extern "C" int
rtc_watch_dcm_complete(const char *path, void *arg)
{
	(void)arg;
	try {
		int fd, m;
		struct stat st;

		quiet_dcmtk();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : RTC_ERR_IO;
		m = has_magic_fd(fd);
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return RTC_ERR_FORMAT;
		}
		close(fd);
		if (m <= 0)
			return m == 0 ? 0 : RTC_ERR_FORMAT;

		DcmFileFormat ff;
		OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange,
		    DCM_MaxReadLength, ERM_fileOnly);
		if (c.bad())
			return 0;
		DcmDataset *ds = ff.getDataset();
		const char *sop = NULL;
		if (ds->findAndGetString(DCM_SOPClassUID, sop).good() &&
		    sop != NULL && dcmIsImageStorageSOPClassUID(sop)) {
			DcmElement *el = NULL;

			if (ds->findAndGetElement(DCM_PixelData, el).bad() ||
			    el == NULL)
				return 0;
		}
		return 1;
	} catch (const std::bad_alloc &) {
		return 0;
	} catch (...) {
		return 0;
	}
}

extern "C" int
rtc_watch_dcm_probe_file(const char *path, unsigned flags,
    struct rtc_dcm_probe *p, char **cause)
{
	try {
		struct rtc_dcm_probe tmp;
		int fd, m, r;

		quiet_dcmtk();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rtc_cause_set(cause, "%s: %s", path, strerror(errno));
			return errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
		}
		m = has_magic_fd(fd);
		close(fd);
		if (m <= 0) {
			rtc_cause_set(cause, "%s: not a DICOM Part-10 file", path);
			return m == 0 ? RTC_ERR_TRUNCATED : RTC_ERR_FORMAT;
		}
		DcmFileFormat ff;
		OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange,
		    DCM_MaxReadLength, ERM_fileOnly);
		if (c.bad())
			return read_error(c, path, cause);
		r = probe_ff(ff, flags, &tmp);
		if (r != RTC_OK) {
			rtc_cause_set(cause, "%s: pixel data unreadable", path);
			return r;
		}
		*p = tmp;
		return RTC_OK;
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "%s: unreadable", path);
		return RTC_ERR_FORMAT;
	}
}

extern "C" int
rtc_watch_dcm_probe_buffer(const void *buf, size_t len, unsigned flags,
    struct rtc_dcm_probe *p, char **cause)
{
	try {
		struct rtc_dcm_probe tmp;
		int r;

		quiet_dcmtk();
		if (len < 132) {
			rtc_cause_set(cause, "buffer of %zu bytes: too short", len);
			return RTC_ERR_TRUNCATED;
		}
		if (memcmp((const char *)buf + 128, "DICM", 4) != 0) {
			rtc_cause_set(cause, "buffer: not a DICOM Part-10 image");
			return RTC_ERR_FORMAT;
		}
		DcmInputBufferStream in;
		in.setBuffer(buf, (offile_off_t)len);
		in.setEos();
		DcmFileFormat ff;
		ff.transferInit();
		OFCondition c = ff.read(in, EXS_Unknown, EGL_noChange,
		    DCM_MaxReadLength);
		ff.transferEnd();
		if (c.bad())
			return read_error(c, "buffer", cause);
		r = probe_ff(ff, flags, &tmp);
		if (r != RTC_OK) {
			rtc_cause_set(cause, "buffer: pixel data unreadable");
			return r;
		}
		*p = tmp;
		return RTC_OK;
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "buffer: unreadable");
		return RTC_ERR_FORMAT;
	}
}

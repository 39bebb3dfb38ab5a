/*
 * dicom_write: Siemens-style mosaic objects through DCMTK (see dicom.h).
 *
 * Design: build the dataset attribute by attribute the way a Siemens
 * scanner's realtime export does (MR Image Storage, MOSAIC image type,
 * the "SIEMENS CSA HEADER" private block with a CSA2 image header made by
 * lib/csa, the "SIEMENS MR HEADER" NumberOfImagesInMosaic), tile the
 * slices (rows back in stored top-down order), and let DCMTK encode it
 * into memory through a DcmOutputBufferStream. The caller decides where
 * the bytes go (rtc synth writes them atomically).
 */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcostrmb.h>

/* rtc_build.h is not included: DCMTK's osconfig.h defines PACKAGE_*. */

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "csa.h"
#include "dicom.h"
#include "error.h"
}

namespace {

const char *
s_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

OFCondition
put(DcmDataset *ds, const DcmTagKey &k, const char *v)
{
	return ds->putAndInsertString(DcmTag(k), v != NULL ? v : "");
}

OFCondition
put4(DcmDataset *ds, const DcmTagKey &k, double a)
{
	char b[64];

	snprintf(b, sizeof(b), "%.4f", a);
	return ds->putAndInsertString(DcmTag(k), b);
}

OFCondition
puti(DcmDataset *ds, const DcmTagKey &k, long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", v);
	return ds->putAndInsertString(DcmTag(k), b);
}

/* DS values: at most 16 characters */
void
ds_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.10g", v);
	if (strlen(out) > 16)
		snprintf(out, n, "%.8g", v);
}

void
ds_list(char *out, size_t n, const double *v, int k)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < k && used < n; i++) {
		char one[32];
		ds_num(one, sizeof(one), v[i]);
		used += (size_t)snprintf(out + used, n - used, "%s%s",
		    i ? "\\" : "", one);
	}
}

void
tm_text(char *out, size_t n, double t)
{
	long us = std::lround((t < 0 ? 0 : t) * 1e6) % 86400000000L;
	int h, m, s;

	h = (int)(us / 3600000000L);
	us -= h * 3600000000L;
	m = (int)(us / 60000000L);
	us -= m * 60000000L;
	s = (int)(us / 1000000L);
	us -= s * 1000000L;
	snprintf(out, n, "%02d%02d%02d.%06d", h, m, s, (int)us);
}

int
csa_header(const struct rtc_volume *vol, const struct rtc_dicom_mosaic_desc *d,
    struct rtc_buf *csa)
{
	char n[16], nv[3][32], pe[8], dur[32], mat[32];
	std::vector<std::string> times;
	std::vector<const char *> tp;
	const char *nvp[3] = { nv[0], nv[1], nv[2] }, *np = n, *pep = pe,
	    *durp = dur, *matp = mat, *zero = "0";

	snprintf(n, sizeof(n), "%d", vol->nz);
	for (int a = 0; a < 3; a++)
		snprintf(nv[a], sizeof(nv[a]), "%.8f", d->slice_normal[a]);
	snprintf(pe, sizeof(pe), "%d", d->pe_positive ? 1 : 0);
	snprintf(dur, sizeof(dur), "%.8f", d->tr * 1000.0 / vol->nz);
	snprintf(mat, sizeof(mat), "%d*%d", vol->ny, vol->nx);
	if (d->slice_times != NULL)
		for (int k = 0; k < vol->nz; k++) {
			char b[32];
			snprintf(b, sizeof(b), "%.8f", d->slice_times[k] * 1000.0);
			times.push_back(b);
		}
	for (size_t k = 0; k < times.size(); k++)
		tp.push_back(times[k].c_str());
	struct rtc_csa_field f[] = {
		{ "ProtocolSliceNumber", "IS", 1, 6, 1, &zero, 6 },
		{ "SliceMeasurementDuration", "DS", 1, 3, 1, &durp, 6 },
		{ "AcquisitionMatrixText", "SH", 1, 22, 1, &matp, 6 },
		{ "PhaseEncodingDirectionPositive", "IS", 1, 6, 1, &pep, 6 },
		{ "NumberOfImagesInMosaic", "US", 1, 10, 1, &np, 6 },
		{ "SliceNormalVector", "FD", 3, 4, 3, nvp, 6 },
		{ "MosaicRefAcqTimes", "FD", 0, 4, tp.size(),
		    tp.empty() ? NULL : tp.data(), tp.size() + 3 },
	};
	size_t nf = tp.empty() ? 6 : 7;
	return rtc_csa_write(f, nf, csa);
}

int
build(const struct rtc_volume *vol, const struct rtc_dicom_mosaic_desc *d,
    DcmFileFormat &ff, char **cause)
{
	DcmDataset *ds = ff.getDataset();
	int nx = vol->nx, ny = vol->ny, nz = vol->nz, tc, r;
	char b[160], tm[32], stm[32];
	double corner[3];
	struct rtc_buf csa;

	tc = (int)std::ceil(std::sqrt((double)nz));
	while (tc * tc < nz)
		tc++;
	/* the corner of the mosaic seen as one big image */
	for (int a = 0; a < 3; a++)
		corner[a] = d->ipp[a] -
		    (tc * nx - nx) / 2.0 * d->pixel_spacing[1] * d->iop[a] -
		    (tc * ny - ny) / 2.0 * d->pixel_spacing[0] * d->iop[3 + a];
	tm_text(tm, sizeof(tm), d->acquisition_time);
	tm_text(stm, sizeof(stm), d->series_time);

	OFCondition c = EC_Normal;
#define P(x) do { if (c.good()) c = (x); } while (0)
	P(put(ds, DCM_SpecificCharacterSet, "ISO_IR 100"));
	P(put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC"));
	P(put(ds, DCM_SOPClassUID, UID_MRImageStorage));
	P(put(ds, DCM_SOPInstanceUID, d->sop_uid));
	P(put(ds, DCM_StudyDate, d->date));
	P(put(ds, DCM_SeriesDate, d->date));
	P(put(ds, DCM_AcquisitionDate, d->date));
	P(put(ds, DCM_ContentDate, d->date));
	P(put(ds, DCM_StudyTime, stm));
	P(put(ds, DCM_SeriesTime, stm));
	P(put(ds, DCM_AcquisitionTime, tm));
	P(put(ds, DCM_ContentTime, tm));
	P(put(ds, DCM_AccessionNumber, ""));
	P(put(ds, DCM_Modality, "MR"));
	P(put(ds, DCM_Manufacturer, s_or(d->manufacturer, "SIEMENS")));
	P(put(ds, DCM_ReferringPhysicianName, ""));
	P(put(ds, DCM_SeriesDescription, d->series_description));
	P(put(ds, DCM_ManufacturerModelName, d->model));
	P(put(ds, DCM_PatientName, ""));
	P(put(ds, DCM_PatientID, ""));
	P(put(ds, DCM_PatientBirthDate, ""));
	P(put(ds, DCM_PatientSex, ""));
	P(put(ds, DCM_ScanningSequence, "EP"));
	P(put(ds, DCM_SequenceVariant, "SK"));
	P(put(ds, DCM_ScanOptions, "FS"));
	P(put(ds, DCM_MRAcquisitionType, "2D"));
	snprintf(b, sizeof(b), "*epfid2d1_%d", nx);
	P(put(ds, DCM_SequenceName, b));
	P(put(ds, DCM_AngioFlag, "N"));
	ds_num(b, sizeof(b), d->slice_thickness);
	P(put(ds, DCM_SliceThickness, b));
	ds_num(b, sizeof(b), d->tr * 1000.0);
	P(put(ds, DCM_RepetitionTime, b));
	ds_num(b, sizeof(b), d->te * 1000.0);
	P(put(ds, DCM_EchoTime, b));
	P(put(ds, DCM_NumberOfAverages, "1"));
	P(put(ds, DCM_ImagedNucleus, "1H"));
	P(put(ds, DCM_EchoNumbers, "1"));
	ds_num(b, sizeof(b), d->field_strength);
	P(put(ds, DCM_MagneticFieldStrength, b));
	ds_num(b, sizeof(b), d->slice_spacing);
	P(put(ds, DCM_SpacingBetweenSlices, b));
	P(put(ds, DCM_SoftwareVersions, d->software));
	P(put(ds, DCM_ProtocolName, d->protocol_name));
	{
		Uint16 am[4] = { (Uint16)nx, 0, 0, (Uint16)ny };
		P(ds->putAndInsertUint16Array(DCM_AcquisitionMatrix, am, 4));
	}
	P(put(ds, DCM_InPlanePhaseEncodingDirection, "COL"));
	ds_num(b, sizeof(b), d->flip_angle);
	P(put(ds, DCM_FlipAngle, b));
	P(put(ds, DCM_PatientPosition, "HFS"));
	P(put(ds, DCM_StudyInstanceUID, d->study_uid));
	P(put(ds, DCM_SeriesInstanceUID, d->series_uid));
	P(put(ds, DCM_StudyID, "1"));
	P(puti(ds, DCM_SeriesNumber, d->series_number));
	P(puti(ds, DCM_AcquisitionNumber, d->acquisition_number));
	P(puti(ds, DCM_InstanceNumber, d->instance_number));
	ds_list(b, sizeof(b), corner, 3);
	P(put(ds, DCM_ImagePositionPatient, b));
	ds_list(b, sizeof(b), d->iop, 6);
	P(put(ds, DCM_ImageOrientationPatient, b));
	P(put(ds, DCM_FrameOfReferenceUID, d->frame_uid));
	P(put(ds, DCM_PositionReferenceIndicator, ""));
	P(put4(ds, DCM_SliceLocation, d->ipp[0] * d->slice_normal[0] +
	    d->ipp[1] * d->slice_normal[1] + d->ipp[2] * d->slice_normal[2]));
	P(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1));
	P(put(ds, DCM_PhotometricInterpretation, "MONOCHROME2"));
	P(ds->putAndInsertUint16(DCM_Rows, (Uint16)(tc * ny)));
	P(ds->putAndInsertUint16(DCM_Columns, (Uint16)(tc * nx)));
	{
		double ps[2] = { d->pixel_spacing[0], d->pixel_spacing[1] };
		ds_list(b, sizeof(b), ps, 2);
		P(put(ds, DCM_PixelSpacing, b));
	}
	bool sgn = vol->dtype == RTC_DT_INT16;
	P(ds->putAndInsertUint16(DCM_BitsAllocated, 16));
	P(ds->putAndInsertUint16(DCM_BitsStored, sgn ? 16 : 12));
	P(ds->putAndInsertUint16(DCM_HighBit, sgn ? 15 : 11));
	P(ds->putAndInsertUint16(DCM_PixelRepresentation, sgn ? 1 : 0));
	/* Siemens private blocks */
	P(ds->putAndInsertString(DcmTag(0x0019, 0x0010, EVR_LO),
	    "SIEMENS MR HEADER"));
	{
		DcmTag t(0x0019, 0x100a, EVR_US);
		t.setPrivateCreator("SIEMENS MR HEADER");
		P(ds->putAndInsertUint16(t, (Uint16)nz));
	}
	P(ds->putAndInsertString(DcmTag(0x0029, 0x0010, EVR_LO),
	    "SIEMENS CSA HEADER"));
	{
		DcmTag t8(0x0029, 0x1008, EVR_CS);
		t8.setPrivateCreator("SIEMENS CSA HEADER");
		P(ds->putAndInsertString(t8, "IMAGE NUM 4"));
		DcmTag t9(0x0029, 0x1009, EVR_LO);
		t9.setPrivateCreator("SIEMENS CSA HEADER");
		P(ds->putAndInsertString(t9, "20100114"));
	}
	if (c.bad()) {
		rtc_cause_set(cause, "cannot build the DICOM header: %s",
		    c.text());
		return RTC_ERR_INTERNAL;
	}
	rtc_buf_init(&csa, 1u << 20);
	if ((r = csa_header(vol, d, &csa)) != RTC_OK) {
		rtc_buf_free(&csa);
		return r;
	}
	{
		DcmTag t(0x0029, 0x1010, EVR_OB);
		t.setPrivateCreator("SIEMENS CSA HEADER");
		/* OB values have even length */
		if (csa.len % 2 != 0 && rtc_buf_append(&csa, "", 1) != RTC_OK) {
			rtc_buf_free(&csa);
			return RTC_ERR_NOMEM;
		}
		c = ds->putAndInsertUint8Array(t, (const Uint8 *)csa.data,
		    (unsigned long)csa.len);
	}
	rtc_buf_free(&csa);
	/* pixels: tiles row by row, rows back in top-down order */
	{
		size_t mrows = (size_t)tc * (size_t)ny;
		size_t mcols = (size_t)tc * (size_t)nx;
		std::vector<Uint16> px(mrows * mcols, 0);
		const Uint16 *src = (const Uint16 *)vol->data;

		for (int k = 0; k < nz; k++) {
			size_t tr = (size_t)(k / tc), tcol = (size_t)(k % tc);
			for (int row = 0; row < ny; row++) {
				const Uint16 *s = src + ((size_t)k * (size_t)ny +
				    (size_t)(ny - 1 - row)) * (size_t)nx;
				Uint16 *dd = px.data() + (tr * (size_t)ny +
				    (size_t)row) * mcols + tcol * (size_t)nx;
				memcpy(dd, s, (size_t)nx * sizeof(Uint16));
			}
		}
		if (c.good())
			c = ds->putAndInsertUint16Array(DCM_PixelData, px.data(),
			    (unsigned long)px.size());
	}
#undef P
	if (c.bad()) {
		rtc_cause_set(cause, "cannot build the DICOM object: %s",
		    c.text());
		return RTC_ERR_INTERNAL;
	}
	return RTC_OK;
}

} // namespace

extern "C" int
rtc_dicom_write_mosaic(const struct rtc_volume *vol,
    const struct rtc_dicom_mosaic_desc *d, struct rtc_buf *out, char **cause)
{
	if (vol == NULL || d == NULL || out == NULL || vol->data == NULL ||
	    vol->nt != 1 || vol->nz < 1 || vol->nz > RTC_DICOM_MAX_SLICES ||
	    (vol->dtype != RTC_DT_UINT16 && vol->dtype != RTC_DT_INT16)) {
		rtc_cause_set(cause, "a mosaic holds one volume of 16-bit "
		    "integers with 1..%d slices", RTC_DICOM_MAX_SLICES);
		return RTC_ERR_INVAL;
	}
	try {
		DcmFileFormat ff;
		int r = build(vol, d, ff, cause);
		if (r != RTC_OK)
			return r;
		std::vector<unsigned char> chunk(1u << 16);
		DcmOutputBufferStream os(chunk.data(), (offile_off_t)chunk.size());
		OFCondition c;
		ff.transferInit();
		do {
			void *p = NULL;
			offile_off_t n = 0;

			c = ff.write(os, EXS_LittleEndianExplicit,
			    EET_ExplicitLength, NULL);
			os.flushBuffer(p, n);
			if (n > 0 && (r = rtc_buf_append(out, p, (size_t)n)) !=
			    RTC_OK) {
				ff.transferEnd();
				return r;
			}
		} while (c == EC_StreamNotifyClient);
		ff.transferEnd();
		if (c.bad()) {
			rtc_cause_set(cause, "DCMTK cannot encode the object: %s",
			    c.text());
			return RTC_ERR_INTERNAL;
		}
		return RTC_OK;
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "internal error writing DICOM");
		return RTC_ERR_INTERNAL;
	}
}

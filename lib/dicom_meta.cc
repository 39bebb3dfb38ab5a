/*
 * dicom_meta: a DCMTK dataset's attributes -> struct rtc_dicom_meta.
 *
 * Design: read only what the conversion and the realtime path use, never
 * a patient attribute. Every value is copied into fixed-size fields with
 * bounds, numbers are taken whatever VR the file used (DS, IS, FD, FL,
 * US, ...), and vendor details come from their documented places:
 *   Siemens  CSA image header (0029,xx10) "SIEMENS CSA HEADER": mosaic
 *            tile count, slice normal, slice times, PE polarity; the
 *            XA "SIEMENS MR SDI 02" per-frame block (0021,11FE) for
 *            slice times (0021,xx04) and PE polarity (0021,xx1C);
 *   GE       (0021,xx4F) LocationsInAcquisition ("GEMS_RELA_01"), the
 *            protocol block (0025,xx1B) ("GEMS_SERS_01") for slice order,
 *            and the header in (0043,xx2A) ("GEMS_PARM_01") for the PE
 *            polarity.
 * Private elements are found by their creator string, not by a fixed
 * block number. Multi-frame (enhanced) files read their functional
 * groups: per-frame values win over shared ones.
 */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

/* rtc_build.h is not included: DCMTK's osconfig.h, which must come first,
 * defines PACKAGE_NAME and friends too. Nothing here needs it. */

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "dicom_internal.hh"

extern "C" {
#include "csa.h"
#include "error.h"
}

namespace {

const double UNKNOWN_TIME = -1e9;

/* Copy s into dst (n bytes) without leading/trailing blanks; control
 * characters become '_'. */
void
copy_trim(char *dst, size_t n, const char *s)
{
	size_t len, k = 0;

	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	for (k = 0; k < len && k + 1 < n; k++) {
		unsigned char c = (unsigned char)s[k];
		dst[k] = c < 0x20 || c == 0x7f ? '_' : (char)c;
	}
	dst[k] = '\0';
}

bool
get_str(DcmItem *it, const DcmTagKey &key, char *out, size_t n)
{
	OFString s;

	if (it == NULL || it->findAndGetOFStringArray(key, s, false).bad())
		return false;
	copy_trim(out, n, s.c_str());
	return out[0] != '\0';
}

/* Value pos of a numeric element of any numeric VR. */
bool
get_num(DcmItem *it, const DcmTagKey &key, double *out, unsigned long pos = 0)
{
	DcmElement *e = NULL;
	double v = 0.0;
	OFCondition c;

	if (it == NULL || it->findAndGetElement(key, e, false).bad() ||
	    e == NULL || e->getLength() == 0)
		return false;
	switch (e->ident()) {
	case EVR_DS:
	case EVR_FD: {
		Float64 f;
		c = e->getFloat64(f, pos);
		v = f;
		break;
	}
	case EVR_FL: {
		Float32 f;
		c = e->getFloat32(f, pos);
		v = f;
		break;
	}
	case EVR_IS:
	case EVR_SL: {
		Sint32 s;
		c = e->getSint32(s, pos);
		v = s;
		break;
	}
	case EVR_SS: {
		Sint16 s;
		c = e->getSint16(s, pos);
		v = s;
		break;
	}
	case EVR_US: {
		Uint16 u;
		c = e->getUint16(u, pos);
		v = u;
		break;
	}
	case EVR_UL: {
		Uint32 u;
		c = e->getUint32(u, pos);
		v = u;
		break;
	}
	default:
		return false;
	}
	if (c.bad() || !std::isfinite(v))
		return false;
	*out = v;
	return true;
}

bool
get_int(DcmItem *it, const DcmTagKey &key, int *out, unsigned long pos = 0)
{
	double v;

	if (!get_num(it, key, &v, pos) || v != std::floor(v) ||
	    v < -2147483647.0 || v > 2147483647.0)
		return false;
	*out = (int)v;
	return true;
}

bool
get_nums(DcmItem *it, const DcmTagKey &key, double *out, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (!get_num(it, key, &out[i], i))
			return false;
	return true;
}

/* Item idx of sequence key in it, or NULL. */
DcmItem *
sub_item(DcmItem *it, const DcmTagKey &key, long idx = 0)
{
	DcmItem *s = NULL;

	if (it == NULL || it->findAndGetSequenceItem(key, s, idx, false).bad())
		return NULL;
	return s;
}

/* The element tag (group, creator's block, elem) of a private element,
 * found by the creator string. RET: false when the creator is absent. */
bool
private_tag(DcmItem *it, Uint16 group, const char *creator, Uint8 elem,
    DcmTagKey *out)
{
	DcmObject *o = NULL;

	if (it == NULL)
		return false;
	while ((o = it->nextInContainer(o)) != NULL) {
		const DcmTag &t = o->getTag();
		Uint16 g = t.getGroup(), e = t.getElement();

		if (g > group)
			break;
		if (g != group || e < 0x10 || e > 0xff)
			continue;
		OFString s;
		if (static_cast<DcmElement *>(o)->getOFStringArray(s).good()) {
			char v[RTC_DICOM_STR];
			copy_trim(v, sizeof(v), s.c_str());
			if (strcmp(v, creator) == 0) {
				*out = DcmTagKey(group, (Uint16)(e << 8 | elem));
				return true;
			}
		}
	}
	return false;
}

/* Bytes of a private OB element. */
bool
private_bytes(DcmItem *it, Uint16 group, const char *creator, Uint8 elem,
    const Uint8 **p, size_t *n)
{
	DcmTagKey key;
	DcmElement *e = NULL;
	Uint8 *q = NULL;

	if (!private_tag(it, group, creator, elem, &key) ||
	    it->findAndGetElement(key, e, false).bad() || e == NULL)
		return false;
	if (e->getUint8Array(q).bad() || q == NULL || e->getLength() == 0)
		return false;
	*p = q;
	*n = e->getLength();
	return true;
}

void
meta_init(struct rtc_dicom_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->acq.series_number = m->acq.acquisition_number = -1;
	m->acq.instance_number = -1;
	m->acq.acquisition_time = -1.0;
	m->nslices = m->nvolumes = m->nframes = 1;
	m->pe_positive = -1;
	m->temporal_index = m->stack_position = -1;
	m->locations_in_acq = m->images_in_acq = -1;
	m->ge_slice_order = m->ge_mb_factor = m->ge_pe_flipped = -1;
	m->trigger_time = -1.0;
	m->echo_number = -1;
	m->rescale_slope = 1.0;
}

/* Siemens CSA image header: mosaic size, slice normal, slice times, PE
 * polarity. A malformed header is an error only for a mosaic. */
int
read_csa(DcmItem *ds, struct rtc_dicom_meta *m, long *mosaic_n,
    double *normal, bool *have_normal, double *times, size_t *ntimes,
    const char *name, char **cause)
{
	const Uint8 *p;
	size_t n;
	struct rtc_csa *csa = NULL;
	long v;
	int r;

	*mosaic_n = 0;
	*have_normal = false;
	*ntimes = 0;
	if (!private_bytes(ds, 0x0029, "SIEMENS CSA HEADER", 0x10, &p, &n))
		return RTC_OK;
	/* a broken CSA header matters only when the image is a mosaic */
	if (strstr(m->image_type, "MOSAIC") != NULL) {
		r = rtc_csa_parse(p, n, &csa, cause);
		if (r != RTC_OK) {
			rtc_cause_wrap(cause, "%s: CSA image header",
			    name ? name : "DICOM");
			return r;
		}
	} else if (rtc_csa_parse(p, n, &csa, NULL) != RTC_OK)
		return RTC_OK;
	if (rtc_csa_get_long(csa, "NumberOfImagesInMosaic", 0, &v) == RTC_OK)
		*mosaic_n = v;
	if (rtc_csa_get_double(csa, "SliceNormalVector", 0, &normal[0]) ==
	    RTC_OK &&
	    rtc_csa_get_double(csa, "SliceNormalVector", 1, &normal[1]) ==
	    RTC_OK &&
	    rtc_csa_get_double(csa, "SliceNormalVector", 2, &normal[2]) ==
	    RTC_OK && rtc_vec3_normalize(normal) == 0)
		*have_normal = true;
	if (rtc_csa_get_doubles(csa, "MosaicRefAcqTimes", times,
	    RTC_DICOM_MAX_SLICES, ntimes) != RTC_OK)
		*ntimes = 0;
	if (rtc_csa_get_long(csa, "PhaseEncodingDirectionPositive", 0, &v) ==
	    RTC_OK && (v == 0 || v == 1))
		m->pe_positive = (int)v;
	rtc_csa_free(csa);
	return RTC_OK;
}

/* GE: locations per volume, the protocol block's slice order, and the
 * phase-encoding polarity of an EPI. */
void
read_ge(DcmItem *ds, struct rtc_dicom_meta *m)
{
	DcmTagKey key;
	const Uint8 *p;
	size_t n;
	int so, mb, flipped;

	if (private_tag(ds, 0x0021, "GEMS_RELA_01", 0x4f, &key))
		(void)get_int(ds, key, &m->locations_in_acq);
	if (private_bytes(ds, 0x0025, "GEMS_SERS_01", 0x1b, &p, &n) &&
	    rtc_dicom_ge_protocol(p, n, &so, &mb, NULL) == RTC_OK) {
		m->ge_slice_order = so;
		m->ge_mb_factor = mb;
	}
	/* Unflipped is the column direction's negative (anterior to
	 * posterior for an axial EPI), as dcm2niix writes it */
	if (private_bytes(ds, 0x0043, "GEMS_PARM_01", 0x2a, &p, &n) &&
	    rtc_dicom_ge_pe_polarity(p, n, &flipped) == RTC_OK) {
		m->ge_pe_flipped = flipped;
		m->pe_positive = flipped ? 0 : 1;
	}
}

/* InPlanePhaseEncodingDirection: ROW/COL (classic), ROW/COLUMN (enhanced) */
char
pe_code(const char *s)
{
	if (strcmp(s, "ROW") == 0)
		return 'R';
	if (strcmp(s, "COL") == 0 || strcmp(s, "COLUMN") == 0)
		return 'C';
	return 0;
}

bool
same_pos(double a, double b)
{
	return std::fabs(a - b) < 0.01;
}

/*
 * Multi-frame: per-frame position, temporal index and time; sort into
 * (volume, slice) and fill the geometry. Frames of one volume must share
 * the orientation of the first.
 */
int
read_frames(struct rtc_dicom *d, DcmItem *ds, struct rtc_dicom_meta *m,
    const char *name, char **cause)
{
	DcmSequenceOfItems *pf = NULL;
	DcmItem *shared = sub_item(ds, DCM_SharedFunctionalGroupsSequence);
	DcmItem *fi = NULL, *g;
	double normal[3];
	int nf = m->nframes, f, nz, nt, k, t;
	bool all_temporal = true, all_stack = true, all_sdi = true;

	if (ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, pf,
	    false).bad() || pf == NULL || (long)pf->card() != nf) {
		rtc_cause_set(cause, "%s: multi-frame image without one "
		    "per-frame functional group per frame", name);
		return RTC_ERR_FORMAT;
	}
	if ((size_t)nf > d->frames_cap) {
		void *p = realloc(d->frames, (size_t)nf * sizeof(*d->frames));
		if (p == NULL)
			return RTC_ERR_NOMEM;
		d->frames = (struct rtc_dicom_frame *)p;
		d->frames_cap = (size_t)nf;
	}
	if ((size_t)nf > d->order_cap) {
		void *p = realloc(d->order, (size_t)nf * sizeof(*d->order));
		if (p == NULL)
			return RTC_ERR_NOMEM;
		d->order = (int *)p;
		d->order_cap = (size_t)nf;
	}
	/* shared values first; per-frame ones (first frame) override */
	fi = static_cast<DcmItem *>(pf->nextInContainer(NULL));
	for (int pass = 0; pass < 2; pass++) {
		DcmItem *src = pass == 0 ? shared : fi;

		if ((g = sub_item(src, DCM_PlaneOrientationSequence)) != NULL)
			(void)get_nums(g, DCM_ImageOrientationPatient, m->iop, 6);
		if ((g = sub_item(src, DCM_PixelMeasuresSequence)) != NULL) {
			(void)get_nums(g, DCM_PixelSpacing, m->pixel_spacing, 2);
			(void)get_num(g, DCM_SliceThickness, &m->slice_thickness);
			(void)get_num(g, DCM_SpacingBetweenSlices,
			    &m->slice_spacing);
		}
		if ((g = sub_item(src, DCM_MRTimingAndRelatedParametersSequence))
		    != NULL) {
			double v;
			if (get_num(g, DCM_RepetitionTime, &v) && v > 0)
				m->tr = v / 1000.0;
			if (get_num(g, DCM_FlipAngle, &v) && v > 0)
				m->flip_angle = v;
		}
		if ((g = sub_item(src, DCM_MREchoSequence)) != NULL) {
			double v;
			if (get_num(g, DCM_EffectiveEchoTime, &v) && v > 0)
				m->te = v / 1000.0;
		}
		if ((g = sub_item(src, DCM_PixelValueTransformationSequence))
		    != NULL) {
			(void)get_num(g, DCM_RescaleSlope, &m->rescale_slope);
			(void)get_num(g, DCM_RescaleIntercept,
			    &m->rescale_intercept);
		}
		if ((g = sub_item(src, DCM_MRFOVGeometrySequence)) != NULL) {
			char pe[8];
			if (get_str(g, DCM_InPlanePhaseEncodingDirection, pe,
			    sizeof(pe)))
				m->pe_dir = pe_code(pe);
		}
	}
	rtc_vec3_cross(m->iop, m->iop + 3, normal);
	if (rtc_vec3_normalize(normal) != 0) {
		rtc_cause_set(cause, "%s: no usable ImageOrientationPatient",
		    name);
		return RTC_ERR_FORMAT;
	}
	f = 0;
	for (fi = NULL; (fi = static_cast<DcmItem *>(pf->nextInContainer(fi)))
	    != NULL && f < nf; f++) {
		struct rtc_dicom_frame *fr = &d->frames[f];
		DcmTagKey key;
		char dt[40];

		fr->src = f;
		fr->temporal = fr->stack = -1;
		fr->time = fr->sdi_time = UNKNOWN_TIME;
		g = sub_item(fi, DCM_PlanePositionSequence);
		if (g == NULL)
			g = sub_item(shared, DCM_PlanePositionSequence);
		if (g == NULL || !get_nums(g, DCM_ImagePositionPatient,
		    fr->pos, 3)) {
			rtc_cause_set(cause, "%s: frame %d has no "
			    "ImagePositionPatient", name, f + 1);
			return RTC_ERR_FORMAT;
		}
		fr->proj = rtc_vec3_dot(fr->pos, normal);
		if ((g = sub_item(fi, DCM_FrameContentSequence)) != NULL) {
			(void)get_int(g, DCM_TemporalPositionIndex, &fr->temporal);
			(void)get_int(g, DCM_InStackPositionNumber, &fr->stack);
			if (get_str(g, DCM_FrameAcquisitionDateTime, dt,
			    sizeof(dt)))
				(void)rtc_dicom_parse_dt_time(dt, &fr->time);
		}
		/* Siemens XA: the SDI block's relative time is what the
		 * scanner reports as the slice time (it carries more digits
		 * than the frame's date-time) */
		if (m->vendor == RTC_VENDOR_SIEMENS &&
		    private_tag(fi, 0x0021, "SIEMENS MR SDI 02", 0xfe, &key) &&
		    (g = sub_item(fi, key)) != NULL) {
			DcmTagKey tk;
			double v;
			int pos;
			if (private_tag(g, 0x0021, "SIEMENS MR SDI 02", 0x04,
			    &tk) && get_num(g, tk, &v))
				fr->sdi_time = v;
			if (f == 0 && private_tag(g, 0x0021,
			    "SIEMENS MR SDI 02", 0x1c, &tk) &&
			    get_int(g, tk, &pos) && (pos == 0 || pos == 1))
				m->pe_positive = pos;
		}
		if (fr->sdi_time <= UNKNOWN_TIME / 2)
			all_sdi = false;
		if (fr->temporal < 0)
			all_temporal = false;
		if (fr->stack < 0)
			all_stack = false;
	}
	if (f != nf) {
		rtc_cause_set(cause, "%s: %d frames but %d per-frame groups",
		    name, nf, f);
		return RTC_ERR_FORMAT;
	}
	/* distinct positions = slices per volume */
	{
		std::vector<double> pr((size_t)nf);
		for (f = 0; f < nf; f++)
			pr[(size_t)f] = d->frames[f].proj;
		std::sort(pr.begin(), pr.end());
		nz = 1;
		for (f = 1; f < nf; f++)
			if (!same_pos(pr[(size_t)f], pr[(size_t)f - 1]))
				nz++;
	}
	if (nz > RTC_DICOM_MAX_SLICES || nf % nz != 0) {
		rtc_cause_set(cause, "%s: %d frames do not make whole volumes "
		    "of %d slices", name, nf, nz);
		return nz > RTC_DICOM_MAX_SLICES ? RTC_ERR_TOO_BIG :
		    RTC_ERR_FORMAT;
	}
	nt = nf / nz;
	/* sort: volume (temporal index, else order of appearance at each
	 * position), then slice (stack position, else along the normal) */
	{
		std::vector<int> idx((size_t)nf), seen((size_t)nf, 0);
		for (f = 0; f < nf; f++)
			idx[(size_t)f] = f;
		const struct rtc_dicom_frame *fr = d->frames;
		bool by_stack = all_stack;
		if (!all_temporal) {
			/* rank of each frame among the frames at its position,
			 * in file order */
			std::vector<int> bypos(idx);
			std::stable_sort(bypos.begin(), bypos.end(),
			    [&](int a, int b) { return fr[a].proj < fr[b].proj &&
			    !same_pos(fr[a].proj, fr[b].proj); });
			for (f = 0; f < nf; f++) {
				int cur = bypos[(size_t)f];
				seen[(size_t)cur] = f > 0 && same_pos(fr[cur].proj,
				    fr[bypos[(size_t)f - 1]].proj) ?
				    seen[(size_t)bypos[(size_t)f - 1]] + 1 : 0;
			}
		}
		std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
			int ta = all_temporal ? fr[a].temporal : seen[(size_t)a];
			int tb = all_temporal ? fr[b].temporal : seen[(size_t)b];
			if (ta != tb)
				return ta < tb;
			if (by_stack && fr[a].stack != fr[b].stack)
				return fr[a].stack < fr[b].stack;
			return fr[a].proj < fr[b].proj;
		});
		for (f = 0; f < nf; f++)
			d->order[f] = idx[(size_t)f];
	}
	/* every volume must hold each position once, in the same order */
	for (t = 1; t < nt; t++)
		for (k = 0; k < nz; k++)
			if (!same_pos(d->frames[d->order[t * nz + k]].proj,
			    d->frames[d->order[k]].proj)) {
				rtc_cause_set(cause, "%s: volume %d of the file "
				    "does not repeat the slice positions of "
				    "volume 1", name, t + 1);
				return RTC_ERR_FORMAT;
			}
	m->nslices = nz;
	m->nvolumes = nt;
	memcpy(m->ipp, d->frames[d->order[0]].pos, sizeof(m->ipp));
	memcpy(m->ipp_last, d->frames[d->order[nz - 1]].pos,
	    sizeof(m->ipp_last));
	/* slice direction: the plane normal, pointing from slice 0 to the
	 * last; step length: the declared SpacingBetweenSlices (exact, where
	 * positions carry only DS digits), else the distance of the first
	 * two slices. dcm2niix does the same, so the two agree to the
	 * micrometre. */
	if (nz > 1) {
		double dlt[3], p1[3];
		memcpy(p1, d->frames[d->order[1]].pos, sizeof(p1));
		for (k = 0; k < 3; k++)
			dlt[k] = m->ipp_last[k] - m->ipp[k];
		if (rtc_vec3_dot(dlt, normal) < 0)
			for (k = 0; k < 3; k++)
				normal[k] = -normal[k];
		for (k = 0; k < 3; k++)
			dlt[k] = p1[k] - m->ipp[k];
		m->slice_distance = m->slice_spacing > 0 ? m->slice_spacing :
		    std::sqrt(rtc_vec3_dot(dlt, dlt));
	} else
		m->slice_distance = m->slice_spacing > 0 ? m->slice_spacing :
		    m->slice_thickness > 0 ? m->slice_thickness : 1.0;
	memcpy(m->slice_normal, normal, sizeof(normal));
	m->stack_position = d->frames[d->order[0]].stack;
	m->temporal_index = d->frames[d->order[0]].temporal;
	/* slice times of the first volume, relative to its earliest */
	{
		double t0 = 1e300;
		bool ok = true;
		for (k = 0; k < nz; k++) {
			const struct rtc_dicom_frame *fr = &d->frames[d->order[k]];
			double v = all_sdi ? fr->sdi_time : fr->time;
			if (v <= UNKNOWN_TIME / 2) {
				ok = false;
				break;
			}
			t0 = std::min(t0, v);
		}
		if (ok && nz > 1) {
			for (k = 0; k < nz; k++)
				m->slice_times[k] = (all_sdi ?
				    d->frames[d->order[k]].sdi_time :
				    d->frames[d->order[k]].time) - t0;
			m->n_slice_times = nz;
		}
	}
	return RTC_OK;
}

} // namespace

int
rtc_dicom_meta_fill(struct rtc_dicom *d, DcmItem *ds, E_TransferSyntax xfer,
    const char *name, struct rtc_dicom_meta *m, char **cause)
{
	char buf[RTC_DICOM_STR], tm[40];
	double v, normal[3] = { 0, 0, 0 };
	double times[RTC_DICOM_MAX_SLICES];
	size_t ntimes = 0;
	long mosaic_n = 0;
	bool have_normal = false;
	int i, r, spp = 1;

	meta_init(m);
	if (name == NULL)
		name = "DICOM";
	copy_trim(m->transfer_syntax, sizeof(m->transfer_syntax),
	    DcmXfer(xfer).getXferID());
	(void)get_str(ds, DCM_Manufacturer, m->manufacturer,
	    sizeof(m->manufacturer));
	m->vendor = rtc_dicom_vendor(m->manufacturer);
	(void)get_str(ds, DCM_ManufacturerModelName, m->model, sizeof(m->model));
	(void)get_str(ds, DCM_SoftwareVersions, m->software, sizeof(m->software));
	(void)get_str(ds, DCM_SeriesDescription, m->series_description,
	    sizeof(m->series_description));
	(void)get_str(ds, DCM_ProtocolName, m->protocol_name,
	    sizeof(m->protocol_name));
	if (!get_str(ds, DCM_SequenceName, m->sequence_name,
	    sizeof(m->sequence_name)))
		(void)get_str(ds, DCM_PulseSequenceName, m->sequence_name,
		    sizeof(m->sequence_name));
	(void)get_str(ds, DCM_ImageType, m->image_type, sizeof(m->image_type));
	(void)get_str(ds, DCM_MRAcquisitionType, m->mr_acq_type,
	    sizeof(m->mr_acq_type));
	(void)get_str(ds, DCM_SOPInstanceUID, m->sop_instance_uid,
	    sizeof(m->sop_instance_uid));
	(void)get_str(ds, DCM_SeriesInstanceUID, m->acq.series_uid,
	    sizeof(m->acq.series_uid));
	(void)get_int(ds, DCM_SeriesNumber, &m->acq.series_number);
	(void)get_int(ds, DCM_AcquisitionNumber, &m->acq.acquisition_number);
	(void)get_int(ds, DCM_InstanceNumber, &m->acq.instance_number);
	if (get_str(ds, DCM_AcquisitionTime, tm, sizeof(tm)))
		(void)rtc_dicom_parse_tm(tm, &m->acq.acquisition_time);
	if (m->acq.acquisition_time < 0 &&
	    get_str(ds, DCM_AcquisitionDateTime, tm, sizeof(tm)))
		(void)rtc_dicom_parse_dt_time(tm, &m->acq.acquisition_time);
	if (get_num(ds, DCM_RepetitionTime, &v) && v > 0)
		m->tr = v / 1000.0;
	if (get_num(ds, DCM_EchoTime, &v) && v > 0)
		m->te = v / 1000.0;
	if (get_num(ds, DCM_FlipAngle, &v) && v > 0)
		m->flip_angle = v;
	if (get_num(ds, DCM_MagneticFieldStrength, &v) && v > 0)
		m->field_strength = v;
	(void)get_num(ds, DCM_TriggerTime, &m->trigger_time);
	(void)get_int(ds, DCM_EchoNumbers, &m->echo_number);
	(void)get_int(ds, DCM_TemporalPositionIdentifier, &m->temporal_index);
	(void)get_int(ds, DCM_InStackPositionNumber, &m->stack_position);
	(void)get_int(ds, DCM_ImagesInAcquisition, &m->images_in_acq);
	if (get_str(ds, DCM_InPlanePhaseEncodingDirection, buf, sizeof(buf)))
		m->pe_dir = pe_code(buf);
	(void)get_num(ds, DCM_RescaleSlope, &m->rescale_slope);
	(void)get_num(ds, DCM_RescaleIntercept, &m->rescale_intercept);
	if (!(m->rescale_slope != 0.0))
		m->rescale_slope = 1.0;

	/* the image pixel module */
	if (!get_int(ds, DCM_Rows, &m->rows) || !get_int(ds, DCM_Columns,
	    &m->cols) || ds->tagExists(DCM_PixelData, false) == OFFalse) {
		rtc_cause_set(cause, "%s: not an image (no Rows, Columns or "
		    "PixelData)", name);
		return RTC_ERR_FORMAT;
	}
	if (m->rows <= 0 || m->cols <= 0 || m->rows > RTC_DICOM_MAX_DIM ||
	    m->cols > RTC_DICOM_MAX_DIM) {
		rtc_cause_set(cause, "%s: image of %dx%d pixels (1..%d allowed)",
		    name, m->cols, m->rows, RTC_DICOM_MAX_DIM);
		return RTC_ERR_TOO_BIG;
	}
	if (!get_int(ds, DCM_BitsAllocated, &m->bits_allocated))
		m->bits_allocated = 16;
	if (!get_int(ds, DCM_BitsStored, &m->bits_stored))
		m->bits_stored = m->bits_allocated;
	if (!get_int(ds, DCM_PixelRepresentation, &m->pixel_signed))
		m->pixel_signed = 0;
	(void)get_int(ds, DCM_SamplesPerPixel, &spp);
	if (spp != 1) {
		rtc_cause_set(cause, "%s: %d samples per pixel (colour images "
		    "are not MR data rtc converts)", name, spp);
		return RTC_ERR_FORMAT;
	}
	if (get_str(ds, DCM_PhotometricInterpretation, buf, sizeof(buf)) &&
	    strcmp(buf, "MONOCHROME2") != 0 && strcmp(buf, "MONOCHROME1") != 0) {
		rtc_cause_set(cause, "%s: photometric interpretation %s is not "
		    "MR data rtc converts", name, buf);
		return RTC_ERR_FORMAT;
	}
	if ((m->bits_allocated != 8 && m->bits_allocated != 16) ||
	    (m->bits_allocated == 8 && m->pixel_signed)) {
		rtc_cause_set(cause, "%s: %d-bit %s pixels are not MR data rtc "
		    "converts", name, m->bits_allocated, m->pixel_signed ?
		    "signed" : "unsigned");
		return RTC_ERR_FORMAT;
	}
	if (!get_int(ds, DCM_NumberOfFrames, &m->nframes) || m->nframes < 1)
		m->nframes = 1;
	if (m->nframes > RTC_DICOM_MAX_FRAMES) {
		rtc_cause_set(cause, "%s: %d frames (at most %d)", name,
		    m->nframes, RTC_DICOM_MAX_FRAMES);
		return RTC_ERR_TOO_BIG;
	}

	if (m->vendor == RTC_VENDOR_SIEMENS &&
	    (r = read_csa(ds, m, &mosaic_n, normal, &have_normal, times, &ntimes,
	    name, cause)) != RTC_OK)
		return r;
	if (m->vendor == RTC_VENDOR_GE)
		read_ge(ds, m);

	if (m->nframes > 1) {
		m->kind = RTC_DICOM_MULTIFRAME;
		return read_frames(d, ds, m, name, cause);
	}

	/* single-frame: plane geometry from the top level */
	if (!get_nums(ds, DCM_ImageOrientationPatient, m->iop, 6) ||
	    !get_nums(ds, DCM_ImagePositionPatient, m->ipp, 3)) {
		rtc_cause_set(cause, "%s: no ImageOrientationPatient or "
		    "ImagePositionPatient", name);
		return RTC_ERR_FORMAT;
	}
	if (!get_nums(ds, DCM_PixelSpacing, m->pixel_spacing, 2) ||
	    !(m->pixel_spacing[0] > 0) || !(m->pixel_spacing[1] > 0)) {
		rtc_cause_set(cause, "%s: no usable PixelSpacing", name);
		return RTC_ERR_FORMAT;
	}
	(void)get_num(ds, DCM_SliceThickness, &m->slice_thickness);
	(void)get_num(ds, DCM_SpacingBetweenSlices, &m->slice_spacing);
	if (!have_normal) {
		rtc_vec3_cross(m->iop, m->iop + 3, normal);
		if (rtc_vec3_normalize(normal) != 0) {
			rtc_cause_set(cause, "%s: ImageOrientationPatient is "
			    "degenerate", name);
			return RTC_ERR_FORMAT;
		}
	}
	memcpy(m->slice_normal, normal, sizeof(normal));

	if (mosaic_n == 0 && m->vendor == RTC_VENDOR_SIEMENS &&
	    strstr(m->image_type, "MOSAIC") != NULL) {
		DcmTagKey key;
		int n;
		if (private_tag(ds, 0x0019, "SIEMENS MR HEADER", 0x0a, &key) &&
		    get_int(ds, key, &n))
			mosaic_n = n;
	}
	if (mosaic_n > 1 && strstr(m->image_type, "MOSAIC") != NULL) {
		int tc = (int)std::ceil(std::sqrt((double)mosaic_n));
		double step;

		while ((long)tc * tc < mosaic_n)
			tc++;
		if (mosaic_n > RTC_DICOM_MAX_SLICES || m->rows % tc != 0 ||
		    m->cols % tc != 0) {
			rtc_cause_set(cause, "%s: mosaic of %dx%d cannot hold "
			    "%ld tiles", name, m->cols, m->rows, mosaic_n);
			return RTC_ERR_FORMAT;
		}
		m->kind = RTC_DICOM_MOSAIC;
		m->mosaic_cols = tc;
		m->nslices = (int)mosaic_n;
		double corner[3];
		memcpy(corner, m->ipp, sizeof(corner));
		int mr = m->rows, mc = m->cols;
		m->rows /= tc;
		m->cols /= tc;
		(void)rtc_dicom_mosaic_origin(corner, m->iop, m->pixel_spacing,
		    mr, mc, m->rows, m->cols, m->ipp);
		step = m->slice_spacing > 0 ? m->slice_spacing :
		    m->slice_thickness > 0 ? m->slice_thickness : 1.0;
		m->slice_distance = step;
		for (i = 0; i < 3; i++)
			m->ipp_last[i] = m->ipp[i] +
			    (m->nslices - 1) * step * normal[i];
		if (ntimes >= (size_t)m->nslices) {
			for (i = 0; i < m->nslices; i++)
				m->slice_times[i] = times[i] / 1000.0;
			m->n_slice_times = m->nslices;
		}
		return RTC_OK;
	}
	m->kind = RTC_DICOM_SLICE;
	m->slice_distance = m->slice_spacing > 0 ? m->slice_spacing :
	    m->slice_thickness > 0 ? m->slice_thickness : 1.0;
	memcpy(m->ipp_last, m->ipp, sizeof(m->ipp));
	return RTC_OK;
}

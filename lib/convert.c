/*
 * convert: DICOM in, NIfTI + BIDS sidecar out, one pair per series (see
 * convert.h for the behaviour on bad input).
 *
 * Design: two passes. The first reads headers only (DCMTK leaves pixel
 * data in the file) and keeps a compact entry per file, so that any
 * truncated or undecodable file stops the run before a byte is written.
 * The second decodes each series' files with one reusable scratch volume
 * and copies them into the series' 4D image, which is then written with
 * lib/nifti (temp + rename) next to its sidecar (lib/bids, temp +
 * rename). Nothing in the sidecar comes from a patient attribute: the
 * meta struct holds none.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bids.h"
#include "convert.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "nifti.h"
#include "series.h"

struct filelist {
	char **v;
	size_t n, cap;
};

static void
filelist_free(struct filelist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
filelist_add(struct filelist *l, const char *dir, const char *name)
{
	char *p;
	size_t n;

	if (l->n >= RTC_CONVERT_MAX_FILES)
		return RTC_ERR_TOO_BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return RTC_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (dir == NULL)
		p = strdup(name);
	else {
		n = strlen(dir) + strlen(name) + 2;
		if ((p = malloc(n)) != NULL)
			snprintf(p, n, "%s/%s", dir, name);
	}
	if (p == NULL)
		return RTC_ERR_NOMEM;
	l->v[l->n++] = p;
	return RTC_OK;
}

static int
str_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the regular files under dir (recursively, sorted, hidden names
 * skipped). */
static int
walk(const char *dir, int depth, struct filelist *out, char **cause)
{
	struct filelist names = { NULL, 0, 0 };
	struct dirent *de;
	DIR *d;
	size_t i;
	int ret = RTC_OK;

	if (depth > RTC_CONVERT_MAX_DEPTH) {
		rtc_cause_set(cause, "%s: directories nested deeper than %d",
		    dir, RTC_CONVERT_MAX_DEPTH);
		return RTC_ERR_TOO_BIG;
	}
	if ((d = opendir(dir)) == NULL) {
		rtc_cause_set(cause, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((ret = filelist_add(&names, NULL, de->d_name)) != RTC_OK)
			break;
	}
	closedir(d);
	if (ret == RTC_OK)
		qsort(names.v, names.n, sizeof(*names.v), str_qcmp);
	for (i = 0; ret == RTC_OK && i < names.n; i++) {
		char *p;
		size_t n = strlen(dir) + strlen(names.v[i]) + 2;
		struct stat st;

		if ((p = malloc(n)) == NULL) {
			ret = RTC_ERR_NOMEM;
			break;
		}
		snprintf(p, n, "%s/%s", dir, names.v[i]);
		if (stat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				ret = walk(p, depth + 1, out, cause);
			else if (S_ISREG(st.st_mode))
				ret = filelist_add(out, NULL, p);
		}
		free(p);
	}
	if (ret == RTC_ERR_TOO_BIG && cause != NULL && *cause == NULL)
		rtc_cause_set(cause, "more than %d files", RTC_CONVERT_MAX_FILES);
	filelist_free(&names);
	return ret;
}

static int
collect(const char *const *inputs, size_t ninputs, struct filelist *files,
    char **cause)
{
	size_t i;
	int r;

	for (i = 0; i < ninputs; i++) {
		if (rtc_fs_is_dir(inputs[i]))
			r = walk(inputs[i], 0, files, cause);
		else if (rtc_fs_is_file(inputs[i]))
			r = filelist_add(files, NULL, inputs[i]);
		else {
			rtc_cause_set(cause, "%s: no such file or directory",
			    inputs[i]);
			r = RTC_ERR_NOT_FOUND;
		}
		if (r != RTC_OK)
			return r;
	}
	return RTC_OK;
}

int
rtc_convert_collect(const char *const *inputs, size_t ninputs, char ***files,
    size_t *nfiles, char **cause)
{
	struct filelist l = { NULL, 0, 0 };
	int r;

	if ((r = collect(inputs, ninputs, &l, cause)) != RTC_OK) {
		filelist_free(&l);
		return r;
	}
	*files = l.v;
	*nfiles = l.n;
	return RTC_OK;
}

void
rtc_convert_files_free(char **files, size_t n)
{
	struct filelist l = { files, n, n };

	filelist_free(&l);
}

void
rtc_convert_outputs_free(struct rtc_convert_output *o, size_t n)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(o[i].nifti);
		free(o[i].sidecar);
	}
	free(o);
}

void
rtc_convert_format_time(double t, char *out, size_t outsz)
{
	long us, h, m;
	double s;

	if (t < 0)
		t = 0;
	us = lround(t * 1e6);
	h = us / 3600000000L;
	us -= h * 3600000000L;
	m = us / 60000000L;
	us -= m * 60000000L;
	s = us / 1e6;
	snprintf(out, outsz, "%02ld:%02ld:%09.6f", h % 24, m, s);
}

const char *
rtc_convert_pe_direction(const struct rtc_dicom_meta *m, int *axis_only)
{
	*axis_only = 0;
	if (m->pe_dir == 'C') {
		/* rows are stored bottom-up: the stored column direction is
		 * the negative j axis */
		if (m->pe_positive == 1)
			return "j-";
		if (m->pe_positive == 0)
			return "j";
		*axis_only = 1;
		return "j";
	}
	if (m->pe_dir == 'R') {
		if (m->pe_positive == 1)
			return "i";
		if (m->pe_positive == 0)
			return "i-";
		*axis_only = 1;
		return "i";
	}
	return NULL;
}

void
rtc_convert_basename(const struct rtc_dicom_meta *m, char *out, size_t outsz)
{
	const char *d = m->series_description[0] != '\0' ?
	    m->series_description : m->protocol_name;
	char clean[RTC_DICOM_STR];
	size_t i, k = 0;
	int under = 0;

	for (i = 0; d[i] != '\0' && k + 1 < sizeof(clean); i++) {
		unsigned char c = (unsigned char)d[i];

		if (isalnum(c) || c == '-') {
			clean[k++] = (char)c;
			under = 0;
		} else if (!under && k > 0) {
			clean[k++] = '_';
			under = 1;
		}
	}
	while (k > 0 && clean[k - 1] == '_')
		k--;
	clean[k] = '\0';
	if (k == 0)
		snprintf(clean, sizeof(clean), "series");
	snprintf(out, outsz, "%03d_%s", m->acq.series_number >= 0 ?
	    m->acq.series_number : 0, clean);
}

static int
set_num(json_t *o, const char *k, double v)
{
	return json_object_set_new(o, k, json_real(v));
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	return json_object_set_new(o, k, json_string(v));
}

json_t *
rtc_convert_sidecar(const struct rtc_dicom_meta *m,
    const struct rtc_volume *vol, double acq_time)
{
	json_t *o = json_object(), *a;
	const char *pe, *vendor = rtc_dicom_vendor_name(m->vendor);
	char buf[32];
	int axis_only, k, r = 0;

	if (o == NULL)
		return NULL;
	r |= set_str(o, "Modality", "MR");
	if (m->field_strength > 0)
		r |= set_num(o, "MagneticFieldStrength", m->field_strength);
	r |= set_str(o, "Manufacturer", vendor != NULL ? vendor :
	    m->manufacturer);
	r |= set_str(o, "ManufacturersModelName", m->model);
	r |= set_str(o, "SoftwareVersions", m->software);
	r |= set_str(o, "MRAcquisitionType", m->mr_acq_type);
	r |= set_str(o, "SeriesDescription", m->series_description);
	r |= set_str(o, "ProtocolName", m->protocol_name);
	r |= set_str(o, "SequenceName", m->sequence_name);
	if (m->image_type[0] != '\0') {
		char t[RTC_DICOM_STR], *p, *q;

		snprintf(t, sizeof(t), "%s", m->image_type);
		a = json_array();
		if (a == NULL)
			r = -1;
		for (p = t; a != NULL && p != NULL; p = q) {
			q = strchr(p, '\\');
			if (q != NULL)
				*q++ = '\0';
			r |= json_array_append_new(a, json_string(p));
		}
		if (a != NULL)
			r |= json_object_set_new(o, "ImageType", a);
	}
	if (m->acq.series_number >= 0)
		r |= json_object_set_new(o, "SeriesNumber",
		    json_integer(m->acq.series_number));
	if (acq_time >= 0) {
		rtc_convert_format_time(acq_time, buf, sizeof(buf));
		r |= set_str(o, "AcquisitionTime", buf);
	}
	if (m->acq.acquisition_number >= 0)
		r |= json_object_set_new(o, "AcquisitionNumber",
		    json_integer(m->acq.acquisition_number));
	if (m->slice_thickness > 0)
		r |= set_num(o, "SliceThickness", m->slice_thickness);
	if (m->slice_spacing > 0)
		r |= set_num(o, "SpacingBetweenSlices", m->slice_spacing);
	if (m->te > 0)
		r |= set_num(o, "EchoTime", m->te);
	if (vol->tr > 0)
		r |= set_num(o, "RepetitionTime", vol->tr);
	if (m->flip_angle > 0)
		r |= set_num(o, "FlipAngle", m->flip_angle);
	pe = rtc_convert_pe_direction(m, &axis_only);
	if (pe != NULL)
		r |= set_str(o, axis_only ? "PhaseEncodingAxis" :
		    "PhaseEncodingDirection", pe);
	if (m->ge_pe_flipped >= 0)
		r |= set_str(o, "PhaseEncodingPolarityGE", m->ge_pe_flipped ?
		    "Flipped" : "Unflipped");
	if (m->pe_dir != 0)
		r |= set_str(o, "InPlanePhaseEncodingDirectionDICOM",
		    m->pe_dir == 'C' ? "COL" : "ROW");
	if (vol->slice_timing != NULL) {
		a = json_array();
		for (k = 0; a != NULL && k < vol->nz; k++)
			r |= json_array_append_new(a,
			    json_real(vol->slice_timing[k]));
		if (a == NULL)
			r = -1;
		else
			r |= json_object_set_new(o, "SliceTiming", a);
	}
	r |= set_str(o, "ConversionSoftware", "rtc");
	r |= set_str(o, "ConversionSoftwareVersion", PACKAGE_VERSION);
	if (r != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* RET: how far (mm) any corner of b's grid is from the same voxel of a. */
static double
affine_shift(const struct rtc_volume *a, const struct rtc_volume *b)
{
	double worst = 0.0;
	int c;

	for (c = 0; c < 8; c++) {
		double i = (c & 1) ? a->nx - 1 : 0, j = (c & 2) ? a->ny - 1 : 0;
		double k = (c & 4) ? a->nz - 1 : 0, wa[3], wb[3];

		rtc_volume_vox2world(a, i, j, k, wa);
		rtc_volume_vox2world(b, i, j, k, wb);
		worst = fmax(worst, sqrt((wa[0] - wb[0]) * (wa[0] - wb[0]) +
		    (wa[1] - wb[1]) * (wa[1] - wb[1]) +
		    (wa[2] - wb[2]) * (wa[2] - wb[2])));
	}
	return worst;
}

/* Unsigned 16-bit data that fits int16 is stored as int16. */
static void
narrow_uint16(struct rtc_volume *v)
{
	const uint16_t *p = v->data;
	size_t n = rtc_volume_nvox(v) * (size_t)v->nt, i;

	if (v->dtype != RTC_DT_UINT16)
		return;
	for (i = 0; i < n; i++)
		if (p[i] > 32767)
			return;
	v->dtype = RTC_DT_INT16;
}

struct run {
	struct rtc_ctx *ctx;
	const struct rtc_convert_opts *o;
	struct rtc_dicom *dec;
	struct rtc_volume *scratch;
	struct rtc_dicom_meta meta, meta0;
	char **used;              /* base names written in this run */
	size_t nused;
};

static void
on_dup(void *arg, const struct rtc_series_entry *dropped,
    const struct rtc_series_entry *kept)
{
	struct run *run = arg;

	rtc_log(run->ctx, WARN, "skipping %s: the same image as %s "
	    "(SOPInstanceUID)", dropped->path, kept->path);
}

/* A name not used yet in this run: base, base_2, base_3 ... */
static int
unique_base(struct run *run, const char *base, char *out, size_t outsz)
{
	char **v;
	size_t i;
	int n, clash;

	for (n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(out, outsz, "%s", base);
		else
			snprintf(out, outsz, "%s_%d", base, n);
		clash = 0;
		for (i = 0; i < run->nused && !clash; i++)
			clash = strcmp(run->used[i], out) == 0;
		if (!clash)
			break;
	}
	v = realloc(run->used, (run->nused + 1) * sizeof(*v));
	if (v == NULL)
		return RTC_ERR_NOMEM;
	run->used = v;
	if ((v[run->nused] = strdup(out)) == NULL)
		return RTC_ERR_NOMEM;
	run->nused++;
	return RTC_OK;
}

/* Decode, assemble and write one series. */
static int
convert_series(struct run *run, const struct rtc_series *s,
    struct rtc_convert_output *out, char **cause)
{
	struct rtc_volume *img = NULL, *sv = run->scratch;
	struct rtc_dicom_meta *m = &run->meta, *m0 = &run->meta0;
	size_t i, fbytes = 0;
	double acq_time = -1, moved = 0.0;
	char base[160], name[200];
	char *nifti = NULL, *sidecar = NULL;
	struct rtc_nifti_opts no;
	json_t *js = NULL;
	int r, nz = s->nz;

	for (i = 0; i < s->nfiles; i++) {
		const struct rtc_series_entry *e = s->files[i];

		if (rtc_ctx_stopping(run->ctx)) {
			r = RTC_ERR_CANCELLED;
			goto out;
		}
		if ((r = rtc_dicom_read_file(run->dec, e->path, 0, m, sv,
		    cause)) != RTC_OK)
			goto out;
		if (i == 0) {
			memcpy(m0, m, sizeof(*m0));
			img = rtc_volume_new(s->nx, s->ny, s->nz, s->nt, sv->dtype);
			if (img == NULL) {
				rtc_cause_set(cause, "series %d: cannot hold a "
				    "%dx%dx%dx%d image", s->series_number, s->nx,
				    s->ny, s->nz, s->nt);
				r = RTC_ERR_NOMEM;
				goto out;
			}
			if ((r = rtc_volume_copy_header(img, sv)) != RTC_OK)
				goto out;
			fbytes = (size_t)s->nx * (size_t)s->ny *
			    rtc_dtype_size(sv->dtype);
		}
		if (sv->dtype != img->dtype || sv->nx != s->nx ||
		    sv->ny != s->ny || (s->kind != RTC_DICOM_SLICE &&
		    sv->nz != s->nz)) {
			rtc_cause_set(cause, "%s: image size or type differs "
			    "from the rest of series %d", e->path,
			    s->series_number);
			r = RTC_ERR_FORMAT;
			goto out;
		}
		if (s->kind == RTC_DICOM_SLICE) {
			size_t t = i / (size_t)nz, k = i % (size_t)nz;

			memcpy((unsigned char *)img->data +
			    (t * (size_t)nz + k) * fbytes, sv->data, fbytes);
			if (t == 0 && m->acq.acquisition_time >= 0 &&
			    (acq_time < 0 || m->acq.acquisition_time < acq_time))
				acq_time = m->acq.acquisition_time;
		} else {
			size_t vb = rtc_volume_nbytes(sv);

			memcpy((unsigned char *)img->data + i * vb, sv->data, vb);
			if (i == 0)
				acq_time = m->acq.acquisition_time;
			else
				moved = fmax(moved, affine_shift(img, sv));
		}
	}
	if (moved > 1e-3)
		rtc_log(run->ctx, WARN, "series %d: the slice prescription "
		    "moves across volumes (up to %.3f mm, e.g. prospective "
		    "motion correction); the image keeps the first volume's",
		    s->series_number, moved);
	if (s->kind == RTC_DICOM_SLICE) {
		struct rtc_dicom_meta *geom = m;   /* reuse: decoding is done */
		int stack[RTC_DICOM_MAX_SLICES], k;
		double trig[RTC_DICOM_MAX_SLICES], acq[RTC_DICOM_MAX_SLICES];
		double times[RTC_DICOM_MAX_SLICES];

		rtc_series_stack_geometry(m0, s->files[0]->ipp,
		    s->files[nz > 1 ? 1 : 0]->ipp, s->files[nz - 1]->ipp, nz,
		    geom);
		rtc_dicom_meta_affine(geom, img->affine);
		rtc_volume_update_voxel_size(img);
		for (k = 0; k < nz; k++) {
			stack[k] = s->files[k]->stack_position;
			trig[k] = s->files[k]->trigger_time;
			acq[k] = s->files[k]->acq_time;
		}
		free(img->slice_timing);
		img->slice_timing = NULL;
		if (rtc_series_slice_times(m0, nz, stack, trig, acq, times)) {
			img->slice_timing = malloc((size_t)nz * sizeof(double));
			if (img->slice_timing == NULL) {
				r = RTC_ERR_NOMEM;
				goto out;
			}
			memcpy(img->slice_timing, times,
			    (size_t)nz * sizeof(double));
		}
	}
	img->tr = m0->tr;
	narrow_uint16(img);

	rtc_convert_basename(m0, base, sizeof(base));
	if (s->echoes > 1) {
		size_t bl = strlen(base);

		snprintf(base + bl, sizeof(base) - bl, "_e%d", s->echo_number);
	}
	if ((r = unique_base(run, base, name, sizeof(name))) != RTC_OK)
		goto out;
	{
		size_t n = strlen(run->o->outdir) + strlen(name) + 16;

		nifti = malloc(n);
		sidecar = malloc(n);
		if (nifti == NULL || sidecar == NULL) {
			r = RTC_ERR_NOMEM;
			goto out;
		}
		snprintf(nifti, n, "%s/%s.nii%s", run->o->outdir, name,
		    run->o->gz ? ".gz" : "");
		snprintf(sidecar, n, "%s/%s.json", run->o->outdir, name);
	}
	memset(&no, 0, sizeof(no));
	{
		char d[80];

		snprintf(d, sizeof(d), "TE=%g;TR=%g;rtc", m0->te * 1000.0,
		    img->tr);
		no.descrip = d;
		if (m0->pe_dir == 'C') {
			no.freq_dim = 1;
			no.phase_dim = 2;
		} else if (m0->pe_dir == 'R') {
			no.freq_dim = 2;
			no.phase_dim = 1;
		}
		no.slice_dim = 3;
		if ((r = rtc_nifti_write(nifti, img, &no, cause)) != RTC_OK)
			goto out;
	}
	if ((js = rtc_convert_sidecar(m0, img, acq_time)) == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	if ((r = rtc_bids_sidecar_write(sidecar, js, cause)) != RTC_OK) {
		(void)remove(nifti);
		goto out;
	}
	out->nifti = nifti;
	out->sidecar = sidecar;
	nifti = sidecar = NULL;
	out->series_number = s->series_number;
	out->nx = img->nx;
	out->ny = img->ny;
	out->nz = img->nz;
	out->nt = img->nt;
	out->dtype = img->dtype;
	out->tr = img->tr;
	out->nfiles = s->nfiles;
	out->ndup = s->ndup;
	r = RTC_OK;
out:
	json_decref(js);
	free(nifti);
	free(sidecar);
	rtc_volume_free(img);
	return r;
}

int
rtc_convert(struct rtc_ctx *ctx, const char *const *inputs, size_t ninputs,
    const struct rtc_convert_opts *o, struct rtc_convert_output **outs,
    size_t *nouts, char **cause)
{
	struct filelist files = { NULL, 0, 0 };
	struct rtc_series_entry *ent = NULL;
	struct rtc_series *ser = NULL;
	struct rtc_convert_output *res = NULL;
	struct run run;
	size_t nent = 0, nser = 0, nres = 0, i;
	int r, failed = 0;

	memset(&run, 0, sizeof(run));
	run.ctx = ctx;
	run.o = o;
	*outs = NULL;
	*nouts = 0;
	if (o == NULL || o->outdir == NULL || inputs == NULL)
		return RTC_ERR_INVAL;
	if ((r = collect(inputs, ninputs, &files, cause)) != RTC_OK)
		goto out;
	run.dec = rtc_dicom_new();
	run.scratch = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	ent = calloc(files.n > 0 ? files.n : 1, sizeof(*ent));
	if (run.dec == NULL || run.scratch == NULL || ent == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	/* pass 1: headers */
	for (i = 0; i < files.n; i++) {
		char *why = NULL;

		if (rtc_ctx_stopping(ctx)) {
			r = RTC_ERR_CANCELLED;
			goto out;
		}
		r = rtc_dicom_read_file(run.dec, files.v[i],
		    RTC_DICOM_HEADER_ONLY, &run.meta, NULL, &why);
		if (r == RTC_ERR_FORMAT) {
			rtc_log(ctx, WARN, "skipping %s", why ? why : files.v[i]);
			free(why);
			continue;
		}
		if (r != RTC_OK) {
			rtc_cause_set(cause, "%s", why ? why : files.v[i]);
			free(why);
			goto out;
		}
		rtc_series_entry_from_meta(&run.meta, files.v[i], (int)i,
		    &ent[nent++]);
		rtc_debug(ctx, DICOM, "%s: %s, series %d, %dx%dx%d",
		    files.v[i], rtc_dicom_kind_name(run.meta.kind),
		    run.meta.acq.series_number, run.meta.cols, run.meta.rows,
		    run.meta.nslices);
	}
	if (nent == 0) {
		rtc_cause_set(cause, "no DICOM images found in %zu file%s",
		    files.n, files.n == 1 ? "" : "s");
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = rtc_series_group(ent, nent, on_dup, &run, &ser, &nser)) !=
	    RTC_OK)
		goto out;
	if ((r = rtc_fs_mkdir_p(o->outdir, 0755, cause)) != RTC_OK)
		goto out;
	res = calloc(nser, sizeof(*res));
	if (res == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	/* pass 2: pixels */
	for (i = 0; i < nser; i++) {
		char *why = NULL;

		if (ser[i].error != NULL) {
			rtc_log(ctx, ERROR, "%s", ser[i].error);
			failed = 1;
			continue;
		}
		r = convert_series(&run, &ser[i], &res[nres], &why);
		if (r == RTC_OK) {
			nres++;
			continue;
		}
		if (r == RTC_ERR_FORMAT) {
			rtc_log(ctx, ERROR, "%s", why ? why : "series failed");
			free(why);
			failed = 1;
			continue;
		}
		rtc_cause_set(cause, "%s", why ? why : rtc_strerror(r));
		free(why);
		goto out;
	}
	r = failed ? RTC_ERR_FORMAT : RTC_OK;
	if (failed)
		rtc_cause_set(cause, "some series could not be converted");
out:
	*outs = res;
	*nouts = nres;
	res = NULL;
	for (i = 0; i < run.nused; i++)
		free(run.used[i]);
	free(run.used);
	rtc_series_free(ser, nser);
	free(ent);
	filelist_free(&files);
	rtc_volume_free(run.scratch);
	rtc_dicom_free(run.dec);
	return r;
}

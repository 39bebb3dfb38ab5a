/*
 * runout: see runout.h.
 *
 * Design: the image grows as an uncompressed NIfTI written with pwrite
 * (voxels at 352 + k * frame_bytes, then the 348-byte header again with
 * the new frame count), so it is readable at any moment and appending
 * costs one write of the volume; gzip (zlib) runs once, at the end,
 * into a temp file renamed over the final name. The tables are stdio
 * streams flushed after each row. Everything here happens after the
 * volume's feedback is out, so none of it adds to latency.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nifti2_io.h>
#include <zlib.h>

#include "bids.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "nifti.h"
#include "runout.h"
#include "volume.h"

#define MAX_MISSING 4096
#define COPY_CHUNK ((size_t)1 << 20)

struct rtc_runout {
	struct rtc_ctx *ctx;
	char sub[RTC_BIDS_MAX_LABEL], ses[RTC_BIDS_MAX_LABEL];
	char task[RTC_BIDS_MAX_LABEL];
	char *task_name;          /* as the project wrote it */
	int run, gzip_level;
	int nkeys;
	char (*keys)[RTC_FB_NAME_MAX];
	char *func_dir, *deriv_dir;
	char *nii_path, *gz_path, *json_path;
	char *conf_path, *fb_path, *lat_path;
	FILE *conf, *fb, *lat;
	int fd;                   /* the growing .nii, -1 before volume 1 */
	nifti_1_header hdr;
	int nx, ny, nz;
	enum rtc_dtype dtype;
	size_t frame_bytes;
	unsigned char *zeros;     /* one frame, for gaps */
	int frames;
	double tr;
	double *slice_timing;
	int missing[MAX_MISSING];
	int nmissing;
	int finished;
	int failed;               /* the image could not be written */
};

void
rtc_runout_opts_init(struct rtc_runout_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->run = 1;
	o->gzip_level = 1;
}

int
rtc_runout_label(const char *in, const char *prefix, char *out,
    size_t outsz)
{
	size_t n = 0, k;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (in == NULL)
		return -1;
	if (prefix != NULL && (k = strlen(prefix)) > 0 &&
	    strncmp(in, prefix, k) == 0 && in[k] == '-')
		in += k + 1;
	for (; *in != '\0' && n + 1 < outsz && n < RTC_BIDS_MAX_LABEL - 1;
	    in++)
		if (isalnum((unsigned char)*in))
			out[n++] = *in;
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

static int
join(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
join(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return RTC_ERR_NOMEM;
	}
	return RTC_OK;
}

/* The BIDS base name of this run with suffix and extension. */
static int
base_name(const struct rtc_runout *ro, const char *desc, const char *suffix,
    const char *ext, char *out, size_t outsz)
{
	struct rtc_bids_name n;
	char run[16];

	memset(&n, 0, sizeof(n));
	snprintf(run, sizeof(run), "%d", ro->run);
	if (rtc_bids_name_set(&n, "sub", ro->sub) != RTC_OK ||
	    (ro->ses[0] != '\0' && rtc_bids_name_set(&n, "ses", ro->ses) !=
	    RTC_OK) || rtc_bids_name_set(&n, "task", ro->task) != RTC_OK ||
	    rtc_bids_name_set(&n, "run", run) != RTC_OK ||
	    (desc != NULL && rtc_bids_name_set(&n, "desc", desc) != RTC_OK))
		return RTC_ERR_INVAL;
	snprintf(n.suffix, sizeof(n.suffix), "%s", suffix);
	snprintf(n.ext, sizeof(n.ext), "%s", ext);
	return rtc_bids_name_format(&n, out, outsz);
}

/* dataset_description.json in dir unless one is there. */
static int
describe(const char *dir, const char *name, int derivative, char **cause)
{
	char *path = NULL;
	json_t *o;
	int r = RTC_OK;

	if (join(&path, "%s/dataset_description.json", dir) != RTC_OK)
		return RTC_ERR_NOMEM;
	if (rtc_fs_is_file(path)) {
		free(path);
		return RTC_OK;
	}
	o = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", name,
	    "BIDSVersion", "1.8.0", "DatasetType", derivative ? "derivative" :
	    "raw", "GeneratedBy", "Name", "rtc", "Version", PACKAGE_VERSION);
	if (o == NULL)
		r = RTC_ERR_NOMEM;
	else
		r = rtc_bids_sidecar_write(path, o, cause);
	json_decref(o);
	free(path);
	return r;
}

static FILE *
open_table(const char *path, const char *header, char **cause)
{
	FILE *f = fopen(path, "we");

	if (f == NULL) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fputs(header, f) == EOF || fflush(f) != 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	return f;
}

static int
open_tables(struct rtc_runout *ro, char **cause)
{
	char hdr[8192];
	size_t n;
	int i, st;

	ro->conf = open_table(ro->conf_path, "trans_x\ttrans_y\ttrans_z\t"
	    "rot_x\trot_y\trot_z\tframewise_displacement\n", cause);
	if (ro->conf == NULL)
		return RTC_ERR_IO;
	n = (size_t)snprintf(hdr, sizeof(hdr), "vol\tacquisition_time\t"
	    "feedback\tdecision\tframewise_displacement");
	for (i = 0; i < ro->nkeys && n < sizeof(hdr); i++)
		n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, "\t%s",
		    ro->keys[i]);
	if (n < sizeof(hdr))
		snprintf(hdr + n, sizeof(hdr) - n, "\tflags\tvalues\n");
	if ((ro->fb = open_table(ro->fb_path, hdr, cause)) == NULL)
		return RTC_ERR_IO;
	n = (size_t)snprintf(hdr, sizeof(hdr), "run\tvol\tlatency_ms");
	for (st = 0; st < RTC_STAGE__COUNT; st++)
		n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, "\t%s_ms",
		    rtc_stage_name(st));
	snprintf(hdr + n, sizeof(hdr) - n, "\n");
	if ((ro->lat = open_table(ro->lat_path, hdr, cause)) == NULL)
		return RTC_ERR_IO;
	return RTC_OK;
}

int
rtc_runout_open(struct rtc_ctx *ctx, const struct rtc_runout_opts *o,
    struct rtc_runout **out, char **cause)
{
	struct rtc_runout *ro;
	char name[512], sesdir[96] = "";
	int r, i;

	if (o == NULL || o->dir == NULL || o->run < 1 || o->run > 999999 ||
	    o->nkeys < 0 || o->nkeys > RTC_FB_MAX_ROI)
		return RTC_ERR_INVAL;
	if ((ro = calloc(1, sizeof(*ro))) == NULL)
		return RTC_ERR_NOMEM;
	ro->ctx = ctx;
	ro->fd = -1;
	ro->run = o->run;
	ro->gzip_level = o->gzip_level >= 1 && o->gzip_level <= 9 ?
	    o->gzip_level : 1;
	if (rtc_runout_label(o->sub, "sub", ro->sub, sizeof(ro->sub)) != 0) {
		rtc_cause_set(cause, "BIDS output: the subject name '%s' has "
		    "no letter or digit", o->sub != NULL ? o->sub : "");
		r = RTC_ERR_INVAL;
		goto fail;
	}
	(void)rtc_runout_label(o->ses, "ses", ro->ses, sizeof(ro->ses));
	if (rtc_runout_label(o->task, "task", ro->task, sizeof(ro->task)) != 0)
		snprintf(ro->task, sizeof(ro->task), "rt");
	ro->task_name = strdup(o->task != NULL && o->task[0] != '\0' ? o->task :
	    ro->task);
	ro->nkeys = o->nkeys;
	ro->keys = calloc((size_t)(o->nkeys > 0 ? o->nkeys : 1),
	    sizeof(*ro->keys));
	if (ro->task_name == NULL || ro->keys == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < o->nkeys; i++)
		snprintf(ro->keys[i], RTC_FB_NAME_MAX, "%s", o->keys[i]);
	if (ro->ses[0] != '\0')
		snprintf(sesdir, sizeof(sesdir), "/ses-%s", ro->ses);
	if ((r = join(&ro->func_dir, "%s/sub-%s%s/func", o->dir, ro->sub,
	    sesdir)) != RTC_OK ||
	    (r = join(&ro->deriv_dir, "%s/derivatives/rtc/sub-%s%s/func",
	    o->dir, ro->sub, sesdir)) != RTC_OK)
		goto fail;
	if ((r = base_name(ro, NULL, "bold", ".nii", name, sizeof(name))) !=
	    RTC_OK || (r = join(&ro->nii_path, "%s/%s", ro->func_dir, name)) !=
	    RTC_OK || (r = join(&ro->gz_path, "%s.gz", ro->nii_path)) != RTC_OK)
		goto fail;
	if ((r = base_name(ro, NULL, "bold", ".json", name, sizeof(name))) !=
	    RTC_OK || (r = join(&ro->json_path, "%s/%s", ro->func_dir, name)) !=
	    RTC_OK)
		goto fail;
	if ((r = base_name(ro, "confounds", "timeseries", ".tsv", name,
	    sizeof(name))) != RTC_OK || (r = join(&ro->conf_path, "%s/%s",
	    ro->deriv_dir, name)) != RTC_OK)
		goto fail;
	if ((r = base_name(ro, "feedback", "timeseries", ".tsv", name,
	    sizeof(name))) != RTC_OK || (r = join(&ro->fb_path, "%s/%s",
	    ro->deriv_dir, name)) != RTC_OK)
		goto fail;
	if ((r = base_name(ro, "latency", "timeseries", ".tsv", name,
	    sizeof(name))) != RTC_OK || (r = join(&ro->lat_path, "%s/%s",
	    ro->deriv_dir, name)) != RTC_OK)
		goto fail;
	if (rtc_fs_is_file(ro->gz_path) || rtc_fs_is_file(ro->nii_path)) {
		rtc_cause_set(cause, "%s exists: not overwriting a recorded run",
		    rtc_fs_is_file(ro->gz_path) ? ro->gz_path : ro->nii_path);
		r = RTC_ERR_EXISTS;
		goto fail;
	}
	if ((r = rtc_fs_mkdir_p(ro->func_dir, 0755, cause)) != RTC_OK ||
	    (r = rtc_fs_mkdir_p(ro->deriv_dir, 0755, cause)) != RTC_OK)
		goto fail;
	{
		char *root = NULL;

		if ((r = describe(o->dir, o->title != NULL ? o->title :
		    "rtc realtime session", 0, cause)) != RTC_OK ||
		    (r = join(&root, "%s/derivatives/rtc", o->dir)) != RTC_OK) {
			free(root);
			goto fail;
		}
		r = describe(root, "rtc realtime analysis", 1, cause);
		free(root);
		if (r != RTC_OK)
			goto fail;
	}
	if ((r = open_tables(ro, cause)) != RTC_OK)
		goto fail;
	*out = ro;
	return RTC_OK;
fail:
	ro->finished = 1;
	rtc_runout_free(ro);
	return r;
}

/* pwrite all of buf at off. */
static int
write_at(int fd, const void *buf, size_t n, off_t off)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int
start_image(struct rtc_runout *ro, const struct rtc_volume *v, char **cause)
{
	static const unsigned char ext[4] = { 0, 0, 0, 0 };
	unsigned char raw[RTC_NIFTI_HDR_SIZE];
	int r;

	if ((r = rtc_nifti_header(v, NULL, raw)) != RTC_OK) {
		rtc_cause_set(cause, "%s: the volume has no NIfTI header",
		    ro->nii_path);
		return r;
	}
	memcpy(&ro->hdr, raw, sizeof(ro->hdr));
	ro->nx = v->nx;
	ro->ny = v->ny;
	ro->nz = v->nz;
	ro->dtype = v->dtype;
	ro->frame_bytes = rtc_volume_nvox(v) * rtc_dtype_size(v->dtype);
	ro->tr = v->tr;
	if (v->slice_timing != NULL) {
		ro->slice_timing = malloc((size_t)v->nz * sizeof(double));
		if (ro->slice_timing == NULL)
			return RTC_ERR_NOMEM;
		memcpy(ro->slice_timing, v->slice_timing,
		    (size_t)v->nz * sizeof(double));
	}
	if ((ro->zeros = calloc(1, ro->frame_bytes)) == NULL)
		return RTC_ERR_NOMEM;
	ro->fd = open(ro->nii_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644);
	if (ro->fd < 0 || write_at(ro->fd, ext, sizeof(ext),
	    RTC_NIFTI_HDR_SIZE) != 0) {
		rtc_cause_set(cause, "%s: %s", ro->nii_path, strerror(errno));
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

/* Append one frame (data, or zeros for a volume that is not there). */
static int
append_frame(struct rtc_runout *ro, const void *data, int vol)
{
	off_t off = (off_t)RTC_NIFTI_VOX_OFFSET + (off_t)ro->frames *
	    (off_t)ro->frame_bytes;

	if (data == NULL) {
		data = ro->zeros;
		if (ro->nmissing < MAX_MISSING)
			ro->missing[ro->nmissing++] = vol;
	}
	if (write_at(ro->fd, data, ro->frame_bytes, off) != 0)
		return -1;
	ro->frames++;
	return 0;
}

/* The header with the frame count so far. */
static int
write_header(struct rtc_runout *ro)
{
	ro->hdr.dim[0] = ro->frames > 1 ? 4 : 3;
	ro->hdr.dim[4] = (short)(ro->frames > 32767 ? 32767 : ro->frames);
	ro->hdr.pixdim[4] = (float)(ro->tr > 0 ? ro->tr : 1.0);
	ro->hdr.xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_SEC;
	return write_at(ro->fd, &ro->hdr, sizeof(ro->hdr), 0);
}

/* A number with prec decimals (prec < 0: %.9g), "n/a" when unknown. */
static void
put_num(FILE *f, int prec, double v, int first)
{
	if (!first)
		fputc('\t', f);
	if (!isfinite(v))
		fputs("n/a", f);
	else if (prec < 0)
		fprintf(f, "%.9g", v);
	else
		fprintf(f, "%.*f", prec, v);
}

static double
roi_value(const struct rtc_fb_record *r, const char *key)
{
	int i;

	for (i = 0; i < r->n_roi; i++)
		if (strcmp(r->roi[i].name, key) == 0)
			return r->roi[i].value;
	return NAN;
}

static int
write_rows(struct rtc_runout *ro, const struct rtc_fb_record *r,
    double latency_ms)
{
	unsigned bit;
	int i, st, any = 0;

	for (i = 0; i < 6; i++)
		put_num(ro->conf, i < 3 ? 6 : 8, r->motion[i], i == 0);
	put_num(ro->conf, 6, r->fd, 0);
	fputc('\n', ro->conf);

	fprintf(ro->fb, "%d", r->vol);
	put_num(ro->fb, 4, r->acquisition_time >= 0 ?
	    r->acquisition_time : NAN, 0);
	put_num(ro->fb, -1, r->feedback, 0);
	put_num(ro->fb, -1, r->decision, 0);
	put_num(ro->fb, 6, r->fd, 0);
	for (i = 0; i < ro->nkeys; i++)
		put_num(ro->fb, -1, roi_value(r, ro->keys[i]), 0);
	fputc('\t', ro->fb);
	for (bit = 1; bit < (1u << RTC_FB_NFLAGS); bit <<= 1)
		if (r->flags & bit) {
			fprintf(ro->fb, "%s%s", any ? "," : "",
			    rtc_fb_flag_name(bit));
			any = 1;
		}
	if (!any)
		fputs("n/a", ro->fb);
	fputc('\t', ro->fb);
	if (r->n_values == 0)
		fputs("n/a", ro->fb);
	for (i = 0; i < r->n_values; i++) {
		fprintf(ro->fb, "%s\"%s\":", i == 0 ? "{" : ",",
		    r->values[i].name);
		if (isfinite(r->values[i].value))
			fprintf(ro->fb, "%.9g", r->values[i].value);
		else
			fputs("null", ro->fb);
		if (i == r->n_values - 1)
			fputc('}', ro->fb);
	}
	fputc('\n', ro->fb);

	fprintf(ro->lat, "%d\t%d", r->run, r->vol);
	put_num(ro->lat, 3, latency_ms, 0);
	for (st = 0; st < RTC_STAGE__COUNT; st++)
		put_num(ro->lat, 3, r->stage_ms[st], 0);
	fputc('\n', ro->lat);
	if (fflush(ro->conf) != 0 || fflush(ro->fb) != 0 ||
	    fflush(ro->lat) != 0)
		return -1;
	return 0;
}

static int write_sidecar(struct rtc_runout *ro, int final, char **cause);

int
rtc_runout_add(struct rtc_runout *ro, const struct rtc_volume *v,
    const struct rtc_fb_record *r, double latency_ms, char **cause)
{
	int ret = RTC_OK, first = 0;

	if (ro == NULL || v == NULL || r == NULL || ro->finished)
		return RTC_ERR_INVAL;
	if (r->vol < 1)
		return RTC_ERR_INVAL;
	if (r->vol <= ro->frames)
		return RTC_ERR_EXISTS;
	if (write_rows(ro, r, latency_ms) != 0) {
		rtc_cause_set(cause, "%s: %s", ro->deriv_dir, strerror(errno));
		return RTC_ERR_IO;
	}
	if (ro->failed)
		return RTC_ERR_IO;
	if (ro->fd < 0) {
		if ((ret = start_image(ro, v, cause)) != RTC_OK) {
			ro->failed = 1;
			return ret;
		}
		first = 1;
	}
	while (ro->frames < r->vol - 1)
		if (append_frame(ro, NULL, ro->frames + 1) != 0)
			goto io;
	if (v->nx != ro->nx || v->ny != ro->ny || v->nz != ro->nz ||
	    v->dtype != ro->dtype) {
		rtc_cause_set(cause, "volume %d is %dx%dx%d %s, the run's image "
		    "%dx%dx%d %s: a frame of zeros instead", r->vol, v->nx,
		    v->ny, v->nz, rtc_dtype_name(v->dtype), ro->nx, ro->ny,
		    ro->nz, rtc_dtype_name(ro->dtype));
		if (append_frame(ro, NULL, r->vol) != 0)
			goto io;
		ret = RTC_ERR_FORMAT;
	} else if (append_frame(ro, v->data, r->vol) != 0)
		goto io;
	if (write_header(ro) != 0)
		goto io;
	if (first && write_sidecar(ro, 0, cause) != RTC_OK)
		return RTC_ERR_IO;
	return ret;
io:
	rtc_cause_set(cause, "%s: %s", ro->nii_path, strerror(errno));
	ro->failed = 1;
	return RTC_ERR_IO;
}

static int
write_sidecar(struct rtc_runout *ro, int final, char **cause)
{
	json_t *o = json_object(), *a;
	int i, r;

	if (o == NULL)
		return RTC_ERR_NOMEM;
	if (ro->tr > 0)
		json_object_set_new(o, "RepetitionTime", json_real(ro->tr));
	json_object_set_new(o, "TaskName", json_string(ro->task_name));
	if (ro->slice_timing != NULL) {
		a = json_array();
		for (i = 0; i < ro->nz; i++)
			json_array_append_new(a, json_real(ro->slice_timing[i]));
		json_object_set_new(o, "SliceTiming", a);
	}
	json_object_set_new(o, "rtcVolumes", json_integer(ro->frames));
	a = json_array();
	for (i = 0; i < ro->nmissing; i++)
		json_array_append_new(a, json_integer(ro->missing[i]));
	json_object_set_new(o, "rtcMissingVolumes", a);
	json_object_set_new(o, "rtcComplete", json_boolean(final));
	r = rtc_bids_sidecar_write(ro->json_path, o, cause);
	json_decref(o);
	return r;
}

/* .nii -> .nii.gz through a temp file; the .nii goes. */
static int
compress_image(struct rtc_runout *ro, char **cause)
{
	unsigned char *buf = NULL;
	char *tmp = NULL, mode[8];
	gzFile gz = NULL;
	int in = -1, fd = -1, dfd, r = RTC_ERR_IO;
	ssize_t n;

	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return RTC_ERR_NOMEM;
	in = open(ro->nii_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		goto err;
	if ((r = rtc_fs_open_tmp(ro->gz_path, &fd, &tmp, cause)) != RTC_OK)
		goto out;
	r = RTC_ERR_IO;
	snprintf(mode, sizeof(mode), "wb%d", ro->gzip_level);
	if ((dfd = dup(fd)) < 0 || (gz = gzdopen(dfd, mode)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		goto err;
	}
	while ((n = read(in, buf, COPY_CHUNK)) > 0)
		if (gzwrite(gz, buf, (unsigned)n) != (int)n)
			goto err;
	if (n < 0)
		goto err;
	n = gzclose(gz);
	gz = NULL;
	if (n != Z_OK)
		goto err;
	r = rtc_fs_commit_tmp(fd, tmp, ro->gz_path, 0644, 0, cause);
	fd = -1;
	if (r == RTC_OK)
		unlink(ro->nii_path);
	goto out;
err:
	rtc_cause_set(cause, "%s: %s", ro->gz_path, strerror(errno ? errno :
	    EIO));
	r = RTC_ERR_IO;
out:
	if (gz != NULL)
		gzclose(gz);
	if (fd >= 0)
		rtc_fs_discard_tmp(fd, tmp);
	if (in >= 0)
		close(in);
	free(tmp);
	free(buf);
	return r;
}

int
rtc_runout_finish(struct rtc_runout *ro, char **cause)
{
	int r = RTC_OK;

	if (ro == NULL || ro->finished)
		return RTC_OK;
	ro->finished = 1;
	if (ro->conf != NULL && fclose(ro->conf) != 0)
		r = RTC_ERR_IO;
	if (ro->fb != NULL && fclose(ro->fb) != 0)
		r = RTC_ERR_IO;
	if (ro->lat != NULL && fclose(ro->lat) != 0)
		r = RTC_ERR_IO;
	ro->conf = ro->fb = ro->lat = NULL;
	if (r != RTC_OK)
		rtc_cause_set(cause, "%s: %s", ro->deriv_dir, strerror(errno));
	if (ro->fd >= 0) {
		int c = close(ro->fd);

		ro->fd = -1;
		if (c != 0 && r == RTC_OK) {
			rtc_cause_set(cause, "%s: %s", ro->nii_path,
			    strerror(errno));
			r = RTC_ERR_IO;
		}
		if (r == RTC_OK && !ro->failed)
			r = compress_image(ro, cause);
		if (r == RTC_OK)
			r = write_sidecar(ro, 1, cause);
	}
	return r;
}

const char *
rtc_runout_bold_path(const struct rtc_runout *ro)
{
	return ro->gz_path;
}

const char *
rtc_runout_deriv_dir(const struct rtc_runout *ro)
{
	return ro->deriv_dir;
}

int
rtc_runout_frames(const struct rtc_runout *ro)
{
	return ro->frames;
}

void
rtc_runout_free(struct rtc_runout *ro)
{
	char *cause = NULL;

	if (ro == NULL)
		return;
	if (rtc_runout_finish(ro, &cause) != RTC_OK)
		rtc_log(ro->ctx, ERROR, "BIDS output: %s", cause != NULL ?
		    cause : "cannot finish the run");
	free(cause);
	if (ro->conf != NULL)
		fclose(ro->conf);
	if (ro->fb != NULL)
		fclose(ro->fb);
	if (ro->lat != NULL)
		fclose(ro->lat);
	if (ro->fd >= 0)
		close(ro->fd);
	free(ro->task_name);
	free(ro->keys);
	free(ro->func_dir);
	free(ro->deriv_dir);
	free(ro->nii_path);
	free(ro->gz_path);
	free(ro->json_path);
	free(ro->conf_path);
	free(ro->fb_path);
	free(ro->lat_path);
	free(ro->slice_timing);
	free(ro->zeros);
	free(ro);
}

/*
 * replay: see replay.h.
 *
 * Design: a NIfTI is opened once through nifticlib (header) and read a
 * frame at a time from its znz stream (gzip or plain), swapped to this
 * machine's byte order when needed, into a buffer that a delivery
 * copies into a pool volume. A DICOM directory is read header-only once,
 * grouped and ordered by lib/series exactly as rtc convert does, and
 * flattened into a list of volumes (each one file, or the slices of one
 * time point); a volume's files are read into memory by load() and
 * decoded by the live path at delivery. A BIDS input resolves to one
 * NIfTI file plus the TR from its sidecars.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <nifti2_io.h>

#include "bids.h"
#include "clock.h"
#include "ctx.h"
#include "dicom.h"
#include "error.h"
#include "fsutil.h"
#include "live.h"
#include "log.h"
#include "nifti.h"
#include "replay.h"
#include "series.h"
#include "volume.h"

#define MAX_DEPTH 8
#define MAX_BIDS_MATCHES 5
#define MAX_TR_S 600.0

/* A TR from a file (NIfTI header, sidecar, DICOM) paces the replay: one
 * outside 0..600 s is unknown (0). */
static double
tr_ok(double tr)
{
	return tr > 0 && tr <= MAX_TR_S ? tr : 0;
}

enum src_kind { SRC_NIFTI = 1, SRC_DICOM };

struct rp_file {
	char *data;
	size_t len;
	const char *name;
};

struct rtc_replay {
	struct rtc_ctx *ctx;
	enum src_kind kind;
	char desc[512];
	double tr;
	int count;

	/* NIfTI */
	nifti_image *nim;
	znzFile zf;
	int nx, ny, nz;
	enum rtc_dtype dtype;
	size_t frame_bytes;
	double affine[4][4];
	int swap;
	int next;                 /* frame the stream stands at */
	unsigned char *frame;
	int loaded;               /* frame in the buffer, -1 none */

	/* DICOM */
	char **paths;
	size_t npaths, cap;
	int *vol_start, *vol_len; /* into order[] */
	int *order;               /* file indices in delivery order */
	struct rp_file *files;    /* the loaded volume's files */
	int nfiles, files_cap;
};

/* ---- NIfTI ------------------------------------------------------------ */

static int
open_nifti(struct rtc_replay *rp, const char *path, double tr,
    char **cause)
{
	nifti_image *nim = NULL;
	int64_t nt;
	int r, c;

	if (!rtc_fs_is_file(path)) {
		rtc_cause_set(cause, "%s: no such file", path);
		return RTC_ERR_NOT_FOUND;
	}
	rp->zf = nifti_image_open(path, "rb", &nim);
	rp->nim = nim;
	if (nim == NULL || znz_isnull(rp->zf)) {
		rtc_cause_set(cause, "%s: not a readable NIfTI file", path);
		return RTC_ERR_FORMAT;
	}
	nt = nim->ndim >= 4 && nim->nt > 0 ? nim->nt : 1;
	if (nim->nu > 1 || nim->nv > 1 || nim->nw > 1 || nim->nx < 2 ||
	    nim->ny < 2 || nim->nz < 1 || nim->nx > 4096 || nim->ny > 4096 ||
	    nim->nz > 4096 || nt > RTC_REPLAY_MAX_FILES) {
		rtc_cause_set(cause, "%s: a 3D or 4D image is needed (got "
		    "%lldx%lldx%lldx%lld)", path, (long long)nim->nx,
		    (long long)nim->ny, (long long)nim->nz, (long long)nt);
		return RTC_ERR_UNSUPPORTED;
	}
	if (rtc_nifti_dtype(nim->datatype, &rp->dtype) != 0) {
		rtc_cause_set(cause, "%s: NIfTI data type %d is not supported",
		    path, nim->datatype);
		return RTC_ERR_UNSUPPORTED;
	}
	rp->nx = (int)nim->nx;
	rp->ny = (int)nim->ny;
	rp->nz = (int)nim->nz;
	rp->count = (int)nt;
	rp->frame_bytes = (size_t)rp->nx * (size_t)rp->ny * (size_t)rp->nz *
	    rtc_dtype_size(rp->dtype);
	if (rp->frame_bytes > RTC_REPLAY_MAX_FRAME ||
	    rp->frame_bytes * (size_t)nt > RTC_REPLAY_MAX_NIFTI) {
		rtc_cause_set(cause, "%s: too large to replay (at most %zu "
		    "bytes a volume, %zu in all)", path, RTC_REPLAY_MAX_FRAME,
		    RTC_REPLAY_MAX_NIFTI);
		return RTC_ERR_TOO_BIG;
	}
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			rp->affine[r][c] = nim->sform_code > 0 ?
			    nim->sto_xyz.m[r][c] : nim->qform_code > 0 ?
			    nim->qto_xyz.m[r][c] : r == c ? (r == 0 ? nim->dx :
			    r == 1 ? nim->dy : r == 2 ? nim->dz : 1.0) : 0.0;
	rp->tr = tr_ok(tr);
	if (rp->tr == 0) {
		rp->tr = nim->dt;
		if (nim->time_units == NIFTI_UNITS_MSEC)
			rp->tr /= 1000.0;
		else if (nim->time_units == NIFTI_UNITS_USEC)
			rp->tr /= 1e6;
		rp->tr = tr_ok(rp->tr);
	}
	rp->swap = nim->byteorder != nifti_short_order() && nim->swapsize > 1;
	if ((rp->frame = malloc(rp->frame_bytes)) == NULL)
		return RTC_ERR_NOMEM;
	rp->kind = SRC_NIFTI;
	rp->loaded = -1;
	rp->next = 0;
	return RTC_OK;
}

static int
load_nifti(struct rtc_replay *rp, int k, char **cause)
{
	if (k == rp->loaded)
		return RTC_OK;
	if (k != rp->next && znzseek(rp->zf, (znz_off_t)rp->nim->iname_offset +
	    (znz_off_t)k * (znz_off_t)rp->frame_bytes, SEEK_SET) < 0) {
		rtc_cause_set(cause, "%s: cannot seek to frame %d",
		    rp->nim->iname, k + 1);
		return RTC_ERR_IO;
	}
	if (znzread(rp->frame, 1, rp->frame_bytes, rp->zf) != rp->frame_bytes) {
		rtc_cause_set(cause, "%s: frame %d is cut short", rp->nim->iname,
		    k + 1);
		rp->next = -1;
		return RTC_ERR_FORMAT;
	}
	if (rp->swap)
		nifti_swap_Nbytes((int64_t)(rp->frame_bytes /
		    (size_t)rp->nim->swapsize), rp->nim->swapsize, rp->frame);
	rp->next = k + 1;
	rp->loaded = k;
	return RTC_OK;
}

static int
deliver_nifti(struct rtc_replay *rp, struct rtc_live *lv, int64_t intake_ns)
{
	struct rtc_volume *v = rtc_live_get_free(lv);
	int k = rp->loaded, r;

	if (v == NULL)
		return RTC_ERR_NOMEM;
	if ((r = rtc_volume_reshape(v, rp->nx, rp->ny, rp->nz, 1, rp->dtype)) !=
	    RTC_OK) {
		rtc_live_push(lv, v, intake_ns, 0);
		return r;
	}
	memcpy(v->data, rp->frame, rp->frame_bytes);
	memcpy(v->affine, rp->affine, sizeof(v->affine));
	rtc_volume_update_voxel_size(v);
	v->tr = rp->tr;
	v->scl_slope = rp->nim->scl_slope;
	v->scl_inter = rp->nim->scl_inter;
	free(v->slice_timing);
	v->slice_timing = NULL;
	memset(&v->acq, 0, sizeof(v->acq));
	v->acq.series_number = 1;
	v->acq.acquisition_number = k + 1;
	v->acq.instance_number = k + 1;
	v->acq.acquisition_time = rp->tr > 0 ? k * rp->tr : -1;
	return rtc_live_push(lv, v, intake_ns, rtc_clock_mono_ns());
}

/* ---- DICOM ------------------------------------------------------------ */

static int
add_path(struct rtc_replay *rp, const char *path)
{
	if (rp->npaths >= RTC_REPLAY_MAX_FILES)
		return RTC_ERR_TOO_BIG;
	if (rp->npaths == rp->cap) {
		size_t nc = rp->cap ? rp->cap * 2 : 256;
		char **p = realloc(rp->paths, nc * sizeof(*p));

		if (p == NULL)
			return RTC_ERR_NOMEM;
		rp->paths = p;
		rp->cap = nc;
	}
	if ((rp->paths[rp->npaths] = strdup(path)) == NULL)
		return RTC_ERR_NOMEM;
	rp->npaths++;
	return RTC_OK;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir (names starting with '.' skipped). */
static int
walk(struct rtc_replay *rp, const char *dir, int depth, char **cause)
{
	DIR *d;
	struct dirent *e;
	int r = RTC_OK;

	if (depth > MAX_DEPTH)
		return RTC_OK;
	if ((d = opendir(dir)) == NULL) {
		rtc_cause_set(cause, "%s: %s", dir, strerror(errno));
		return RTC_ERR_IO;
	}
	while (r == RTC_OK && (e = readdir(d)) != NULL) {
		char *p = NULL;

		if (e->d_name[0] == '.')
			continue;
		if (rtc_fs_join_safe(dir, e->d_name, &p) != RTC_OK)
			continue;
		if (rtc_fs_is_dir(p))
			r = walk(rp, p, depth + 1, cause);
		else if (rtc_fs_is_file(p))
			r = add_path(rp, p);
		free(p);
	}
	closedir(d);
	return r;
}

static int
open_dicom(struct rtc_replay *rp, const char *input, char **cause)
{
	struct rtc_dicom *dec = NULL;
	struct rtc_dicom_meta m;
	struct rtc_series_entry *ent = NULL;
	struct rtc_series *ser = NULL;
	size_t i, nent = 0, nser = 0, s, nvol = 0, nord = 0;
	int r, nseries = 0;

	if (rtc_fs_is_dir(input))
		r = walk(rp, input, 0, cause);
	else
		r = add_path(rp, input);
	if (r != RTC_OK)
		return r;
	if (rp->npaths > 1)
		qsort(rp->paths, rp->npaths, sizeof(*rp->paths), path_cmp);
	if ((dec = rtc_dicom_new()) == NULL ||
	    (ent = calloc(rp->npaths ? rp->npaths : 1, sizeof(*ent))) == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < rp->npaths; i++) {
		if (rtc_dicom_read_file(dec, rp->paths[i], RTC_DICOM_HEADER_ONLY,
		    &m, NULL, NULL) != RTC_OK)
			continue;
		rtc_series_entry_from_meta(&m, rp->paths[i], (int)i,
		    &ent[nent++]);
		if (rp->tr <= 0)
			rp->tr = tr_ok(m.tr);
	}
	if (nent == 0) {
		rtc_cause_set(cause, "%s: no DICOM image", input);
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = rtc_series_group(ent, nent, NULL, NULL, &ser, &nser)) !=
	    RTC_OK)
		goto out;
	for (s = 0; s < nser; s++)
		if (ser[s].error == NULL)
			nvol += (size_t)ser[s].nt;
	rp->vol_start = calloc(nvol ? nvol : 1, sizeof(int));
	rp->vol_len = calloc(nvol ? nvol : 1, sizeof(int));
	rp->order = calloc(nent, sizeof(int));
	if (rp->vol_start == NULL || rp->vol_len == NULL || rp->order == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (s = 0; s < nser; s++) {
		struct rtc_series *x = &ser[s];
		int t, k, per;

		if (x->error != NULL) {
			rtc_log(rp->ctx, WARN, "replay: series %d left out: %s",
			    x->series_number, x->error);
			continue;
		}
		if (x->ndup > 0)
			rtc_log(rp->ctx, INFO, "replay: series %d: %zu duplicate "
			    "file%s left out", x->series_number, x->ndup,
			    x->ndup == 1 ? "" : "s");
		per = x->kind == RTC_DICOM_SLICE ? x->nz : 1;
		for (t = 0; t < (int)x->nfiles / per; t++) {
			rp->vol_start[rp->count] = (int)nord;
			rp->vol_len[rp->count] = per;
			for (k = 0; k < per; k++)
				rp->order[nord++] =
				    x->files[(size_t)t * (size_t)per +
				    (size_t)k]->index;
			rp->count++;
		}
		nseries++;
	}
	if (rp->count == 0) {
		rtc_cause_set(cause, "%s: no series could be assembled", input);
		r = RTC_ERR_FORMAT;
		goto out;
	}
	snprintf(rp->desc, sizeof(rp->desc), "DICOM %s, %d series, %d "
	    "volumes", input, nseries, rp->count);
	rp->kind = SRC_DICOM;
	r = RTC_OK;
out:
	rtc_series_free(ser, nser);
	free(ent);
	rtc_dicom_free(dec);
	return r;
}

static void
drop_files(struct rtc_replay *rp)
{
	int i;

	for (i = 0; i < rp->nfiles; i++)
		free(rp->files[i].data);
	rp->nfiles = 0;
}

static int
load_dicom(struct rtc_replay *rp, int k, char **cause)
{
	int i, n = rp->vol_len[k], r;

	drop_files(rp);
	if (n > rp->files_cap) {
		struct rp_file *f = realloc(rp->files, (size_t)n * sizeof(*f));

		if (f == NULL)
			return RTC_ERR_NOMEM;
		rp->files = f;
		rp->files_cap = n;
	}
	for (i = 0; i < n; i++) {
		const char *path = rp->paths[rp->order[rp->vol_start[k] + i]];
		const char *slash = strrchr(path, '/');

		if ((r = rtc_fs_read_file(path, RTC_DICOM_MAX_FILE,
		    &rp->files[i].data, &rp->files[i].len, cause)) != RTC_OK)
			return r;
		rp->files[i].name = slash != NULL ? slash + 1 : path;
		rp->nfiles = i + 1;
	}
	return RTC_OK;
}

/* ---- BIDS ------------------------------------------------------------- */

static int
sel_match(const struct rtc_bids_name *n, const char *key, const char *want)
{
	const char *have;

	if (want == NULL)
		return 1;
	have = rtc_bids_name_get(n, key);
	return have != NULL && rtc_bids_value_match(key, want, have);
}

/* Runs in func_dir matching sel: appended to found (at most
 * MAX_BIDS_MATCHES kept, all counted in *nfound). */
static void
scan_func(const char *func_dir, const struct rtc_replay_select *sel,
    char **found, int *nfound)
{
	static const char *const keys[4] = { "sub", "ses", "task", "run" };
	const char *want[4] = { sel->sub, sel->ses, sel->task, sel->run };
	DIR *d = opendir(func_dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct rtc_bids_name n;
		int k, ok = 1;

		if (rtc_bids_name_parse(e->d_name, &n, NULL) != RTC_OK ||
		    strcmp(n.suffix, "bold") != 0 ||
		    (strcmp(n.ext, ".nii.gz") != 0 &&
		    strcmp(n.ext, ".nii") != 0))
			continue;
		for (k = 0; k < 4; k++)
			ok &= sel_match(&n, keys[k], want[k]);
		if (!ok)
			continue;
		if (*nfound < MAX_BIDS_MATCHES &&
		    rtc_fs_join_safe(func_dir, e->d_name, &found[*nfound]) !=
		    RTC_OK)
			continue;
		(*nfound)++;
	}
	closedir(d);
}

/* BOLD runs under root/sub-*[/ses-*]/func matching sel. */
static int
find_bold(const char *root, const struct rtc_replay_select *sel,
    char **found, int *nfound, char **cause)
{
	DIR *d0, *d1;
	struct dirent *e0, *e1;

	*nfound = 0;
	if ((d0 = opendir(root)) == NULL) {
		rtc_cause_set(cause, "%s: %s", root, strerror(errno));
		return RTC_ERR_IO;
	}
	while ((e0 = readdir(d0)) != NULL) {
		char *sub = NULL, *func = NULL;

		if (strncmp(e0->d_name, "sub-", 4) != 0 ||
		    rtc_fs_join_safe(root, e0->d_name, &sub) != RTC_OK)
			continue;
		if (rtc_fs_join_safe(sub, "func", &func) == RTC_OK)
			scan_func(func, sel, found, nfound);
		free(func);
		if ((d1 = opendir(sub)) != NULL) {
			while ((e1 = readdir(d1)) != NULL) {
				char *ses = NULL;

				func = NULL;
				if (strncmp(e1->d_name, "ses-", 4) == 0 &&
				    rtc_fs_join_safe(sub, e1->d_name, &ses) ==
				    RTC_OK && rtc_fs_join_safe(ses, "func",
				    &func) == RTC_OK)
					scan_func(func, sel, found, nfound);
				free(func);
				free(ses);
			}
			closedir(d1);
		}
		free(sub);
	}
	closedir(d0);
	return RTC_OK;
}

/* The dataset root above path: the nearest directory with
 * dataset_description.json. OUT: *root (malloc'd). RET: 0 or -1. */
static int
bids_root_of(const char *path, char **root)
{
	char *p = realpath(path, NULL), *slash, *dd = NULL;

	if (p == NULL)
		return -1;
	while ((slash = strrchr(p, '/')) != NULL && slash != p) {
		*slash = '\0';
		free(dd);
		if (asprintf(&dd, "%s/dataset_description.json", p) < 0) {
			dd = NULL;
			break;
		}
		if (rtc_fs_is_file(dd)) {
			free(dd);
			*root = p;
			return 0;
		}
	}
	free(dd);
	free(p);
	return -1;
}

/* TR of a BIDS run from its sidecars (0 when they do not say). */
static double
bids_tr(struct rtc_replay *rp, const char *root, const char *file)
{
	char *real = realpath(file, NULL), *cause = NULL;
	json_t *meta = NULL, *tr;
	double v = 0;
	size_t n = strlen(root);

	if (real != NULL && strncmp(real, root, n) == 0 && real[n] == '/' &&
	    rtc_bids_sidecar_resolve(root, real + n + 1, &meta, &cause) ==
	    RTC_OK && (tr = json_object_get(meta, "RepetitionTime")) != NULL &&
	    json_is_number(tr))
		v = tr_ok(json_number_value(tr));
	else if (cause != NULL)
		rtc_log(rp->ctx, WARN, "replay: %s", cause);
	json_decref(meta);
	free(cause);
	free(real);
	return v;
}

static int
open_bids(struct rtc_replay *rp, const char *root,
    const struct rtc_replay_select *sel, char **cause)
{
	static const struct rtc_replay_select any = { NULL, NULL, NULL, NULL };
	char *found[MAX_BIDS_MATCHES] = { NULL };
	int n = 0, i, r;

	if ((r = find_bold(root, sel != NULL ? sel : &any, found, &n,
	    cause)) != RTC_OK)
		goto out;
	if (n == 0) {
		rtc_cause_set(cause, "%s: no BOLD run matches the selection",
		    root);
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	if (n > 1) {
		rtc_cause_set(cause, "%s: %d BOLD runs match; choose one with "
		    "--sub, --ses, --task, --run (e.g. %s, %s)", root, n,
		    strrchr(found[0], '/') + 1, strrchr(found[1], '/') + 1);
		r = RTC_ERR_INVAL;
		goto out;
	}
	r = open_nifti(rp, found[0], bids_tr(rp, root, found[0]), cause);
	if (r == RTC_OK)
		snprintf(rp->desc, sizeof(rp->desc), "BIDS %s, %d volumes",
		    found[0], rp->count);
out:
	for (i = 0; i < MAX_BIDS_MATCHES; i++)
		free(found[i]);
	return r;
}

/* ---- the interface ---------------------------------------------------- */

static int
is_nifti_name(const char *p)
{
	size_t n = strlen(p);

	return (n > 4 && strcmp(p + n - 4, ".nii") == 0) ||
	    (n > 7 && strcmp(p + n - 7, ".nii.gz") == 0);
}

int
rtc_replay_open(struct rtc_ctx *ctx, const char *input,
    const struct rtc_replay_select *sel, struct rtc_replay **out,
    char **cause)
{
	struct rtc_replay *rp;
	char *dd = NULL, *root = NULL;
	int r;

	if (input == NULL || out == NULL)
		return RTC_ERR_INVAL;
	if (!rtc_fs_is_dir(input) && !rtc_fs_is_file(input)) {
		rtc_cause_set(cause, "%s: no such file or directory", input);
		return RTC_ERR_NOT_FOUND;
	}
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return RTC_ERR_NOMEM;
	rp->ctx = ctx;
	rp->loaded = -1;
	if (asprintf(&dd, "%s/dataset_description.json", input) < 0) {
		dd = NULL;
		r = RTC_ERR_NOMEM;
	} else if (rtc_fs_is_dir(input) && rtc_fs_is_file(dd))
		r = open_bids(rp, input, sel, cause);
	else if (rtc_fs_is_file(input) && is_nifti_name(input)) {
		double tr = bids_root_of(input, &root) == 0 ?
		    bids_tr(rp, root, input) : 0;

		r = open_nifti(rp, input, tr, cause);
		if (r == RTC_OK)
			snprintf(rp->desc, sizeof(rp->desc), "NIfTI %s, %d "
			    "volumes", input, rp->count);
	} else
		r = open_dicom(rp, input, cause);
	free(dd);
	free(root);
	if (r != RTC_OK) {
		rtc_replay_close(rp);
		return r;
	}
	*out = rp;
	return RTC_OK;
}

int
rtc_replay_count(const struct rtc_replay *rp)
{
	return rp->count;
}

double
rtc_replay_tr(const struct rtc_replay *rp)
{
	return rp->tr;
}

const char *
rtc_replay_describe(const struct rtc_replay *rp)
{
	return rp->desc;
}

int
rtc_replay_load(struct rtc_replay *rp, int k, char **cause)
{
	if (k < 0 || k >= rp->count)
		return RTC_ERR_INVAL;
	return rp->kind == SRC_NIFTI ? load_nifti(rp, k, cause) :
	    load_dicom(rp, k, cause);
}

int
rtc_replay_deliver(struct rtc_replay *rp, struct rtc_live *lv,
    struct rtc_live_intake *in, int64_t intake_ns, char **cause)
{
	int i, r, first = RTC_OK;

	if (rp->kind == SRC_NIFTI)
		return rp->loaded >= 0 ? deliver_nifti(rp, lv, intake_ns) :
		    RTC_ERR_INVAL;
	for (i = 0; i < rp->nfiles; i++) {
		r = rtc_live_intake_buffer(in, rp->files[i].data,
		    rp->files[i].len, rp->files[i].name, intake_ns, cause);
		if (r != RTC_OK && first == RTC_OK)
			first = r;
	}
	drop_files(rp);
	return first;
}

int
rtc_replay_run(struct rtc_replay *rp, struct rtc_live *lv, double pace_s,
    int *delivered, char **cause)
{
	struct rtc_live_intake *in = NULL;
	int64_t start = rtc_clock_mono_ns();
	int k, r = RTC_OK, n = 0;

	if ((r = rtc_live_intake_new(lv, &in)) != RTC_OK)
		return r;
	for (k = 0; k < rp->count; k++) {
		if (rtc_live_done(lv)) {
			r = RTC_ERR_CANCELLED;
			break;
		}
		if ((r = rtc_replay_load(rp, k, cause)) != RTC_OK)
			break;
		if (pace_s > 0) {
			int64_t due = start + (int64_t)(k * pace_s * 1e9);
			int64_t now = rtc_clock_mono_ns();

			if (due > now)
				rtc_clock_sleep_ns(due - now,
				    rp->ctx != NULL ? rp->ctx->stop : NULL);
			if (rtc_live_done(lv)) {
				r = RTC_ERR_CANCELLED;
				break;
			}
		}
		/* errors are logged and counted by the live path */
		(void)rtc_replay_deliver(rp, lv, in, rtc_clock_mono_ns(), NULL);
		n++;
		if (pace_s <= 0)
			(void)rtc_live_wait_idle(lv, 600000);
	}
	rtc_live_intake_flush(in);
	rtc_live_intake_free(in);
	if (delivered != NULL)
		*delivered = n;
	return r;
}

void
rtc_replay_close(struct rtc_replay *rp)
{
	size_t i;

	if (rp == NULL)
		return;
	if (!znz_isnull(rp->zf))
		znzclose(rp->zf);
	nifti_image_free(rp->nim);
	free(rp->frame);
	drop_files(rp);
	free(rp->files);
	for (i = 0; i < rp->npaths; i++)
		free(rp->paths[i]);
	free(rp->paths);
	free(rp->vol_start);
	free(rp->vol_len);
	free(rp->order);
	free(rp);
}

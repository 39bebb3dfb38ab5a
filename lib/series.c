/*
 * series: grouping, ordering and assembly of DICOM files into the volumes
 * of a series (see series.h for the rules).
 *
 * Design: grouping works on compact entries (a few hundred bytes per
 * file, not whole metas), so a directory of tens of thousands of slices
 * groups in little memory; sorting is qsort on pointer arrays. Positions
 * are compared along the series' plane normal with a 0.01 mm tolerance
 * (DS values carry about six digits).
 *
 * The incremental assembler keeps a small fixed set of slots (open
 * volumes). A slot's pixel buffer and per-slice records grow to the
 * series' slice count once and are then reused for every later volume;
 * duplicates are recognised by a ring of recent SOPInstanceUID hashes.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "series.h"

#define POS_TOL 0.01      /* mm: two slices at the same position */
#define IOP_TOL 1e-4      /* direction cosines: the same orientation */

static int
same_pos(double a, double b)
{
	return fabs(a - b) < POS_TOL;
}

static int
same_iop(const double *a, const double *b)
{
	int i;

	for (i = 0; i < 6; i++)
		if (fabs(a[i] - b[i]) > IOP_TOL)
			return 0;
	return 1;
}

static void
plane_normal(const double iop[6], double n[3])
{
	rtc_vec3_cross(iop, iop + 3, n);
	if (rtc_vec3_normalize(n) != 0) {
		n[0] = n[1] = 0.0;
		n[2] = 1.0;
	}
}

void
rtc_series_entry_from_meta(const struct rtc_dicom_meta *m, const char *path,
    int index, struct rtc_series_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->index = index;
	e->kind = m->kind;
	memcpy(e->series_uid, m->acq.series_uid, sizeof(e->series_uid));
	e->series_uid[sizeof(e->series_uid) - 1] = '\0';
	memcpy(e->sop_uid, m->sop_instance_uid, sizeof(e->sop_uid));
	e->series_number = m->acq.series_number;
	e->acq_number = m->acq.acquisition_number;
	e->instance_number = m->acq.instance_number;
	e->temporal_index = m->temporal_index;
	e->stack_position = m->stack_position;
	e->echo_number = m->echo_number;
	e->acq_time = m->acq.acquisition_time;
	e->trigger_time = m->trigger_time;
	e->rows = m->rows;
	e->cols = m->cols;
	e->nslices = m->nslices;
	e->nvolumes = m->nvolumes;
	memcpy(e->iop, m->iop, sizeof(e->iop));
	memcpy(e->ipp, m->ipp, sizeof(e->ipp));
}

static int
icmp(int a, int b)
{
	return a < b ? -1 : a > b;
}

int
rtc_series_order_cmp(const struct rtc_series_entry *a,
    const struct rtc_series_entry *b)
{
	if (a->temporal_index >= 0 && b->temporal_index >= 0 &&
	    a->temporal_index != b->temporal_index)
		return icmp(a->temporal_index, b->temporal_index);
	if (a->acq_number >= 0 && b->acq_number >= 0 &&
	    a->acq_number != b->acq_number)
		return icmp(a->acq_number, b->acq_number);
	if (a->acq_time >= 0 && b->acq_time >= 0 &&
	    fabs(a->acq_time - b->acq_time) > 1e-6)
		return a->acq_time < b->acq_time ? -1 : 1;
	if (a->instance_number >= 0 && b->instance_number >= 0 &&
	    a->instance_number != b->instance_number)
		return icmp(a->instance_number, b->instance_number);
	return 0;
}

static int
path_cmp(const struct rtc_series_entry *a, const struct rtc_series_entry *b)
{
	if (a->path != NULL && b->path != NULL)
		return strcmp(a->path, b->path);
	return icmp(a->index, b->index);
}

/* entries: by series, then acquisition, then name */
static int
entry_qcmp(const void *pa, const void *pb)
{
	const struct rtc_series_entry *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->series_uid, b->series_uid)) != 0)
		return c;
	if (a->echo_number != b->echo_number)
		return icmp(a->echo_number, b->echo_number);
	if ((c = rtc_series_order_cmp(a, b)) != 0)
		return c;
	return path_cmp(a, b);
}

static int
same_group(const struct rtc_series_entry *a, const struct rtc_series_entry *b)
{
	return strcmp(a->series_uid, b->series_uid) == 0 &&
	    a->echo_number == b->echo_number;
}

/* pointers: by identity (duplicate detection), then name */
static int
ident_qcmp(const void *pa, const void *pb)
{
	const struct rtc_series_entry *a = *(struct rtc_series_entry *const *)pa;
	const struct rtc_series_entry *b = *(struct rtc_series_entry *const *)pb;
	int c, i;

	if ((c = strcmp(a->sop_uid, b->sop_uid)) != 0)
		return c;
	if (a->sop_uid[0] == '\0') {
		if ((c = icmp(a->instance_number, b->instance_number)) != 0 ||
		    (c = icmp(a->acq_number, b->acq_number)) != 0)
			return c;
		if (a->acq_time != b->acq_time)
			return a->acq_time < b->acq_time ? -1 : 1;
		for (i = 0; i < 3; i++)
			if (a->ipp[i] != b->ipp[i])
				return a->ipp[i] < b->ipp[i] ? -1 : 1;
	}
	return path_cmp(a, b);
}

static int
same_ident(const struct rtc_series_entry *a, const struct rtc_series_entry *b)
{
	if (a->sop_uid[0] != '\0' || b->sop_uid[0] != '\0')
		return strcmp(a->sop_uid, b->sop_uid) == 0;
	return a->instance_number == b->instance_number &&
	    a->acq_number == b->acq_number && a->acq_time == b->acq_time &&
	    a->ipp[0] == b->ipp[0] && a->ipp[1] == b->ipp[1] &&
	    a->ipp[2] == b->ipp[2];
}

/* pointers: by position, then acquisition, then name */
static int
pos_qcmp(const void *pa, const void *pb)
{
	const struct rtc_series_entry *a = *(struct rtc_series_entry *const *)pa;
	const struct rtc_series_entry *b = *(struct rtc_series_entry *const *)pb;
	int c;

	if (!same_pos(a->proj, b->proj))
		return a->proj < b->proj ? -1 : 1;
	if ((c = rtc_series_order_cmp(a, b)) != 0)
		return c;
	return path_cmp(a, b);
}

static void
set_error(struct rtc_series *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_error(struct rtc_series *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(s->error);
	s->error = strdup(buf);
}

/* Order and shape one series from its kept (non-duplicate) files. */
static int
shape_series(struct rtc_series *s)
{
	struct rtc_series_entry **f = s->files, *f0 = f[0];
	size_t n = s->nfiles, i;
	double normal[3];

	s->kind = f0->kind;
	s->nx = f0->cols;
	s->ny = f0->rows;
	for (i = 1; i < n; i++) {
		if (f[i]->kind != f0->kind) {
			set_error(s, "series %d mixes %s and %s files",
			    s->series_number, rtc_dicom_kind_name(f0->kind),
			    rtc_dicom_kind_name(f[i]->kind));
			return RTC_OK;
		}
		if (f[i]->rows != f0->rows || f[i]->cols != f0->cols ||
		    !same_iop(f[i]->iop, f0->iop) ||
		    (f0->kind != RTC_DICOM_SLICE &&
		    (f[i]->nslices != f0->nslices ||
		    f[i]->nvolumes != f0->nvolumes))) {
			set_error(s, "series %d: %s differs in image size, "
			    "slice count or orientation from %s",
			    s->series_number, f[i]->path ? f[i]->path : "a file",
			    f0->path ? f0->path : "the first file");
			return RTC_OK;
		}
	}
	if (f0->kind != RTC_DICOM_SLICE) {
		s->nz = f0->nslices;
		if (n > (size_t)(INT32_MAX / f0->nvolumes)) {
			set_error(s, "series %d has too many volumes",
			    s->series_number);
			return RTC_OK;
		}
		s->nt = (int)n * f0->nvolumes;
		return RTC_OK;
	}
	plane_normal(f0->iop, normal);
	for (i = 0; i < n; i++)
		f[i]->proj = rtc_vec3_dot(f[i]->ipp, normal);
	qsort(f, n, sizeof(*f), pos_qcmp);
	{
		size_t nloc = 1, run = 1, per = 0, k;
		struct rtc_series_entry **tmp;

		for (i = 1; i <= n; i++) {
			if (i < n && same_pos(f[i]->proj, f[i - 1]->proj)) {
				run++;
				continue;
			}
			if (per == 0)
				per = run;
			else if (run != per) {
				set_error(s, "series %d is incomplete: %zu "
				    "files at one position, %zu at another",
				    s->series_number, per, run);
				return RTC_OK;
			}
			if (i < n)
				nloc++;
			run = 1;
		}
		if (nloc > RTC_DICOM_MAX_SLICES || per > (size_t)INT32_MAX) {
			set_error(s, "series %d has %zu slice positions (at most "
			    "%d)", s->series_number, nloc, RTC_DICOM_MAX_SLICES);
			return RTC_OK;
		}
		s->nz = (int)nloc;
		s->nt = (int)per;
		/* f is position-major; the series wants volume-major */
		tmp = malloc(n * sizeof(*tmp));
		if (tmp == NULL)
			return RTC_ERR_NOMEM;
		for (k = 0; k < nloc; k++)
			for (i = 0; i < per; i++)
				tmp[i * nloc + k] = f[k * per + i];
		memcpy(f, tmp, n * sizeof(*tmp));
		free(tmp);
	}
	return RTC_OK;
}

static int
series_qcmp(const void *pa, const void *pb)
{
	const struct rtc_series *a = pa, *b = pb;

	int c;

	if (a->series_number != b->series_number)
		return icmp(a->series_number, b->series_number);
	if ((c = strcmp(a->uid, b->uid)) != 0)
		return c;
	return icmp(a->echo_number, b->echo_number);
}

void
rtc_series_free(struct rtc_series *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(s[i].files);
		free(s[i].error);
	}
	free(s);
}

int
rtc_series_group(struct rtc_series_entry *e, size_t n,
    rtc_series_dup_fn on_dup, void *arg, struct rtc_series **out,
    size_t *nout)
{
	struct rtc_series *ser = NULL;
	struct rtc_series_entry **ptr = NULL;
	size_t nser = 0, i, j, k, kept;
	int ret;

	if (e == NULL && n > 0)
		return RTC_ERR_INVAL;
	qsort(e, n, sizeof(*e), entry_qcmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_group(&e[j], &e[i]); j++)
			;
		nser++;
	}
	ser = calloc(nser > 0 ? nser : 1, sizeof(*ser));
	ptr = malloc((n > 0 ? n : 1) * sizeof(*ptr));
	if (ser == NULL || ptr == NULL) {
		ret = RTC_ERR_NOMEM;
		goto fail;
	}
	nser = 0;
	for (i = 0; i < n; i = j) {
		struct rtc_series *s = &ser[nser++];

		for (j = i + 1; j < n && same_group(&e[j], &e[i]); j++)
			;
		memcpy(s->uid, e[i].series_uid, sizeof(s->uid));
		s->series_number = e[i].series_number;
		s->echo_number = e[i].echo_number;
		/* duplicates: equal identities sort next to each other; the
		 * first (by name) stays */
		for (k = i; k < j; k++) {
			ptr[k - i] = &e[k];
			e[k].dup = 0;
		}
		qsort(ptr, j - i, sizeof(*ptr), ident_qcmp);
		for (k = 1; k < j - i; k++) {
			size_t h = k;

			while (h > 0 && ptr[h - 1]->dup)
				h--;
			if (h > 0 && same_ident(ptr[k], ptr[h - 1])) {
				ptr[k]->dup = 1;
				s->ndup++;
				if (on_dup != NULL)
					on_dup(arg, ptr[k], ptr[h - 1]);
			}
		}
		s->files = malloc((j - i) * sizeof(*s->files));
		if (s->files == NULL) {
			ret = RTC_ERR_NOMEM;
			goto fail;
		}
		kept = 0;
		for (k = i; k < j; k++)   /* e is in acquisition order */
			if (!e[k].dup)
				s->files[kept++] = &e[k];
		s->nfiles = kept;
		if ((ret = shape_series(s)) != RTC_OK)
			goto fail;
	}
	qsort(ser, nser, sizeof(*ser), series_qcmp);
	/* echoes per UID (groups of one UID are now next to each other) */
	for (i = 0; i < nser; i = j) {
		for (j = i + 1; j < nser && strcmp(ser[j].uid, ser[i].uid) == 0;
		    j++)
			;
		for (k = i; k < j; k++)
			ser[k].echoes = (int)(j - i);
	}
	free(ptr);
	*out = ser;
	*nout = nser;
	return RTC_OK;
fail:
	free(ptr);
	rtc_series_free(ser, nser);
	return ret;
}

void
rtc_series_stack_geometry(const struct rtc_dicom_meta *m0,
    const double ipp0[3], const double ipp1[3], const double ipplast[3],
    int nz, struct rtc_dicom_meta *geom)
{
	double n[3], d[3];
	int a;

	memcpy(geom, m0, sizeof(*geom));
	plane_normal(m0->iop, n);
	memcpy(geom->ipp, ipp0, sizeof(geom->ipp));
	memcpy(geom->ipp_last, ipplast, sizeof(geom->ipp_last));
	geom->nslices = nz;
	geom->n_slice_times = 0;
	if (nz > 1) {
		for (a = 0; a < 3; a++)
			d[a] = ipplast[a] - ipp0[a];
		if (rtc_vec3_dot(d, n) < 0)
			for (a = 0; a < 3; a++)
				n[a] = -n[a];
		for (a = 0; a < 3; a++)
			d[a] = ipp1[a] - ipp0[a];
		geom->slice_distance = sqrt(rtc_vec3_dot(d, d));
	}
	memcpy(geom->slice_normal, n, sizeof(n));
}

/* Times relative to their minimum when all known and not all equal. */
static int
relative_times(int nz, const double *v, double scale, double *times)
{
	double lo = 1e300, hi = -1e300;
	int k;

	if (v == NULL)
		return 0;
	for (k = 0; k < nz; k++) {
		if (v[k] < 0)
			return 0;
		lo = fmin(lo, v[k]);
		hi = fmax(hi, v[k]);
	}
	if (!(hi - lo > 1e-9))
		return 0;
	for (k = 0; k < nz; k++)
		times[k] = (v[k] - lo) * scale;
	return 1;
}

int
rtc_series_slice_times(const struct rtc_dicom_meta *m0, int nz,
    const int *stack, const double *trig, const double *acq, double *times)
{
	int k;

	if (nz < 2 || nz > RTC_DICOM_MAX_SLICES)
		return 0;
	if (m0->vendor == RTC_VENDOR_GE && m0->ge_slice_order >= 0 &&
	    m0->tr > 0) {
		double t[RTC_DICOM_MAX_SLICES];
		int mb = m0->ge_mb_factor > 0 ? m0->ge_mb_factor : 1;
		int by_stack = stack != NULL;

		if (rtc_dicom_slice_times_ge(nz, mb, m0->ge_slice_order, m0->tr,
		    t) == RTC_OK) {
			for (k = 0; k < nz && by_stack; k++)
				if (stack[k] < 1 || stack[k] > nz)
					by_stack = 0;
			for (k = 0; k < nz; k++)
				times[k] = t[by_stack ? stack[k] - 1 : k];
			return 1;
		}
	}
	if (relative_times(nz, trig, 1e-3, times))
		return 1;
	if (m0->vendor == RTC_VENDOR_SIEMENS &&
	    relative_times(nz, acq, 1.0, times))
		return 1;
	return 0;
}

/* ---- incremental assembly ---- */

#define RING 4096

struct asm_slice {
	double proj;
	double ipp[3];
	double acq;
	double trig;
	int stack;
	int instance;
};

struct asm_slot {
	int used;
	int temporal;              /* key when the files carry one, -1 */
	int n;                     /* slices held */
	uint64_t age;
	unsigned char *data;       /* n slices of slice_bytes */
	size_t data_cap;           /* in slices */
	struct asm_slice *sl;
	struct rtc_dicom_meta m0;  /* meta of the first slice */
};

struct rtc_asm {
	int max_open;
	struct asm_slot *slots;
	char uid[RTC_DICOM_STR];
	int rows, cols;
	enum rtc_dtype dtype;
	size_t slice_bytes;
	double iop[6];
	double normal[3];
	int nper;                  /* slices per volume, 0 unknown */
	uint64_t clock;
	int emitted;               /* volumes handed out in this series */
	size_t dropped;
	uint64_t ring[RING];
	size_t ring_n, ring_at;
	int *perm;
	size_t perm_cap;
	double *tmp;               /* 3 * RTC_DICOM_MAX_SLICES */
	int *stk;
	struct rtc_dicom_meta geom;  /* scratch for emit() */
};

struct rtc_asm *
rtc_asm_new(int max_open)
{
	struct rtc_asm *a;

	if (max_open == 0)
		max_open = 4;
	if (max_open < 2 || max_open > 64)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->max_open = max_open;
	a->slots = calloc((size_t)max_open, sizeof(*a->slots));
	a->tmp = malloc(3 * RTC_DICOM_MAX_SLICES * sizeof(double));
	a->stk = malloc(RTC_DICOM_MAX_SLICES * sizeof(int));
	if (a->slots == NULL || a->tmp == NULL || a->stk == NULL) {
		rtc_asm_free(a);
		return NULL;
	}
	return a;
}

void
rtc_asm_free(struct rtc_asm *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; a->slots != NULL && i < a->max_open; i++) {
		free(a->slots[i].data);
		free(a->slots[i].sl);
	}
	free(a->slots);
	free(a->perm);
	free(a->tmp);
	free(a->stk);
	free(a);
}

static void
drop_open(struct rtc_asm *a)
{
	int i;

	for (i = 0; i < a->max_open; i++)
		if (a->slots[i].used) {
			a->slots[i].used = 0;
			a->dropped++;
		}
}

void
rtc_asm_reset(struct rtc_asm *a)
{
	if (a == NULL)
		return;
	drop_open(a);
	a->uid[0] = '\0';
	a->nper = 0;
	a->emitted = 0;
	a->ring_n = a->ring_at = 0;
}

int
rtc_asm_slices_per_volume(const struct rtc_asm *a)
{
	return a->nper;
}

size_t
rtc_asm_dropped(const struct rtc_asm *a)
{
	return a->dropped;
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* RET: 1 when uid was seen recently (else it is remembered). */
static int
seen_before(struct rtc_asm *a, const char *uid)
{
	uint64_t h;
	size_t i;

	if (uid[0] == '\0')
		return 0;
	h = fnv1a(uid);
	for (i = 0; i < a->ring_n; i++)
		if (a->ring[i] == h)
			return 1;
	a->ring[a->ring_at] = h;
	a->ring_at = (a->ring_at + 1) % RING;
	if (a->ring_n < RING)
		a->ring_n++;
	return 0;
}

static int
slot_has(const struct asm_slot *s, double proj)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (same_pos(s->sl[i].proj, proj))
			return 1;
	return 0;
}

static int
slot_reserve(struct asm_slot *s, size_t slices, size_t slice_bytes)
{
	void *p;

	if (slices <= s->data_cap)
		return RTC_OK;
	if ((p = realloc(s->data, slices * slice_bytes)) == NULL)
		return RTC_ERR_NOMEM;
	s->data = p;
	if ((p = realloc(s->sl, slices * sizeof(*s->sl))) == NULL)
		return RTC_ERR_NOMEM;
	s->sl = p;
	s->data_cap = slices;
	return RTC_OK;
}

/*
 * The volume's place in its series, for the realtime ordering queue
 * (which keys on acquisition_number): per-slice series often give every
 * slice the same AcquisitionNumber (GE: 1 throughout). In turn: the
 * files' temporal index; else, with a known slice count, the volume that
 * the lowest InstanceNumber falls in (instances count slices across the
 * series: 1..n is volume 1, n+1..2n volume 2); else the order in which
 * volumes completed.
 */
static int
temporal_key(struct rtc_asm *a, const struct asm_slot *s,
    const struct rtc_volume *out)
{
	int n = a->nper > 0 ? a->nper : s->n;

	a->emitted++;
	if (s->temporal >= 0)
		return s->temporal;
	if (n > 0 && out->acq.instance_number >= 1)
		return (out->acq.instance_number - 1) / n + 1;
	return a->emitted;
}

/* Build out from a full slot; free the slot. */
static int
emit(struct rtc_asm *a, struct asm_slot *s, struct rtc_volume *out)
{
	struct rtc_dicom_meta *geom = &a->geom;
	int n = s->n, i, j, r;
	double *acq = a->tmp, *trig = a->tmp + RTC_DICOM_MAX_SLICES;
	double *times = a->tmp + 2 * RTC_DICOM_MAX_SLICES;

	if ((size_t)n > a->perm_cap) {
		int *p = realloc(a->perm, (size_t)n * sizeof(*p));

		if (p == NULL)
			return RTC_ERR_NOMEM;
		a->perm = p;
		a->perm_cap = (size_t)n;
	}
	/* insertion sort by position: n is small and nearly sorted */
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && s->sl[a->perm[j - 1]].proj > s->sl[i].proj;
		    j--)
			a->perm[j] = a->perm[j - 1];
		a->perm[j] = i;
	}
	if ((r = rtc_volume_reshape(out, a->cols, a->rows, n, 1, a->dtype)) !=
	    RTC_OK)
		return r;
	for (i = 0; i < n; i++) {
		const struct asm_slice *q = &s->sl[a->perm[i]];

		memcpy((unsigned char *)out->data + (size_t)i * a->slice_bytes,
		    s->data + (size_t)a->perm[i] * a->slice_bytes,
		    a->slice_bytes);
		acq[i] = q->acq;
		trig[i] = q->trig;
		a->stk[i] = q->stack;
	}
	rtc_series_stack_geometry(&s->m0, s->sl[a->perm[0]].ipp,
	    s->sl[a->perm[n > 1 ? 1 : 0]].ipp, s->sl[a->perm[n - 1]].ipp, n,
	    geom);
	rtc_dicom_meta_affine(geom, out->affine);
	rtc_volume_update_voxel_size(out);
	out->tr = s->m0.tr;
	if (s->m0.rescale_slope != 1.0 || s->m0.rescale_intercept != 0.0) {
		out->scl_slope = s->m0.rescale_slope;
		out->scl_inter = s->m0.rescale_intercept;
	} else
		out->scl_slope = out->scl_inter = 0.0;
	out->acq = s->m0.acq;
	for (i = 0; i < n; i++) {
		if (acq[i] >= 0 && (out->acq.acquisition_time < 0 ||
		    acq[i] < out->acq.acquisition_time))
			out->acq.acquisition_time = acq[i];
		if (s->sl[i].instance >= 0 && (out->acq.instance_number < 0 ||
		    s->sl[i].instance < out->acq.instance_number))
			out->acq.instance_number = s->sl[i].instance;
	}
	out->acq.acquisition_number = temporal_key(a, s, out);
	if (rtc_series_slice_times(&s->m0, n, a->stk, trig, acq, times)) {
		if (out->slice_timing == NULL &&
		    (out->slice_timing = malloc((size_t)n * sizeof(double))) ==
		    NULL)
			return RTC_ERR_NOMEM;
		memcpy(out->slice_timing, times, (size_t)n * sizeof(double));
	} else {
		free(out->slice_timing);
		out->slice_timing = NULL;
	}
	s->used = 0;
	return RTC_OK;
}

static int
whole_volume(struct rtc_asm *a, const struct rtc_volume *vol,
    const struct rtc_dicom_meta *meta, struct rtc_volume *out, int *done)
{
	int r;

	if (seen_before(a, meta->sop_instance_uid))
		return RTC_ERR_EXISTS;
	if ((r = rtc_volume_reshape(out, vol->nx, vol->ny, vol->nz, vol->nt,
	    vol->dtype)) != RTC_OK)
		return r;
	memcpy(out->data, vol->data, rtc_volume_nbytes(vol));
	if (vol->slice_timing == NULL) {
		free(out->slice_timing);
		out->slice_timing = NULL;
	}
	if ((r = rtc_volume_copy_header(out, vol)) != RTC_OK)
		return r;
	*done = 1;
	return RTC_OK;
}

static void
start_series(struct rtc_asm *a, const struct rtc_volume *vol,
    const struct rtc_dicom_meta *m)
{
	drop_open(a);
	memcpy(a->uid, m->acq.series_uid, sizeof(a->uid));
	a->emitted = 0;
	a->rows = m->rows;
	a->cols = m->cols;
	a->dtype = vol->dtype;
	a->slice_bytes = (size_t)m->rows * (size_t)m->cols *
	    rtc_dtype_size(vol->dtype);
	memcpy(a->iop, m->iop, sizeof(a->iop));
	plane_normal(m->iop, a->normal);
	a->nper = m->locations_in_acq > 0 ? m->locations_in_acq :
	    m->images_in_acq > 0 ? m->images_in_acq : 0;
	if (a->nper > RTC_DICOM_MAX_SLICES)
		a->nper = 0;
}

int
rtc_asm_add(struct rtc_asm *a, const struct rtc_volume *vol,
    const struct rtc_dicom_meta *meta, struct rtc_volume *out, int *done,
    char **cause)
{
	struct asm_slot *s = NULL, *oldest = NULL;
	struct asm_slice *q;
	double proj;
	int i, nused = 0, r;

	if (a == NULL || vol == NULL || meta == NULL || out == NULL ||
	    done == NULL)
		return RTC_ERR_INVAL;
	*done = 0;
	if (meta->kind != RTC_DICOM_SLICE)
		return whole_volume(a, vol, meta, out, done);
	if (vol->nz != 1 || vol->nt != 1 || vol->nx != meta->cols ||
	    vol->ny != meta->rows) {
		rtc_cause_set(cause, "a slice must be one %dx%d image",
		    meta->cols, meta->rows);
		return RTC_ERR_INVAL;
	}
	if (a->uid[0] == '\0' || strcmp(a->uid, meta->acq.series_uid) != 0)
		start_series(a, vol, meta);
	if (meta->rows != a->rows || meta->cols != a->cols ||
	    vol->dtype != a->dtype || !same_iop(meta->iop, a->iop)) {
		rtc_cause_set(cause, "series %d: a slice of %dx%d differs in "
		    "size, type or orientation from the series",
		    meta->acq.series_number, meta->cols, meta->rows);
		return RTC_ERR_FORMAT;
	}
	if (seen_before(a, meta->sop_instance_uid))
		return RTC_ERR_EXISTS;
	proj = rtc_vec3_dot(meta->ipp, a->normal);

	for (i = 0; i < a->max_open; i++) {
		struct asm_slot *c = &a->slots[i];

		if (!c->used)
			continue;
		nused++;
		if (oldest == NULL || c->age < oldest->age)
			oldest = c;
		if (meta->temporal_index >= 0) {
			if (c->temporal == meta->temporal_index)
				s = c;
		} else if (!slot_has(c, proj) && (s == NULL || c->age < s->age))
			s = c;
	}
	if (s != NULL && slot_has(s, proj)) {
		rtc_cause_set(cause, "series %d: two slices at one position "
		    "in volume %d", meta->acq.series_number,
		    meta->temporal_index);
		return RTC_ERR_FORMAT;
	}
	/* learning the slice count: a repeated position in the oldest
	 * volume means that volume was whole */
	if (a->nper == 0 && oldest != NULL && slot_has(oldest, proj)) {
		a->nper = oldest->n;
		if ((r = emit(a, oldest, out)) != RTC_OK)
			return r;
		*done = 1;
		nused--;
		if (s == oldest)
			s = NULL;
	}
	if (s == NULL) {
		/* open a volume, making room by dropping the oldest */
		if (nused >= a->max_open) {
			oldest = NULL;
			for (i = 0; i < a->max_open; i++)
				if (a->slots[i].used && (oldest == NULL ||
				    a->slots[i].age < oldest->age))
					oldest = &a->slots[i];
			if (oldest != NULL) {
				oldest->used = 0;
				a->dropped++;
			}
		}
		for (i = 0; i < a->max_open && s == NULL; i++)
			if (!a->slots[i].used)
				s = &a->slots[i];
		if (s == NULL)
			return RTC_ERR_INTERNAL;
		s->used = 1;
		s->n = 0;
		s->temporal = meta->temporal_index;
		s->age = ++a->clock;
		memcpy(&s->m0, meta, sizeof(s->m0));
	}
	if (s->n >= RTC_DICOM_MAX_SLICES) {
		rtc_cause_set(cause, "series %d: more than %d slices in a "
		    "volume", meta->acq.series_number, RTC_DICOM_MAX_SLICES);
		return RTC_ERR_TOO_BIG;
	}
	if ((r = slot_reserve(s, a->nper > s->n ? (size_t)a->nper :
	    (size_t)s->n + 8, a->slice_bytes)) != RTC_OK)
		return r;
	memcpy(s->data + (size_t)s->n * a->slice_bytes, vol->data,
	    a->slice_bytes);
	q = &s->sl[s->n++];
	q->proj = proj;
	memcpy(q->ipp, meta->ipp, sizeof(q->ipp));
	q->acq = meta->acq.acquisition_time;
	q->trig = meta->trigger_time;
	q->stack = meta->stack_position;
	q->instance = meta->acq.instance_number;
	if (a->nper > 0 && s->n >= a->nper && !*done) {
		if ((r = emit(a, s, out)) != RTC_OK)
			return r;
		*done = 1;
	}
	return RTC_OK;
}

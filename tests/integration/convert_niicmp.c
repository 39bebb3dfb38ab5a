/*
 * convert_niicmp: compare two NIfTI images (and their BIDS sidecars) in
 * world space, the way the convert tests judge rtc against dcm2niix.
 *
 *   convert_niicmp [-t TOL_MM] OURS.nii REF.nii [OURS.json REF.json]
 *
 * The two may store the same image with axes permuted or flipped. With A
 * and B the images' affines (sform, else qform), inv(B)*A must be a
 * signed permutation with an integer shift: it maps each of our voxels to
 * the reference voxel at the same place. Then:
 *   - the world positions of our grid's corners through A and of their
 *     mapped reference voxels through B agree within TOL_MM (1e-3 mm);
 *   - every voxel value of every volume is equal (stored values, no
 *     scaling; the scaling fields must agree too);
 *   - the TR (pixdim[4], in s) agrees;
 *   - sidecars: RepetitionTime, EchoTime and FlipAngle agree; SliceTiming
 *     agrees slice by slice once our slice k is mapped to the reference's;
 *     PhaseEncodingDirection (or just its axis when we give only the
 *     axis and the reference does too) agrees after mapping the axis and
 *     its sign; PhaseEncodingPolarityGE is the same on both sides or on
 *     neither.
 * Reads the files with nifticlib and jansson only: nothing of rtc's own
 * code judges rtc's output. Exit 0 when all agree, 1 otherwise.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nifti2_io.h>

static double tol_mm = 1e-3;

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "niicmp: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	/* at once: what is still held is no leak to report (a sanitizer
	 * build's exit-time leak check would turn this 1 into 134) */
	fflush(NULL);
	_exit(1);
}

static void
affine_of(const nifti_image *n, double a[4][4])
{
	int r, c;

	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			a[r][c] = n->sform_code > 0 ? n->sto_xyz.m[r][c] :
			    n->qto_xyz.m[r][c];
}

static double
value(const nifti_image *n, int64_t idx)
{
	switch (n->datatype) {
	case DT_UINT8: return ((const uint8_t *)n->data)[idx];
	case DT_INT16: return ((const int16_t *)n->data)[idx];
	case DT_UINT16: return ((const uint16_t *)n->data)[idx];
	case DT_INT32: return ((const int32_t *)n->data)[idx];
	case DT_UINT32: return ((const uint32_t *)n->data)[idx];
	case DT_FLOAT32: return ((const float *)n->data)[idx];
	case DT_FLOAT64: return ((const double *)n->data)[idx];
	}
	die("unsupported datatype %d", n->datatype);
}

static double
tr_seconds(const nifti_image *n)
{
	double t = n->dt;

	if (n->time_units == NIFTI_UNITS_MSEC)
		t /= 1000.0;
	else if (n->time_units == NIFTI_UNITS_USEC)
		t /= 1e6;
	return t;
}

static double
slope(const nifti_image *n)
{
	return n->scl_slope == 0.0 ? 1.0 : n->scl_slope;
}

/* perm[a] = the reference axis of our axis a; sign[a]; shift[r] */
static int perm[3], sgn[3];
static long shift[3];

static void
world(double a[4][4], double i, double j, double k, double out[3])
{
	int r;

	for (r = 0; r < 3; r++)
		out[r] = a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
}

static json_t *
load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	if (j == NULL)
		die("%s: %s", path, err.text);
	return j;
}

static int
num(json_t *o, const char *k, double *v)
{
	json_t *x = json_object_get(o, k);

	if (!json_is_number(x))
		return 0;
	*v = json_number_value(x);
	return 1;
}

static void
same_num(json_t *a, json_t *b, const char *k, double tol, int required)
{
	double x, y;
	int ha = num(a, k, &x), hb = num(b, k, &y);

	if (required && (!ha || !hb))
		die("sidecar %s missing (ours %d, reference %d)", k, ha, hb);
	if (ha && hb && fabs(x - y) > tol)
		die("sidecar %s differs: %.9g vs %.9g", k, x, y);
}

/* Parse "j-" into axis 0..2 and sign. */
static int
pe_parse(const char *s, int *axis, int *sign)
{
	if (s == NULL || (s[0] != 'i' && s[0] != 'j' && s[0] != 'k'))
		return 0;
	*axis = s[0] - 'i';
	*sign = s[1] == '-' ? -1 : 1;
	return 1;
}

static void
compare_json(const char *pa, const char *pb, int nz)
{
	json_t *a = load_json(pa), *b = load_json(pb);
	json_t *sa = json_object_get(a, "SliceTiming");
	json_t *sb = json_object_get(b, "SliceTiming");
	const char *da, *db;
	int ax, sx, bx, bs, k;

	same_num(a, b, "RepetitionTime", 1e-6, 1);
	same_num(a, b, "EchoTime", 1e-6, 0);
	same_num(a, b, "FlipAngle", 1e-6, 0);
	if ((sa == NULL) != (sb == NULL))
		die("SliceTiming only in %s", sa ? "ours" : "the reference");
	if (sa != NULL) {
		if ((int)json_array_size(sa) != nz ||
		    (int)json_array_size(sb) != nz)
			die("SliceTiming has %zu/%zu values for %d slices",
			    json_array_size(sa), json_array_size(sb), nz);
		if (perm[2] != 2)
			die("our slice axis is the reference's axis %d", perm[2]);
		for (k = 0; k < nz; k++) {
			long rk = sgn[2] * k + shift[2];
			double x = json_number_value(json_array_get(sa,
			    (size_t)k));
			double y = json_number_value(json_array_get(sb,
			    (size_t)rk));

			if (fabs(x - y) > 1e-4)
				die("SliceTiming of our slice %d (reference %ld)"
				    ": %.6f vs %.6f", k, rk, x, y);
		}
	}
	da = json_string_value(json_object_get(a, "PhaseEncodingDirection"));
	if (da == NULL)
		da = json_string_value(json_object_get(a, "PhaseEncodingAxis"));
	db = json_string_value(json_object_get(b, "PhaseEncodingDirection"));
	if (db == NULL)
		db = json_string_value(json_object_get(b, "PhaseEncodingAxis"));
	if (da != NULL && db != NULL && pe_parse(da, &ax, &sx) &&
	    pe_parse(db, &bx, &bs)) {
		int axis_only = json_object_get(a, "PhaseEncodingDirection") ==
		    NULL || json_object_get(b, "PhaseEncodingDirection") == NULL;

		if (perm[ax] != bx || (!axis_only && sx * sgn[ax] != bs))
			die("phase encoding %s (ours) is not %s (reference)",
			    da, db);
	}
	/* the reference knows the polarity: so must we */
	if (json_object_get(b, "PhaseEncodingDirection") != NULL &&
	    json_object_get(a, "PhaseEncodingDirection") == NULL)
		die("the reference has PhaseEncodingDirection %s, we do not",
		    db);
	da = json_string_value(json_object_get(a, "PhaseEncodingPolarityGE"));
	db = json_string_value(json_object_get(b, "PhaseEncodingPolarityGE"));
	if ((da == NULL) != (db == NULL) || (da != NULL && strcmp(da, db) != 0))
		die("PhaseEncodingPolarityGE %s (ours) is not %s (reference)",
		    da != NULL ? da : "absent", db != NULL ? db : "absent");
	printf("niicmp: sidecars agree (TR, TE, flip, slice timing, PE and "
	    "its polarity)\n");
	json_decref(a);
	json_decref(b);
}

int
main(int argc, char **argv)
{
	nifti_image *a, *b;
	double A[4][4], B[4][4], Bi[4][4], M[4][4];
	nifti_dmat44 bm;
	double maxerr = 0.0;
	int64_t nvox, t, i, j, k, nt;
	int r, c, argi = 1;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		tol_mm = strtod(argv[2], NULL);
		argi = 3;
	}
	if (argc - argi != 2 && argc - argi != 4) {
		fprintf(stderr, "usage: convert_niicmp [-t TOL_MM] OURS.nii "
		    "REF.nii [OURS.json REF.json]\n");
		return 2;
	}
	a = nifti_image_read(argv[argi], 1);
	b = nifti_image_read(argv[argi + 1], 1);
	if (a == NULL || b == NULL)
		die("cannot read %s", a == NULL ? argv[argi] : argv[argi + 1]);
	if (a->nu > 1 || b->nu > 1)
		die("5D images");
	nt = a->nt;
	if (b->nt != nt)
		die("%lld volumes vs %lld", (long long)nt, (long long)b->nt);
	nvox = a->nx * a->ny * a->nz;
	if (b->nx * b->ny * b->nz != nvox)
		die("%lldx%lldx%lld vs %lldx%lldx%lld", (long long)a->nx,
		    (long long)a->ny, (long long)a->nz, (long long)b->nx,
		    (long long)b->ny, (long long)b->nz);
	affine_of(a, A);
	affine_of(b, B);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			bm.m[r][c] = B[r][c];
	bm = nifti_dmat44_inverse(bm);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			Bi[r][c] = bm.m[r][c];
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++) {
			M[r][c] = 0;
			for (k = 0; k < 4; k++)
				M[r][c] += Bi[r][k] * A[k][c];
		}
	/* M must map our axes onto the reference's, one to one */
	for (c = 0; c < 3; c++) {
		int hits = 0;

		for (r = 0; r < 3; r++) {
			double v = M[r][c];

			if (fabs(fabs(v) - 1.0) < 1e-3) {
				perm[c] = r;
				sgn[c] = v > 0 ? 1 : -1;
				hits++;
			} else if (fabs(v) > 1e-3)
				die("our axis %d is not a reference axis "
				    "(inv(B)*A column %.6f %.6f %.6f)", c,
				    M[0][c], M[1][c], M[2][c]);
		}
		if (hits != 1)
			die("our axis %d maps to %d reference axes", c, hits);
	}
	if (perm[0] == perm[1] || perm[0] == perm[2] || perm[1] == perm[2])
		die("axes do not map one to one");
	for (r = 0; r < 3; r++) {
		shift[r] = lround(M[r][3]);
		if (fabs(M[r][3] - (double)shift[r]) > 1e-2)
			die("the grids are offset by %.4f voxels along "
			    "reference axis %d", M[r][3] - (double)shift[r], r);
	}
	/* corners: world positions through both affines */
	for (i = 0; i < 8; i++) {
		double v[3] = { (i & 1) ? a->nx - 1 : 0, (i & 2) ? a->ny - 1 : 0,
		    (i & 4) ? a->nz - 1 : 0 }, rv[3], wa[3], wb[3], e;

		for (r = 0; r < 3; r++)
			rv[r] = 0;
		for (c = 0; c < 3; c++)
			rv[perm[c]] = sgn[c] * v[c];
		for (r = 0; r < 3; r++)
			rv[r] += (double)shift[r];
		world(A, v[0], v[1], v[2], wa);
		world(B, rv[0], rv[1], rv[2], wb);
		e = sqrt((wa[0] - wb[0]) * (wa[0] - wb[0]) +
		    (wa[1] - wb[1]) * (wa[1] - wb[1]) +
		    (wa[2] - wb[2]) * (wa[2] - wb[2]));
		if (e > maxerr)
			maxerr = e;
	}
	if (maxerr > tol_mm)
		die("affines differ by %.6f mm at a corner (tolerance %g mm)",
		    maxerr, tol_mm);
	if (fabs(slope(a) - slope(b)) > 1e-9 ||
	    fabs(a->scl_inter - b->scl_inter) > 1e-9)
		die("scaling differs: %g/%g vs %g/%g", a->scl_slope,
		    a->scl_inter, b->scl_slope, b->scl_inter);
	if (fabs(tr_seconds(a) - tr_seconds(b)) > 1e-4)
		die("TR %.6f s vs %.6f s", tr_seconds(a), tr_seconds(b));
	/* every voxel of every volume */
	for (t = 0; t < nt; t++)
		for (k = 0; k < a->nz; k++)
			for (j = 0; j < a->ny; j++)
				for (i = 0; i < a->nx; i++) {
					int64_t v[3] = { i, j, k }, rv[3], ia, ib;
					double x, y;

					for (c = 0; c < 3; c++)
						rv[perm[c]] = sgn[c] * v[c];
					for (r = 0; r < 3; r++)
						rv[r] += shift[r];
					if (rv[0] < 0 || rv[0] >= b->nx ||
					    rv[1] < 0 || rv[1] >= b->ny ||
					    rv[2] < 0 || rv[2] >= b->nz)
						die("voxel %lld,%lld,%lld maps "
						    "outside the reference",
						    (long long)i, (long long)j,
						    (long long)k);
					ia = ((t * a->nz + k) * a->ny + j) *
					    a->nx + i;
					ib = ((t * b->nz + rv[2]) * b->ny +
					    rv[1]) * b->nx + rv[0];
					x = value(a, ia);
					y = value(b, ib);
					if (x != y)
						die("voxel %lld,%lld,%lld of "
						    "volume %lld: %g vs %g",
						    (long long)i, (long long)j,
						    (long long)k, (long long)t,
						    x, y);
				}
	printf("niicmp: %lldx%lldx%lldx%lld equal in world space: every "
	    "voxel, TR %g s, affine within %.2g mm (axes %d%s %d%s %d%s)\n",
	    (long long)a->nx, (long long)a->ny, (long long)a->nz, (long long)nt,
	    tr_seconds(a), maxerr, perm[0], sgn[0] < 0 ? "-" : "+", perm[1],
	    sgn[1] < 0 ? "-" : "+", perm[2], sgn[2] < 0 ? "-" : "+");
	if (argc - argi == 4)
		compare_json(argv[argi + 2], argv[argi + 3], (int)a->nz);
	nifti_image_free(a);
	nifti_image_free(b);
	return 0;
}

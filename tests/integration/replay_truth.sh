#!/bin/sh
# rtc replay of phantom scans whose truth is known (rtc synth, truth.tsv),
# through the DICOM files and the whole live path, with the shipped
# neurofeedback project:
#  1. a head moving by up to 1.5 mm / 1.5 deg: the confounds rtc writes
#     match the applied motion, relative to the reference volume (the
#     first after the project's two dummies): mean RMS point error over a
#     50 mm sphere <= 0.08 mm, worst <= 0.2 mm. (The phantom is piecewise
#     constant with partial volume at every edge and 1% noise; the motion
#     kernel's own figure on real EPI is 0.03 mm; these bounds are twice
#     what the unit tests see on the same kind of data, and an error in
#     the convention (a sign, a centre, the rotation order) gives
#     millimetres.) FD follows from the same numbers.
#  2. activation blocks in a sphere at the head's centre: the feedback
#     (the target sphere's PSC) follows them, r > 0.7 (chance: |r| <
#     0.25 for 90 volumes).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"

# ---- 1. motion ---------------------------------------------------------
"$RTC_BIN" -q synth -o "$T/mov" --volumes 24 --matrix 64x64x27 --tr 2 \
    --motion sine:1.5,1.5,30 || fail "synth failed"
expect_status 0 "$RTC_BIN" replay "$T/mov" --fast --project neurofeedback \
    --out "$T/b1"
conf="$T/b1/derivatives/rtc/sub-01/func/sub-01_task-feedback_run-1_desc-confounds_timeseries.tsv"
[ -f "$conf" ] || { find "$T/b1"; fail "no confounds table"; }
"$PY" - "$T/mov/truth.tsv" "$conf" <<'PYEOF' || fail "motion does not match the truth"
import math, sys

def rows(path):
    lines = open(path).read().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, l.split("\t"))) for l in lines[1:]]

def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)]
            for i in range(4)]

def rigid(t, r):
    """rtc's convention, centre at the origin: R = Rz Ry Rx, then t"""
    cx, sx = math.cos(r[0]), math.sin(r[0])
    cy, sy = math.cos(r[1]), math.sin(r[1])
    cz, sz = math.cos(r[2]), math.sin(r[2])
    Rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]]
    Ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
    Rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]
    m3 = lambda a, b: [[sum(a[i][k] * b[k][j] for k in range(3))
                        for j in range(3)] for i in range(3)]
    R = m3(Rz, m3(Ry, Rx))
    return [R[0] + [t[0]], R[1] + [t[1]], R[2] + [t[2]], [0, 0, 0, 1]]

def inverse(T):
    R = [[T[j][i] for j in range(3)] for i in range(3)]
    t = [-sum(R[i][k] * T[k][3] for k in range(3)) for i in range(3)]
    return [R[0] + [t[0]], R[1] + [t[1]], R[2] + [t[2]], [0, 0, 0, 1]]

def rms(A, B, radius=50.0):
    e2 = sum((A[i][3] - B[i][3]) ** 2 for i in range(3))
    m2 = sum((A[i][j] - B[i][j]) ** 2 for i in range(3) for j in range(3))
    return math.sqrt(e2 + radius * radius / 5.0 * m2)

keys = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
truth = rows(sys.argv[1])
est = rows(sys.argv[2])
assert len(truth) == len(est) == 24
ref = 2                      # volume 3: the first after two dummies
assert est[0]["trans_x"] == "n/a" and est[1]["trans_x"] == "n/a"
Tinv = inverse(rigid([float(truth[ref][k]) for k in keys[:3]],
                     [float(truth[ref][k]) for k in keys[3:]]))
errs = []
for v in range(ref, 24):
    T = matmul(rigid([float(truth[v][k]) for k in keys[:3]],
                     [float(truth[v][k]) for k in keys[3:]]), Tinv)
    E = rigid([float(est[v][k]) for k in keys[:3]],
              [float(est[v][k]) for k in keys[3:]])
    errs.append(rms(E, T))
mean = sum(errs) / len(errs)
print("# motion vs truth: mean RMS point error %.4f mm, max %.4f mm over "
      "%d volumes" % (mean, max(errs), len(errs)))
assert mean <= 0.08 and max(errs) <= 0.2, errs
# FD is Power's from the same parameters
fd = [float(r["framewise_displacement"]) for r in est[ref:]]
assert fd[0] == 0.0
for v in range(ref + 1, 24):
    a = [float(est[v][k]) for k in keys]
    b = [float(est[v - 1][k]) for k in keys]
    want = sum(abs(a[i] - b[i]) for i in range(3)) + \
        50 * sum(abs(a[i] - b[i]) for i in range(3, 6))
    assert abs(want - fd[v - ref]) < 1e-4, (v, want, fd[v - ref])
PYEOF

# ---- 2. activation -----------------------------------------------------
"$RTC_BIN" -q synth -o "$T/act" --volumes 92 --matrix 40x40x16 --tr 2 \
    --activation 3 || fail "synth failed"
expect_status 0 "$RTC_BIN" replay "$T/act" --fast --project neurofeedback \
    --out "$T/b2"
fb="$T/b2/derivatives/rtc/sub-01/func/sub-01_task-feedback_run-1_desc-feedback_timeseries.tsv"
"$PY" - "$T/act/truth.tsv" "$fb" <<'PYEOF' || fail "feedback does not follow the activation"
import math, sys
def col(path, name):
    lines = open(path).read().splitlines()
    i = lines[0].split("\t").index(name)
    return [l.split("\t")[i] for l in lines[1:]]
act = [float(x) for x in col(sys.argv[1], "activation")]
fb = col(sys.argv[2], "feedback")
pairs = [(float(f), a) for f, a in zip(fb, act) if f != "n/a"]
assert len(pairs) >= 88, len(pairs)
n = len(pairs)
mf = sum(p[0] for p in pairs) / n
ma = sum(p[1] for p in pairs) / n
sab = sum((f - mf) * (a - ma) for f, a in pairs)
saa = sum((f - mf) ** 2 for f, a in pairs)
sbb = sum((a - ma) ** 2 for f, a in pairs)
r = sab / math.sqrt(saa * sbb)
print("# feedback vs activation: r = %.3f over %d volumes" % (r, n))
assert r > 0.7, r
PYEOF
echo "ok: motion matches truth, feedback follows activation"

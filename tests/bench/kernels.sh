#!/bin/sh
# kernels.sh: per-volume timings of the realtime kernels (motion, 5 mm
# smoothing, GLM update and t map, ROI, online classifier) on a real EPI
# series, 1 vs 2 OpenMP threads, at 64x64x36 and 104x104x72, next to
# Python peers measured in the same run on the same volumes: dipy's rigid
# registration (the motion-correction peer) and scipy's gaussian_filter.
#
#   tests/bench/kernels.sh [BUILD_DIR]      (default: ./build)
#
# Env: VOLUMES_SMALL (400), VOLUMES_LARGE (200), PEER_VOLUMES (5).
# Needs dcm2niix; the peers need Debian's python3-dipy and python3-nibabel
# (apt-get install --no-install-recommends python3-dipy python3-nibabel);
# without them the peer lines say so. The machine is shared: figures are
# medians over many volumes (the first 5 are left out as warm-up).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
data=${RTC_TEST_DATA:-$top/../shared/data}
series=$data/dicom/siemens-vd13-mosaic
nsmall=${VOLUMES_SMALL:-400}
nlarge=${VOLUMES_LARGE:-200}
npeer=${PEER_VOLUMES:-5}

[ -d "$series" ] || { echo "kernels.sh: no test data at $series" >&2; exit 1; }
command -v dcm2niix >/dev/null || { echo "kernels.sh: needs dcm2niix" >&2; exit 1; }
make -s -C "$build" tests/bench/bench_kernels >/dev/null
bench=$build/tests/bench/bench_kernels

T=$(mktemp -d /tmp/rtc-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
dcm2niix -b n -z n -f series -o "$T" "$series" >/dev/null
nii=$T/series.nii

echo "kernels.sh: $(nproc) CPUs, $(uname -m), series $(basename "$series")"
for size in native 104x104x72; do
	for threads in 1 2; do
		if [ "$size" = native ]; then
			set -- --volumes "$nsmall"
		else
			set -- --size "$size" --volumes "$nlarge"
		fi
		OMP_NUM_THREADS=$threads "$bench" "$nii" "$@" >"$T/out.$size.$threads" \
		    2>"$T/err.$size.$threads"
		echo "--- $(head -n 1 "$T/out.$size.$threads")"
		cat "$T/err.$size.$threads"
	done
done

# median ms of a stage from a bench JSON line
stage() { sed -n 's/.*"'"$2"'":{"p50":\([0-9.]*\).*/\1/p' "$1" | head -n 1; }

echo
echo "p50 per volume, ms (1 thread / 2 threads):"
printf '%-12s %10s %10s %10s %10s\n' stage 64x64x36 "" 104x104x72 ""
for s in motion smooth glm_add glm_tmap roi classifier total; do
	printf '%-12s %10s %10s %10s %10s\n' "$s" \
	    "$(stage "$T/out.native.1" "$s")" "$(stage "$T/out.native.2" "$s")" \
	    "$(stage "$T/out.104x104x72.1" "$s")" "$(stage "$T/out.104x104x72.2" "$s")"
done

# Peers on the real volumes of the same series.
if /usr/bin/python3 -c 'import dipy.align.imaffine, nibabel, scipy.ndimage' 2>/dev/null; then
	cat >"$T/peer.py" <<'PY'
import statistics, sys, time
import nibabel as nib
import numpy as np
from scipy import ndimage
from dipy.align.imaffine import AffineRegistration, MutualInformationMetric
from dipy.align.transforms import RigidTransform3D

img = nib.load(sys.argv[1])
n = int(sys.argv[2])
data = np.asarray(img.dataobj, dtype=np.float32)
aff = img.affine
static = data[..., 0]
vs = np.sqrt((aff[:3, :3] ** 2).sum(axis=0))
sigma = 5.0 / (2.0 * np.sqrt(2.0 * np.log(2.0))) / vs
t_smooth = []
for k in range(50):
    t0 = time.perf_counter()
    ndimage.gaussian_filter(static, sigma, truncate=3.0)
    t_smooth.append((time.perf_counter() - t0) * 1e3)
reg = AffineRegistration(metric=MutualInformationMetric(32, None),
                         level_iters=[10000, 1000, 100],
                         sigmas=[3.0, 1.0, 0.0], factors=[4, 2, 1],
                         verbosity=0)
t_reg = []
for k in range(n):
    moving = data[..., 1 + k % (data.shape[3] - 1)]
    t0 = time.perf_counter()
    reg.optimize(static, moving, RigidTransform3D(), None, aff, aff)
    t_reg.append((time.perf_counter() - t0) * 1e3)
print("%.3f %.3f" % (statistics.median(t_reg), statistics.median(t_smooth[5:])))
PY
	/usr/bin/python3 "$T/peer.py" "$nii" "$npeer" >"$T/peer.out"
	read -r peer_reg peer_smooth <"$T/peer.out"
	rtc_mot=$(stage "$T/out.native.2" motion)
	rtc_smo=$(stage "$T/out.native.1" smooth)
	echo
	echo "peers at 64x64x36 (p50 per volume):"
	awk -v p="$peer_reg" -v r="$rtc_mot" 'BEGIN { printf "  motion: dipy rigid registration (MI, 3 levels) %.1f ms vs rtc %.3f ms (2 threads): %.0fx\n", p, r, p / r }'
	awk -v p="$peer_smooth" -v r="$rtc_smo" 'BEGIN { printf "  smoothing 5 mm: scipy gaussian_filter %.3f ms vs rtc %.3f ms (1 thread): %.1fx\n", p, r, p / r }'
else
	echo
	echo "peers: not measured (apt-get install --no-install-recommends python3-dipy python3-nibabel)"
fi

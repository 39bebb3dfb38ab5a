#!/bin/sh
# live.sh: what the realtime engine's tests and benchmark need besides the
# build. Nothing runs as a server.
#  - dcmtk: storescu (DCMTK's own sender, against rtc live --scp);
#  - bids-validator 1.15.0 (npm): the BIDS a session writes is checked by
#    it when it is installed (tests/integration/replay_bids.sh);
#  - the benchmark's peers (tests/bench/live.sh): RT-Cloud's per-volume
#    conversion (python3-pydicom, python3-nibabel, dcm2niix) and dipy's
#    rigid registration (python3-dipy), from Debian.
set -eu
case "${1:-}" in
install)
	need=""
	command -v storescu >/dev/null 2>&1 || need="$need dcmtk"
	command -v dcm2niix >/dev/null 2>&1 || need="$need dcm2niix"
	for m in pydicom nibabel dipy; do
		/usr/bin/python3 -c "import $m" >/dev/null 2>&1 ||
		    need="$need python3-$m"
	done
	if [ "$(id -u)" -ne 0 ]; then
		[ -z "$need" ] || echo "tests/setup/live.sh: run as root to" \
		    "install:$need" >&2
		exit 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	if [ -n "$need" ]; then
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		    { apt-get update -qq &&
		    apt-get install -y -qq --no-install-recommends $need \
		    >/dev/null; }
	fi
	if ! command -v bids-validator >/dev/null 2>&1 &&
	    command -v npm >/dev/null 2>&1; then
		npm install -g --silent bids-validator@1.15.0 >/dev/null 2>&1 ||
		    echo "tests/setup/live.sh: bids-validator not installed" \
		    "(optional)" >&2
	fi
	;;
start|stop) ;;
*) echo "usage: tests/setup/live.sh install|start|stop" >&2; exit 64 ;;
esac

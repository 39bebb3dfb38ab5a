#!/bin/sh
# kernels.sh: what the realtime kernel suites need. check_kern_motion
# builds its real test volume with Debian's dcm2niix, the reference DICOM
# to NIfTI converter, independent of rtc's own decoder. No server runs.
set -eu
case "${1:-}" in
install)
	command -v dcm2niix >/dev/null 2>&1 && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/setup/kernels.sh: run as root to install dcm2niix" >&2
		exit 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends dcm2niix >/dev/null ||
	    { apt-get update -qq &&
	    apt-get install -y -qq --no-install-recommends dcm2niix >/dev/null; }
	;;
start|stop) ;;
*) echo "usage: tests/setup/kernels.sh install|start|stop" >&2; exit 64 ;;
esac

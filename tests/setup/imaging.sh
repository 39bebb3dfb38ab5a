#!/bin/sh
# imaging: tools the convert tests need and the build does not: Debian's
# dcm2niix (the reference every conversion is compared against) and
# DCMTK's command-line tools (dcmdump, dcmcjpeg, dcmcjpls: compressed
# copies made at test time). Nothing runs as a server.
set -eu
case "${1:-}" in
install)
	need=""
	command -v dcm2niix >/dev/null 2>&1 || need="$need dcm2niix"
	command -v dcmcjpeg >/dev/null 2>&1 || need="$need dcmtk"
	[ -n "$need" ] || exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "imaging: run as root to install:$need" >&2
		exit 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null
	;;
start|stop)
	;;
*)
	echo "usage: $0 install|start|stop" >&2
	exit 64
	;;
esac

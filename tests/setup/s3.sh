#!/bin/sh
# tests/setup/s3.sh: what the S3 and OpenNeuro tests need.
#   install  s3rver 3.7.1 (npm) under /opt/rtc-s3rver, and Debian's
#            awscli, rclone and python3-botocore (peers and an independent
#            SigV4 signer) and time (peak RSS in tests/bench/fetch.sh);
#            quick when already there
#   start    nothing: each test starts its own s3rver on a free port
#   stop     nothing
set -eu
S3RVER_PREFIX=${RTC_S3RVER_PREFIX:-/opt/rtc-s3rver}
S3RVER_VERSION=3.7.1

case "${1:-}" in
install)
	need=""
	[ -x /usr/bin/aws ] || need="$need awscli"
	[ -x /usr/bin/rclone ] || need="$need rclone"
	/usr/bin/python3 -c 'import botocore' 2>/dev/null || need="$need python3-botocore"
	command -v npm >/dev/null 2>&1 || need="$need npm"
	[ -x /usr/bin/time ] || need="$need time"    # tests/bench/fetch.sh
	if [ -n "$need" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "tests/setup/s3.sh: run as root to install:$need" >&2
			exit 77
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $need >/dev/null
	fi
	have=$(cat "$S3RVER_PREFIX/node_modules/s3rver/package.json" 2>/dev/null |
	    sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' | head -n 1)
	if [ "$have" != "$S3RVER_VERSION" ]; then
		mkdir -p "$S3RVER_PREFIX"
		npm install --silent --no-audit --no-fund --prefix "$S3RVER_PREFIX" \
		    "s3rver@$S3RVER_VERSION" >/dev/null
	fi
	;;
start|stop)
	;;
*)
	echo "usage: tests/setup/s3.sh install|start|stop" >&2
	exit 64
	;;
esac

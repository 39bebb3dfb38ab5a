#!/bin/sh
# podman.sh install|start|stop|status|env: podman with runc for the batch
# tests, and a local image holding the test BIDS App on a busybox rootfs.
#
# Files live under $RTC_TEST_PODMAN_DIR (default /var/lib/rtc-test-podman):
# containers.conf (select it with CONTAINERS_CONF, `podman.sh env` prints
# it) and the rootfs the image is imported from. The image is
# localhost/rtc-test-app:latest; its entrypoint is tests/apps/rtc-test-app.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${RTC_TEST_PODMAN_DIR:-/var/lib/rtc-test-podman}
image=localhost/rtc-test-app:latest
PACKAGES="podman runc busybox-static"

log() { echo "podman.sh: $*" >&2; }

have_packages() {
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || return 1
	done
}

do_install() {
	have_packages && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "run as root to install: $PACKAGES"
		exit 77
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
}

write_conf() {
	mkdir -p "$dir"
	# This VM cannot raise rlimits (podman's default nofile/nproc) and crun
	# refuses the hybrid cgroup layout: fixed limits and runc.
	cat >"$dir/containers.conf.tmp" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
CONF
	mv "$dir/containers.conf.tmp" "$dir/containers.conf"
}

# The image is rebuilt whenever the app script changes (its hash is the
# image's label).
do_start() {
	have_packages || { log "not installed: run '$0 install'"; exit 1; }
	write_conf
	export CONTAINERS_CONF="$dir/containers.conf"
	app=$here/../apps/rtc-test-app
	sum=$(sha256sum "$app" | cut -c1-16)
	have=$(podman image inspect --format '{{index .Labels "rtc.app"}}' "$image" 2>/dev/null || true)
	if [ "$have" != "$sum" ]; then
		root=$dir/rootfs
		rm -rf "$root" "$dir/rootfs.tar"
		mkdir -p "$root/bin" "$root/app" "$root/proc" "$root/dev" \
		    "$root/tmp" "$root/bids" "$root/out" "$root/work" "$root/state"
		cp /bin/busybox "$root/bin/busybox"
		for t in $("$root/bin/busybox" --list); do
			[ -e "$root/bin/$t" ] || ln -s busybox "$root/bin/$t"
		done
		cp "$app" "$root/app/run"
		chmod 755 "$root/app/run"
		tar -C "$root" -cf "$dir/rootfs.tar" .
		podman import -q \
		    --change 'ENTRYPOINT ["/bin/sh", "/app/run"]' \
		    --change 'ENV PATH=/bin' \
		    --change "LABEL rtc.app=$sum" \
		    "$dir/rootfs.tar" "$image" >/dev/null
		rm -rf "$root" "$dir/rootfs.tar"
	fi
	podman run --rm --network=none "$image" /nonexistent /out participant \
	    --participant-label x >/dev/null 2>&1 && { log "test image misbehaves"; exit 1; }
	log "podman is ready: CONTAINERS_CONF=$dir/containers.conf, image $image"
}

case "${1:-}" in
install) do_install ;;
start) do_start ;;
stop) : ;;   # no daemon: podman runs containers on demand
status) CONTAINERS_CONF="$dir/containers.conf" podman image exists "$image" && echo up || { echo down; exit 1; } ;;
env) echo "CONTAINERS_CONF=$dir/containers.conf" ;;
*) echo "usage: $0 install|start|stop|status|env" >&2; exit 64 ;;
esac

# Shared helpers for tests/integration/*.sh (POSIX sh). Source it first:
#     . "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
# Each test gets a private work directory ($T), removed on exit.

set -u

: "${RTC_BIN:?run from make check}"
T=$(mktemp -d /tmp/rtc-it-XXXXXX)
trap 'rtc_it_cleanup' EXIT
rtc_it_cleanup_hooks=""

rtc_it_cleanup() {
	for h in $rtc_it_cleanup_hooks; do "$h" || true; done
	rm -rf "$T"
}

# Register a function to run at exit (servers to stop, etc.).
at_exit() { rtc_it_cleanup_hooks="$1 $rtc_it_cleanup_hooks"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# skip WHY: exit 77 (automake's SKIP), visibly.
skip() { echo "SKIP: $*"; exit 77; }

# need_data: the shared real data, or skip (fail when CI=true).
need_data() {
	if [ ! -d "${RTC_TEST_DATA:-/nonexistent}" ]; then
		[ "${CI:-}" = true ] && fail "CI=true but test data is missing at ${RTC_TEST_DATA:-}"
		skip "test data not found at ${RTC_TEST_DATA:-}"
	fi
}

# need_cmd PROG: a tool the test compares against, or skip (fail in CI).
need_cmd() {
	if ! command -v "$1" >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && fail "CI=true but $1 is not installed"
		skip "$1 not installed"
	fi
}

# expect_status N CMD...: run CMD, fail unless it exits with N. Output of
# the command is kept in $T/out and $T/err.
expect_status() {
	want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "'$*' exited $got, expected $want"
	}
}

# contains FILE TEXT: fail unless FILE contains TEXT (fixed string).
contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks '$2'"; }; }
lacks() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 has '$2'"; }; }

# free_port: a TCP port nobody listens on (from the kernel's ephemeral range).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

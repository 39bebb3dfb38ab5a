# Shared by the S3 and fetch tests (sourced after lib.sh): a private
# s3rver per test on a free loopback port, seeded with aws s3 sync, and
# the loopback fault server.

S3_KEY=S3RVER
S3_SECRET=S3RVER
AWS_BIN=/usr/bin/aws
PY=/usr/bin/python3
FAULT_SERVER="$RTC_TOP_SRCDIR/tests/integration/s3_fault_server.py"
S3_TOOL="$RTC_TOP_BUILDDIR/tests/integration/s3_tool"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN || true
export AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent
export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1

# need_s3rver: the s3rver program, or skip (fail when CI=true).
need_s3rver() {
	S3RVER=${RTC_S3RVER:-}
	for c in "$S3RVER" /opt/rtc-s3rver/node_modules/.bin/s3rver \
	    "$(command -v s3rver 2>/dev/null || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then S3RVER=$c; return 0; fi
	done
	[ "${CI:-}" = true ] && fail "CI=true but s3rver is missing (tests/setup/s3.sh install)"
	skip "s3rver not installed (tests/setup/s3.sh install)"
}

# need_aws: Debian's awscli (to seed buckets), or skip.
need_aws() {
	[ -x "$AWS_BIN" ] && return 0
	[ "${CI:-}" = true ] && fail "CI=true but $AWS_BIN is missing"
	skip "awscli not installed (tests/setup/s3.sh install)"
}

s3rver_stop() {
	[ -n "${S3RVER_PID:-}" ] && kill "$S3RVER_PID" 2>/dev/null || true
	[ -n "${S3RVER_PID:-}" ] && wait "$S3RVER_PID" 2>/dev/null || true
	S3RVER_PID=
}

# s3rver_start: s3rver on a free port with bucket openneuro.org;
# sets S3_PORT, S3_URL, S3RVER_PID and exports RTC_S3_ENDPOINT.
s3rver_start() {
	need_s3rver
	mkdir -p "$T/s3data"
	S3_PORT=$(free_port)
	NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$T/s3data" \
	    -a 127.0.0.1 -p "$S3_PORT" --no-vhost-buckets --silent \
	    --configure-bucket openneuro.org --configure-bucket bench \
	    >"$T/s3rver.log" 2>&1 &
	S3RVER_PID=$!
	at_exit s3rver_stop
	S3_URL="http://127.0.0.1:$S3_PORT"
	i=0
	until curl -s -o /dev/null "$S3_URL/openneuro.org/?list-type=2&max-keys=1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$T/s3rver.log"; fail "s3rver did not start"; }
		sleep 0.1
	done
	export RTC_S3_ENDPOINT="$S3_URL"
}

# aws_s3 ARGS...: Debian's aws against the private s3rver.
aws_s3() {
	AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET \
	    "$AWS_BIN" --endpoint-url "$S3_URL" --no-verify-ssl "$@"
}

# seed DIR S3URL: upload a tree.
seed() {
	need_aws
	aws_s3 s3 sync --only-show-errors "$1" "$2" || fail "seeding $2 failed"
}

fault_stop() {
	[ -n "${FAULT_PID:-}" ] && kill "$FAULT_PID" 2>/dev/null || true
	[ -n "${FAULT_PID:-}" ] && wait "$FAULT_PID" 2>/dev/null || true
	FAULT_PID=
}

# fault_start ARGS...: the fault server; sets FAULT_PORT, FAULT_URL.
fault_start() {
	[ -x "$PY" ] || skip "$PY missing"
	rm -f "$T/fault.port"
	"$PY" "$FAULT_SERVER" "$@" >"$T/fault.port" 2>"$T/fault.err" &
	FAULT_PID=$!
	at_exit fault_stop
	i=0
	until grep -q '^PORT ' "$T/fault.port" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$T/fault.err"; fail "fault server did not start"; }
		sleep 0.05
	done
	FAULT_PORT=$(sed -n 's/^PORT //p' "$T/fault.port")
	FAULT_URL="http://127.0.0.1:$FAULT_PORT"
}

# same_tree A B: the same files with the same bytes (folders that hold no
# file cannot travel through S3 and are ignored; so is rtc's .rtc).
same_tree() {
	(cd "$1" && find . -type f ! -path './.rtc/*' | LC_ALL=C sort) >"$T/st.a"
	(cd "$2" && find . -type f ! -path './.rtc/*' | LC_ALL=C sort) >"$T/st.b"
	cmp -s "$T/st.a" "$T/st.b" || {
		diff "$T/st.a" "$T/st.b" | head -n 20 >&2
		fail "$1 and $2 hold different files"
	}
	diff -r -q -x .rtc "$1" "$2" 2>&1 | grep -v '^Only in' >"$T/diff.out" || true
	[ ! -s "$T/diff.out" ] || { head -n 20 "$T/diff.out" >&2; fail "$1 and $2 differ"; }
}

# nfiles DIR: how many files, rtc's own aside.
nfiles() { find "$1" -type f ! -path '*/.rtc/*' | wc -l; }

# make_dataset SRC DST: a copy of a BIDS layout whose empty data files
# get random bytes (150 KB and up), so transfers have something to move.
make_dataset() {
	mkdir -p "$2"
	cp -r "$1/." "$2/"
	chmod -R u+w "$2"
	_n=0
	for _f in $(cd "$2" && find . -name '*.nii.gz' | sort); do
		_n=$((_n + 1))
		head -c $((150000 + _n * 997)) /dev/urandom >"$2/$_f"
	done
}

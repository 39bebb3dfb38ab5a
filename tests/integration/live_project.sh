#!/bin/sh
# Projects: the shipped ones load by name (RTC_PROJECTS_DIR) and by path;
# a broken copy is refused with the key named; rtc-project(5) renders
# cleanly, documents every key the parser knows, and its example is a
# valid project.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

CHECK="$RTC_TOP_BUILDDIR/tests/live/project_check"
MAN="$RTC_TOP_SRCDIR/man/rtc-project.5"
[ -x "$CHECK" ] || fail "$CHECK not built"

for p in sample neurofeedback; do
	expect_status 0 "$CHECK" "$p"
	contains "$T/out" "projects/$p/project.toml"
done
expect_status 0 "$CHECK" "$RTC_TOP_SRCDIR/projects/neurofeedback"
contains "$T/out" "feedback target.psc"
contains "$T/out" "dummies 2"
expect_status 0 "$CHECK" "$RTC_TOP_SRCDIR/projects/python-analysis/project.toml"
contains "$T/out" "feedback analysis.mean"

# a copy with a typo is refused, naming the key
mkdir "$T/typo"
sed 's/^fwhm_mm = 5.0/fwhm = 5.0/' "$RTC_TOP_SRCDIR/projects/neurofeedback/project.toml" \
    >"$T/typo/project.toml"
expect_status 65 "$CHECK" "$T/typo"
contains "$T/err" "pipeline.smooth.fwhm: unknown key"
# a path out of the project is refused
mkdir "$T/escape"
printf '[[pipeline.roi]]\nname = "x"\nmask = "../../etc/passwd"\n' >"$T/escape/project.toml"
expect_status 65 "$CHECK" "$T/escape"
contains "$T/err" "leaves the project directory"
# unknown names say where they looked
RTC_PROJECTS_DIR="$T" expect_status 66 sh -c '"$0" nosuch || exit 66' "$CHECK"
contains "$T/err" "not found in $T"

# the man page
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$MAN" 2>"$T/groff.err" || fail "groff failed"
	[ ! -s "$T/groff.err" ] || { cat "$T/groff.err"; fail "groff warnings"; }
fi
# every key the parser knows is documented
keys=$(awk '/keys\[\] = \{/,/NULL \};/' "$RTC_TOP_SRCDIR/lib/project.c" |
    grep -o '"[A-Za-z_]*"' | tr -d '"' | sort -u)
[ -n "$keys" ] || fail "no keys found in lib/project.c"
for k in $keys; do
	grep -q -- "$k" "$MAN" || fail "rtc-project(5) does not document '$k'"
done
# its example is a valid project
mkdir "$T/example"
sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$MAN" |
    sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' >"$T/example/project.toml"
expect_status 0 "$CHECK" "$T/example"
contains "$T/out" "feedback front.psc"
echo "ok: projects and rtc-project(5)"

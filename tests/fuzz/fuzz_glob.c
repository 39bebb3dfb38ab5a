/*
 * fuzz_glob: --include/--exclude patterns (lib/glob) against dataset paths
 * from a listing: rtc_glob_match, the folder tests the fetcher uses to
 * skip listing folders (rtc_glob_dir_may_match, rtc_glob_dir_covered),
 * and a pattern set; also BIDS-layout globs (rtc_bids_glob_match) and
 * scanner file names (rtc_watch_parse_siemens_name).
 *
 * Input: a pattern, a newline, a path.
 * Invariants: skipping a folder never loses a file that matches: when a
 * path matches, every folder above it may match (save the documented
 * bare-name exception); when a folder is covered, every non-hidden path
 * below it matches. Seeds: tests/fuzz/corpus/glob.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bids_layout.h"
#include "error.h"
#include "glob.h"
#include "watch.h"

#include "fuzz_common.h"

/* The bare literal (no '/', no wildcard, no '.') that names a top-level
 * folder only, for listing (see rtc_glob_dir_may_match). */
static int
bare_literal(const char *pat)
{
	size_t n;

	if (pat[0] == '/')
		return 0;
	n = strlen(pat);
	if (n > 0 && pat[n - 1] == '/')
		return 0;
	return strpbrk(pat, "/*?[.") == NULL;
}

static void
folders(const char *pat, const char *path)
{
	char dir[4096];
	const char *p;
	int m = rtc_glob_match(pat, path);

	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		size_t n = (size_t)(p - path);
		const char *below = p + 1;
		int hidden = 0;
		const char *q;

		if (n == 0 || n >= sizeof(dir))
			continue;
		memcpy(dir, path, n);
		dir[n] = '\0';
		if (m && !bare_literal(pat))
			FUZZ_CHECK(rtc_glob_dir_may_match(pat, dir));
		/* a covered folder: everything below that is not hidden */
		for (q = below; *q != '\0'; q++)
			if (*q == '.' && (q == below || q[-1] == '/'))
				hidden = 1;
		if (!hidden && below[strspn(below, "/")] != '\0' &&
		    rtc_glob_dir_covered(pat, dir))
			FUZZ_CHECK(m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *part[2], *cause = NULL;
	size_t len[2];
	struct rtc_glob_set *g = NULL;
	const char *inc[1], *exc[1];
	int series, volume;

	fuzz_split(data, size, '\n', part, len, 2);
	/* as a listing gives them: no NUL inside */
	if (strlen(part[0]) == len[0] && strlen(part[1]) == len[1] &&
	    len[0] <= RTC_GLOB_PATTERN_MAX && len[1] <= 4096) {
		folders(part[0], part[1]);
		inc[0] = part[0];
		exc[0] = part[0];
		if (rtc_glob_set_new(inc, 1, NULL, 0, 1, &g, &cause) ==
		    RTC_OK) {
			int w = rtc_glob_set_wants(g, part[1]);

			if (rtc_glob_match(part[0], part[1]))
				FUZZ_CHECK(w &&
				    rtc_glob_set_unmatched(g) == NULL);
			(void)rtc_glob_set_wants_dir(g, part[1]);
			rtc_glob_set_free(g);
		}
		free(cause);
		cause = NULL;
		if (rtc_glob_set_new(NULL, 0, exc, 1, 0, &g, &cause) ==
		    RTC_OK) {
			if (rtc_glob_match(part[0], part[1]))
				FUZZ_CHECK(!rtc_glob_set_wants(g, part[1]));
			(void)rtc_glob_set_wants_dir(g, part[1]);
			rtc_glob_set_free(g);
		}
		free(cause);
		(void)rtc_bids_glob_match(part[0], part[1]);
	}
	if (rtc_watch_parse_siemens_name(part[1], &series, &volume))
		FUZZ_CHECK(series >= 0 && series <= 999999 && volume >= 0 &&
		    volume <= 999999);
	fuzz_parts_free(part, 2);
	return 0;
}

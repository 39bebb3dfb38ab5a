/*
 * project_check: load a project (rtc_project_load) and print what it
 * says, or why it is refused. For integration tests.
 *
 * usage: project_check SPEC
 * exit: 0 valid, 65 refused (the message on stderr), 64 usage.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "project.h"

int
main(int argc, char **argv)
{
	struct rtc_project *p = NULL;
	char *cause = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: project_check SPEC\n");
		return 64;
	}
	r = rtc_project_load(NULL, argv[1], &p, &cause);
	if (r != RTC_OK) {
		fprintf(stderr, "project_check: %s\n", cause ? cause : "refused");
		free(cause);
		return 65;
	}
	printf("file %s\n", p->file);
	printf("title %s\n", p->title ? p->title : "");
	printf("dummies %d\n", p->intake.dummies);
	printf("rois %d\n", p->pipeline.n_rois);
	printf("glm %d\n", p->pipeline.glm);
	printf("feedback %s%s%s\n", p->feedback.has_value ? p->feedback.a.name :
	    "none", p->feedback.difference ? " - " : "",
	    p->feedback.difference ? p->feedback.b.name : "");
	rtc_project_free(p);
	return 0;
}

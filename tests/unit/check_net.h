/*
 * check_net: a loopback fault-injecting S3/GraphQL server
 * (tests/integration/s3_fault_server.py) for the net suites. It runs
 * under Debian's /usr/bin/python3, listens on a kernel-chosen port, and
 * is killed by check_net_server_stop().
 */
#ifndef RTC_CHECK_NET_H
#define RTC_CHECK_NET_H

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "check_common.h"
#include "process.h"

struct check_net_server {
	pid_t pid;
	int port;
	char base[64];     /* "http://127.0.0.1:PORT" */
};

/* Start the server with extra arguments (NULL-terminated). Fails the
 * test when it cannot start. */
static inline void
check_net_server_start(struct check_net_server *s, const char *const *extra)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	char script[1024], line[128];
	const char *argv[40];
	int to = -1, from = -1, n = 0, i;
	ssize_t got;
	size_t len = 0;

	ck_assert_msg(top != NULL, "RTC_TOP_SRCDIR unset: run from make check");
	snprintf(script, sizeof(script),
	    "%s/tests/integration/s3_fault_server.py", top);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = script;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ck_assert_int_eq(rtc_process_spawn_pipes(argv, NULL, &s->pid, &to,
	    &from, NULL), 0);
	close(to);
	while (len < sizeof(line) - 1) {
		got = read(from, line + len, 1);
		if (got <= 0)
			break;
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	close(from);
	ck_assert_msg(sscanf(line, "PORT %d", &s->port) == 1,
	    "fault server did not start: '%s'", line);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

static inline void
check_net_server_stop(struct check_net_server *s)
{
	int st;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &st, 0);
		s->pid = 0;
	}
}

#endif

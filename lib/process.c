/*
 * process: posix_spawnp with file actions; rtc_process_run multiplexes the
 * child's stdout/stderr with poll(2) so neither pipe can fill and stall
 * the child, and enforces a deadline.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "process.h"

extern char **environ;

void
rtc_process_opts_init(struct rtc_process_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->stdin_fd = -1;
	o->stdout_fd = -1;
	o->stderr_fd = -1;
}

int
rtc_process_spawn(const char *const argv[], const struct rtc_process_opts *o,
    pid_t *pid, char **cause)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct rtc_process_opts def;
	pid_t p;
	int r;

	if (o == NULL) {
		rtc_process_opts_init(&def);
		o = &def;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (o->stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, o->stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (o->stdout_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, o->stdout_fd, 1);
	if (o->stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, o->stderr_fd, 2);
	if (o->cwd != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	{
		sigset_t none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	{
		short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;

		if (o->new_pgrp) {
			flags |= POSIX_SPAWN_SETPGROUP;
			posix_spawnattr_setpgroup(&attr, 0);
		}
		posix_spawnattr_setflags(&attr, flags);
	}
	r = posix_spawnp(&p, argv[0], &fa, &attr, (char *const *)argv,
	    o->env != NULL ? (char *const *)o->env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		rtc_cause_set(cause, "cannot run %s: %s", argv[0], strerror(r));
		return r == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
	}
	*pid = p;
	return RTC_OK;
}

int
rtc_process_spawn_pipes(const char *const argv[], const char *const *env,
    pid_t *pid, int *to_child, int *from_child, char **cause)
{
	struct rtc_process_opts o;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int r;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		rtc_cause_set(cause, "pipe: %s", strerror(errno));
		r = RTC_ERR_IO;
		goto fail;
	}
	rtc_process_opts_init(&o);
	o.env = env;
	o.stdin_fd = in[0];
	o.stdout_fd = out[1];
	r = rtc_process_spawn(argv, &o, pid, cause);
	if (r != RTC_OK)
		goto fail;
	close(in[0]);
	close(out[1]);
	*to_child = in[1];
	*from_child = out[0];
	return RTC_OK;
fail:
	if (in[0] >= 0) close(in[0]);
	if (in[1] >= 0) close(in[1]);
	if (out[0] >= 0) close(out[0]);
	if (out[1] >= 0) close(out[1]);
	return r;
}

int
rtc_process_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static int
drain(int *fd, struct rtc_buf *b, int *overflow)
{
	char chunk[8192];
	ssize_t n;

	n = read(*fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (b != NULL && rtc_buf_append(b, chunk, (size_t)n) != RTC_OK)
		*overflow = 1;
	return 0;
}

int
rtc_process_run(const char *const argv[], const char *const *env,
    const char *input, struct rtc_buf *out, struct rtc_buf *err,
    int timeout_ms, int *status, char **cause)
{
	struct rtc_process_opts o;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int overflow = 0, ret, st = 0;
	size_t in_off = 0, in_len = input ? strlen(input) : 0;
	int64_t deadline;
	pid_t pid = -1;

	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0 ||
	    (input != NULL && pipe2(pin, O_CLOEXEC) != 0)) {
		rtc_cause_set(cause, "pipe: %s", strerror(errno));
		ret = RTC_ERR_IO;
		goto out;
	}
	rtc_process_opts_init(&o);
	o.env = env;
	o.stdin_fd = pin[0];
	o.stdout_fd = pout[1];
	o.stderr_fd = perr[1];
	o.new_pgrp = 1;
	ret = rtc_process_spawn(argv, &o, &pid, cause);
	if (ret != RTC_OK)
		goto out;
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	if (pin[0] >= 0) {
		close(pin[0]);
		pin[0] = -1;
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
		if (in_len == 0) {
			close(pin[1]);
			pin[1] = -1;
		}
	}

	deadline = timeout_ms > 0 ?
	    rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000 : 0;
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pfd[3];
		int n = 0, wait_ms = -1, r;

		if (pout[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		if (perr[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		if (pin[1] >= 0)
			pfd[n++] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		if (deadline != 0) {
			int64_t left = deadline - rtc_clock_mono_ns();

			if (left <= 0) {
				kill(-pid, SIGKILL);
				rtc_cause_set(cause, "%s: still running after %d ms, "
				    "killed", argv[0], timeout_ms);
				ret = RTC_ERR_TIMEOUT;
				goto reap;
			}
			wait_ms = (int)(left / 1000000) + 1;
		}
		r = poll(pfd, (nfds_t)n, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = RTC_ERR_IO;
			kill(-pid, SIGKILL);
			goto reap;
		}
		for (int i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == pout[0])
				drain(&pout[0], out, &overflow);
			else if (pfd[i].fd == perr[0])
				drain(&perr[0], err, &overflow);
			else if (pfd[i].fd == pin[1]) {
				ssize_t w = write(pin[1], input + in_off,
				    in_len - in_off);

				if (w > 0)
					in_off += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
				    in_off == in_len) {
					close(pin[1]);
					pin[1] = -1;
				}
			}
		}
	}
	ret = RTC_OK;
reap:
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (ret == RTC_OK && overflow) {
		rtc_cause_set(cause, "%s: output larger than the cap", argv[0]);
		ret = RTC_ERR_TOO_BIG;
	}
	if (ret == RTC_OK && status != NULL)
		*status = st;
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0) close(pin[i]);
		if (pout[i] >= 0) close(pout[i]);
		if (perr[i] >= 0) close(perr[i]);
	}
	return ret;
}

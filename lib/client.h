/*
 * client: how rtc reaches rtcd. The state directory ($RTC_STATE_DIR, or
 * $XDG_STATE_HOME/rtc, or ~/.local/state/rtc) holds the daemon's socket;
 * when nobody answers there, rtc starts rtcd itself (as tmux starts its
 * server) and waits until it is ready.
 */
#ifndef RTC_CLIENT_H
#define RTC_CLIENT_H

#include <jansson.h>

#include "ctx.h"

#define RTC_SOCKET_NAME "rtcd.sock"
#define RTC_PIDFILE_NAME "rtcd.pid"

/* OUT: *dir, the state directory (malloc'd, not created). RET: RTC_OK or
 * RTC_ERR_INVAL when neither RTC_STATE_DIR, XDG_STATE_HOME nor HOME is an
 * absolute path. */
int rtc_client_state_dir(char **dir, char **cause);

/*
 * Connect to the daemon of state_dir. When none answers and rtcd is
 * non-NULL, start it (`rtcd --state-dir DIR`: it returns once it listens)
 * and connect again. OUT: *fd. RET: RTC_OK; RTC_ERR_UNAVAILABLE with
 * advice when there is no daemon and it could not be started.
 */
int rtc_client_connect(struct rtc_ctx *ctx, const char *state_dir,
    const char *rtcd, int *fd, char **cause);

/* One request: see rtc_proto_call. timeout_ms <= 0 waits for ever. */
int rtc_client_call(int fd, const char *op, json_t *args, int timeout_ms,
    json_t **result, char **cause);

#endif

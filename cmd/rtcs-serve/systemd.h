/*
 * rtcs-serve under systemd: a listening socket it hands over (socket
 * activation, LISTEN_FDS) and readiness and stopping notifications
 * (NOTIFY_SOCKET), through libsystemd. Without systemd each is a no-op.
 */
#ifndef RTCS_SERVE_SYSTEMD_H
#define RTCS_SERVE_SYSTEMD_H

struct config;

/*
 * The listening UNIX socket systemd passed us, non-blocking: its fd, with
 * cfg->socket_path set to its address; -1 with *cause NULL when there is
 * none; -1 with *cause when what was passed is not one listening UNIX socket.
 */
int	systemd_socket(struct config *cfg, char **cause);
/* Whether the socket came from systemd (then it is systemd's to remove, not ours). */
int	systemd_socket_inherited(void);
/* READY=1 with a status line, then STOPPING=1 when the server stops. */
void	systemd_notify_ready(const struct config *cfg);
void	systemd_notify_stopping(void);
#endif

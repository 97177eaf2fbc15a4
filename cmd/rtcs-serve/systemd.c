/* rtcs-serve under systemd: socket activation and sd_notify (libsystemd). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "config.h"
#include "systemd.h"
#include "xmalloc.h"

static int systemd_inherited;

int
systemd_socket(struct config *cfg, char **cause)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int n, fd = SD_LISTEN_FDS_START, flags;

	*cause = NULL;
	if ((n = sd_listen_fds(1)) <= 0) {
		if (n < 0)
			*cause = xprintf("LISTEN_FDS: %s", strerror(-n));
		return -1;
	}
	if (n != 1) {
		*cause = xprintf("systemd passed %d sockets; rtcs-serve listens on one", n);
		return -1;
	}
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		*cause = xprintf("the socket systemd passed (fd %d) is not a listening UNIX stream socket", fd);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 && sun.sun_path[0] != '\0') {
		free(cfg->socket_path);
		cfg->socket_path = xstrndup(sun.sun_path, sizeof sun.sun_path);
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		*cause = xprintf("fd %d: %s", fd, strerror(errno));
		return -1;
	}
	systemd_inherited = 1;
	log_info("listening on %s, passed by systemd", cfg->socket_path);
	return fd;
}

int
systemd_socket_inherited(void)
{
	return systemd_inherited;
}

void
systemd_notify_ready(const struct config *cfg)
{
	int rc = sd_notifyf(0, "READY=1\nSTATUS=listening on %s\nMAINPID=%lu", cfg->socket_path,
	    (unsigned long)getpid());

	if (rc < 0)
		log_warnx("sd_notify: %s", strerror(-rc));
}

void
systemd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

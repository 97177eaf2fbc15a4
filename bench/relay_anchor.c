/*
 * relay-anchor: the least a relay can do, as the anchor of the relay figure.
 * Listens on a UNIX socket; each client first sends one byte, 'R' (receiver)
 * or 'S' (sender); once it has one of each it copies the sender's bytes to
 * the receiver until either side closes, then waits for the next pair.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
forward(int snd, int rcv)
{
	struct pollfd pfd[2] = { { snd, POLLIN, 0 }, { rcv, POLLIN, 0 } };
	char buf[65536];
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents) {
			if ((n = read(snd, buf, sizeof buf)) <= 0 || write_all(rcv, buf, (size_t)n) != 0)
				return;
		}
		if (pfd[1].revents) {
			if ((n = read(rcv, buf, sizeof buf)) <= 0 || write_all(snd, buf, (size_t)n) != 0)
				return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	int ls, fd, snd = -1, rcv = -1;
	char role;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: relay-anchor SOCKET\n");
		return 64;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(ls, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(ls, 16) != 0) {
		fprintf(stderr, "relay-anchor: %s: %s\n", argv[1], strerror(errno));
		return 71;
	}
	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "relay-anchor: accept: %s\n", strerror(errno));
			return 71;
		}
		if (read(fd, &role, 1) != 1 || (role != 'R' && role != 'S')) {
			close(fd);
			continue;
		}
		if (role == 'R') {
			if (rcv >= 0)
				close(rcv);
			rcv = fd;
		} else {
			if (snd >= 0)
				close(snd);
			snd = fd;
		}
		if (snd >= 0 && rcv >= 0) {
			forward(snd, rcv);
			close(snd);
			close(rcv);
			snd = rcv = -1;
		}
	}
}

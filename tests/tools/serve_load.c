/*
 * serve-load: measures rtcs-serve over one keep-alive connection.
 *   serve-load SOCK get PATH N                 requests/s of GET PATH
 *   serve-load SOCK post PATH TOKEN N          requests/s of POST PATH (text messages)
 *   serve-load SOCK relay SID TOKEN-A TOKEN-B N  send (A) -> B's stream latency, p50/p99
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
dial(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			perror("write");
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

static char rbuf[1 << 20];
static size_t rlen;

/* Reads one response (Content-Length framed); returns its status. */
static int
read_response(int fd)
{
	char *end, *cl;
	size_t need;
	ssize_t n;
	int status;

	for (;;) {
		rbuf[rlen] = '\0';
		if ((end = strstr(rbuf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(rbuf, "Content-Length:");
			need = (size_t)(end + 4 - rbuf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
			if (rlen >= need) {
				status = atoi(rbuf + 9);
				memmove(rbuf, rbuf + need, rlen - need);
				rlen -= need;
				return status;
			}
		}
		if ((n = read(fd, rbuf + rlen, sizeof rbuf - 1 - rlen)) <= 0) {
			fprintf(stderr, "read: %s\n", n < 0 ? strerror(errno) : "EOF");
			exit(1);
		}
		rlen += (size_t)n;
	}
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
do_requests(int fd, const char *method, const char *path, const char *token, int n)
{
	char req[1024], body[128];
	double t0, t;
	int i, len, blen;

	t0 = now_us();
	for (i = 0; i < n; i++) {
		blen = snprintf(body, sizeof body, "{\"type\":\"text\",\"body\":\"load %d\"}", i);
		if (token == NULL)
			len = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: rtcs\r\n\r\n",
			    method, path);
		else
			len = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: rtcs\r\n"
			    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %d\r\n\r\n%s", method, path, token, blen, body);
		send_all(fd, req, (size_t)len);
		if (read_response(fd) / 100 != 2) {
			fprintf(stderr, "request %d failed\n", i);
			exit(1);
		}
	}
	t = now_us() - t0;
	printf("%s %s: %d requests in %.3f s: %.0f requests/s, %.1f us each\n",
	    method, path, n, t / 1e6, n / (t / 1e6), t / n);
}

static void
do_relay(const char *sock, const char *sid, const char *ta, const char *tb, int n)
{
	int sfd = dial(sock), pfd = dial(sock), i, len, blen;
	char req[1024], body[128], want[64], sbuf[1 << 16];
	size_t slen = 0;
	double *lat = calloc((size_t)n, sizeof *lat), t0;
	ssize_t r;

	len = snprintf(req, sizeof req, "GET /v1/sessions/%s/stream HTTP/1.1\r\n"
	    "Host: rtcs\r\nAuthorization: Bearer %s\r\n\r\n", sid, tb);
	send_all(sfd, req, (size_t)len);
	for (i = 0; i < n; i++) {
		blen = snprintf(body, sizeof body, "{\"type\":\"text\",\"body\":\"relay-%d\"}", i);
		snprintf(want, sizeof want, "\"body\":\"relay-%d\"", i);
		len = snprintf(req, sizeof req, "POST /v1/sessions/%s/messages HTTP/1.1\r\n"
		    "Host: rtcs\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %d\r\n\r\n%s", sid, ta, blen, body);
		t0 = now_us();
		send_all(pfd, req, (size_t)len);
		for (;;) {
			sbuf[slen] = '\0';
			if (strstr(sbuf, want) != NULL)
				break;
			if (slen > sizeof sbuf / 2) {
				memmove(sbuf, sbuf + slen - 64, 64);
				slen = 64;
			}
			if ((r = read(sfd, sbuf + slen, sizeof sbuf - 1 - slen)) <= 0) {
				fprintf(stderr, "stream ended\n");
				exit(1);
			}
			slen += (size_t)r;
		}
		lat[i] = now_us() - t0;
		slen = 0;
		read_response(pfd);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmpd);
	printf("relay send->stream: %d messages: p50 %.1f us, p90 %.1f us, p99 %.1f us\n",
	    n, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100]);
	free(lat);
	close(sfd);
	close(pfd);
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[2], "get") == 0)
		do_requests(dial(argv[1]), "GET", argv[3], NULL, atoi(argv[4]));
	else if (argc == 6 && strcmp(argv[2], "post") == 0)
		do_requests(dial(argv[1]), "POST", argv[3], argv[4], atoi(argv[5]));
	else if (argc == 7 && strcmp(argv[2], "relay") == 0)
		do_relay(argv[1], argv[3], argv[4], argv[5], atoi(argv[6]));
	else {
		fprintf(stderr, "usage: serve-load SOCK get PATH N | post PATH TOKEN N | "
		    "relay SID TOKEN-A TOKEN-B N\n");
		return 64;
	}
	return 0;
}

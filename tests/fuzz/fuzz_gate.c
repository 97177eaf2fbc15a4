/*
 * libFuzzer target: rtcs-serve's gate (cmd/rtcs-serve/gate.c), the request
 * handling rtcs does itself before evhttp parses a request. The input is
 * written to one end of a socket pair; the other end reads through the gate's
 * filter; what comes out is what evhttp would parse. It must be whole heads
 * that passed every check (request line HTTP/1.1, one Content-Length within
 * the body limit, no chunked body) followed by their bodies, or the gate's
 * own refusal request, never the bytes after a refusal.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "gate.h"
#include "reply.h"
#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what evhttp would read; aborts on a head the gate should have refused. */
static void
check_out(const char *out, size_t len)
{
	const char *p = out, *end = out + len, *head_end, *h;
	unsigned long long cl;

	while (p < end) {
		if ((head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
			abort();	/* the gate passes whole heads only */
		if (strncmp(p, "GET /v1/_gate/", 14) == 0)
			return;		/* a refusal: nothing may follow */
		if (memmem(p, (size_t)(head_end + 2 - p), " HTTP/1.1\r\n", 11) == NULL)
			abort();
		cl = 0;
		for (h = memchr(p, '\n', (size_t)(head_end - p)); h != NULL && h < head_end;
		    h = memchr(h + 1, '\n', (size_t)(head_end - h - 1))) {
			if (strncasecmp(h + 1, "Transfer-Encoding:", 18) == 0)
				abort();
			if (strncasecmp(h + 1, "Content-Length:", 15) == 0)
				cl = strtoull(h + 16, NULL, 10);
		}
		if (cl > SERVE_MAX_BODY || (size_t)(head_end - p) + 4 > SERVE_MAX_HEADERS + 16)
			abort();
		p = head_end + 4;
		if (cl > (unsigned long long)(end - p))
			return;		/* the body is still coming */
		p += cl;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct server srv;
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	struct evbuffer *in;
	char *out;
	size_t len;
	int sv[2], i;

	cfg.header_timeout_s = 10;
	srv.cfg = &cfg;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	bev = gate_bev(base, &srv);
	bufferevent_setfd(bev, sv[1]);
	bufferevent_enable(bev, EV_READ);
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	for (i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	in = bufferevent_get_input(bev);
	len = evbuffer_get_length(in);
	out = malloc(len + 1);
	evbuffer_copyout(in, out, len);
	out[len] = '\0';	/* check_out's string compares near the end stop here */
	if (getenv("FUZZ_GATE_SHOW") != NULL)
		fwrite(out, 1, len, stderr);
	check_out(out, len);
	free(out);
	bufferevent_free(bev);
	close(sv[0]);
	event_base_free(base);
	return 0;
}

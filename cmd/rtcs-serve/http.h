/* Requests in (http.c): evhttp's callback, the route table, authentication. */
#ifndef RTCS_SERVE_HTTP_H
#define RTCS_SERVE_HTTP_H
#include <event2/http.h>

void	 http_dispatch(struct evhttp_request *, void *srv);
#endif

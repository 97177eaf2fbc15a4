/* Streams (stream.c): the core's listener that feeds device streams, logs and events. */
#ifndef RTCS_SERVE_STREAM_H
#define RTCS_SERVE_STREAM_H
#include "reply.h"

void	 stream_init(struct server *);
void	 api_stream(struct req *);		/* GET /v1/sessions/{id}/stream */
void	 api_session_log(struct req *);	/* GET /v1/sessions/{id}/log */
void	 api_events(struct req *);		/* GET /v1/events */
/* Its connection closed (evhttp detached the request). */
void	 stream_drop(struct stream *);
void	 stream_shutdown_all(struct server *);
void	 stream_free_lists(struct server *);
#endif

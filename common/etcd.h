/*
 * A client of etcd's JSON gateway (the v3 API as HTTP/1.1 + JSON: POST
 * /v3/kv/range, /v3/kv/txn, /v3/watch, ...) on libcurl: calls run on the
 * server's event loop through curl multi, or block when there is no loop
 * (offline readers, the store's load at start). The endpoints are tried in
 * turn: one that refuses the connection hands the call to the next.
 * Keys and values travel in base64 (etcd_b64 / etcd_unb64).
 */
#ifndef RTCS_ETCD_H
#define RTCS_ETCD_H
#include <stddef.h>

#include <cjson/cJSON.h>

#include "store.h"

struct event_base;
struct etcd;
struct etcd_watch;

/* A call's answer: resp (owned by the client, valid during the call) or an error. */
typedef void (*etcd_cb)(void *arg, const cJSON *resp, enum store_err, const char *cause);
/* One message of a watch stream ({"result": {...}}). */
typedef void (*etcd_msg_cb)(void *arg, const cJSON *result);
/* The stream ended (etcd went away, or it refused the watch): the watch is freed after. */
typedef void (*etcd_end_cb)(void *arg, const char *cause);

/* endpoints: "HOST:PORT[,HOST:PORT...]"; NULL with *cause if none is well formed. */
struct etcd *etcd_new(const char *endpoints, struct event_base *, char **cause);
/* Waits for the calls in flight (their callbacks run), then frees everything. */
void	 etcd_free(struct etcd *);
/* POSTs body (freed by the call) to path ("/v3/kv/txn"); cb once it is answered. */
void	 etcd_call(struct etcd *, const char *path, cJSON *body, etcd_cb, void *arg);
/* The same, blocking, even with a loop (for the load at start). */
void	 etcd_call_wait(struct etcd *, const char *path, cJSON *body, etcd_cb, void *arg);
/* The same, to endpoint ep (0..etcd_endpoints()-1) only: a member's own maintenance. */
void	 etcd_call_at(struct etcd *, size_t ep, const char *path, cJSON *body, etcd_cb, void *arg);
size_t	 etcd_endpoints(const struct etcd *);
/* Calls in flight. */
size_t	 etcd_inflight(const struct etcd *);
/*
 * Opens a watch stream (body: {"create_request": {...}}, freed); needs a
 * loop. Messages are told from the loop, never inside curl, so a callback
 * may call the client (and stop the watch).
 */
/* NULL (no callback) if curl would not take it. */
struct etcd_watch *etcd_watch(struct etcd *, cJSON *body, etcd_msg_cb, etcd_end_cb, void *arg);
void	 etcd_watch_stop(struct etcd_watch *);

char	*etcd_b64(const void *, size_t);
/* NULL if s is not base64; the text is NUL-terminated beyond *len. */
char	*etcd_unb64(const char *s, size_t *len);
/* An int64 field as etcd prints it (a string) or a number; def if absent. */
unsigned long long etcd_num(const cJSON *obj, const char *key, unsigned long long def);
#endif

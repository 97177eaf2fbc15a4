/*
 * The server's life: the socket and its lock, the event loop and evhttp,
 * signals, the group commit, pausing accept on EMFILE, and a clean stop.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "chunked.h"
#include "decode.h"
#include "exitcode.h"
#include "fsutil.h"
#include "gate.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "stream.h"
#include "systemd.h"
#include "xmalloc.h"

#define SERVE_HARD_MAX_BODY	(4 * 1024 * 1024)	/* beyond: libevent's own 413 */
#define SERVE_DRAIN_MAX_MS	3000

static int drain_ms;

/*
 * Takes SOCK.lock (a live server keeps it), removes a stale socket and
 * listens on a fresh one, 0600 in a 0700 directory.
 */
static int
server_listen(struct server *srv, int *busy, char **cause)
{
	const char *path = srv->cfg->socket_path;
	char *copy = xstrdup(path), *dir = dirname(copy), *lock;
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	*busy = 0;
	if (strlen(path) >= sizeof sun.sun_path) {
		*cause = xprintf("socket path too long: %s", path);
		free(copy);
		return -1;
	}
	if (fs_mkdir_private(dir, cause) != 0) {
		free(copy);
		return -1;
	}
	free(copy);
	lock = xprintf("%s.lock", path);
	srv->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (srv->lockfd < 0 || flock(srv->lockfd, LOCK_EX | LOCK_NB) != 0) {
		*busy = srv->lockfd >= 0 && errno == EWOULDBLOCK;
		*cause = *busy ? xprintf("another rtcs-serve is listening on %s", path) :
		    xprintf("cannot lock %s: %s", lock, strerror(errno));
		free(lock);
		return -1;
	}
	free(lock);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* A socket someone still accepts on is never taken over, lock file or not. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		int live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ||
		    (errno != ECONNREFUSED && errno != ENOENT);
		close(fd);
		if (live && access(path, F_OK) == 0) {
			*busy = 1;
			*cause = xprintf("another rtcs-serve is listening on %s", path);
			return -1;
		}
	}
	if (unlink(path) == 0)
		log_info("removed stale socket %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*cause = xprintf("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, 1024) != 0) {
		*cause = xprintf("cannot listen on %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->bound != NULL && !srv->stopping)
		evconnlistener_enable(evhttp_bound_socket_get_listener(srv->bound));
}

/*
 * evhttp's listener accepts every connection that waits before it reads a
 * request on any: a burst of 10,000 devices' connects would hold 10,000
 * connections in evhttp's form at once (about 5.5 KiB each, bench/README.md)
 * before their streams take the sockets, and the heap keeps that high-water
 * mark. So a turn of the loop accepts at most SERVE_ACCEPT_BATCH; the listener
 * waits for the next turn, when those connections have been read.
 */
static void
accept_turn(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	srv->accepted = 0;
	if (srv->accept_paced) {
		srv->accept_paced = 0;
		if (srv->bound != NULL && !srv->stopping)
			evconnlistener_enable(evhttp_bound_socket_get_listener(srv->bound));
	}
}

/* evhttp_set_bevcb's callback: each accepted connection, counted, through the gate. */
static struct bufferevent *
accept_counted(struct event_base *base, void *arg)
{
	static const struct timeval next_turn = { 0, 0 };
	struct server *srv = arg;

	if (srv->accepted++ == 0)
		evtimer_add(srv->accept_turn, &next_turn);
	if (srv->accepted == SERVE_ACCEPT_BATCH && srv->bound != NULL) {
		evconnlistener_disable(evhttp_bound_socket_get_listener(srv->bound));
		srv->accept_paced = 1;
	}
	return gate_bev(base, srv);
}

/*
 * The server whose listener accept_error serves: the listener's user data
 * is evhttp's, which is what libevent passes to the error callback.
 */
static struct server *accepting;

/* Out of descriptors: pause accepting for a moment instead of spinning. */
static void
accept_error(struct evconnlistener *lev, void *arg)
{
	static const struct timeval pause = { 0, 100000 };
	struct server *srv = accepting;
	int err = errno;

	(void)arg;	/* evhttp's, not the server */

	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warnx("accept: %s: pausing", strerror(err));
		evconnlistener_disable(lev);
		evtimer_add(srv->accept_resume, &pause);
	} else
		log_warnx("accept: %s", strerror(err));
}

static void
drain_size(const char *key, void *val, void *arg)
{
	struct conn *c = val;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	size_t *total = arg;

	(void)key;
	*total += evbuffer_get_length(bufferevent_get_output(bev));
	if (bufferevent_get_underlying(bev) != NULL)
		*total += evbuffer_get_length(bufferevent_get_output(bufferevent_get_underlying(bev)));
}

/*
 * Stopping: wait until every reply has left and the store has nothing in
 * hand (a write on its way, a call waiting to hear the other servers), or
 * give up after a while.
 */
static void
server_drain(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval tick = { 0, 10000 };
	struct server *srv = arg;
	size_t left = 0;
	int pending;

	(void)fd;
	(void)what;
	strmap_each(srv->conns, drain_size, &left);
	left += chunked_unsent();
	pending = store_pending(srv->store);
	if ((left == 0 && !pending) || (drain_ms += 10) > SERVE_DRAIN_MAX_MS) {
		if (left != 0)
			log_warnx("stopping with %zu bytes unsent", left);
		else if (pending)
			log_warnx("stopping with writes or calls still waiting for the store");
		event_base_loopbreak(srv->base);
		return;
	}
	evtimer_add(srv->shutdown_ev, &tick);
}

static void
server_flushed(void *arg, enum store_err err, const char *cause)
{
	(void)arg;
	if (err != STORE_OK)
		log_warnx("stopping: %s", cause);
}

static void
server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = 1;
	log_info("stopping");
	systemd_notify_stopping();
	if (srv->bound != NULL) {
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
		if (!systemd_socket_inherited())	/* systemd's socket stays for the next start */
			unlink(srv->cfg->socket_path);
	}
	decode_stop(srv->decode);	/* its uploads answered 503 before the drain */
	store_flush(srv->store, server_flushed, srv);
	stream_shutdown_all(srv);
	evtimer_assign(srv->shutdown_ev, srv->base, server_drain, srv);
	server_drain(-1, 0, srv);
}

static void
server_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGHUP) {
		log_reopen();
		log_info("SIGHUP: logs reopened");
		return;
	}
	server_stop(arg);
}

/*
 * The descriptor limit (raised to its hard limit) is shared by the store's
 * open logs, the connections and the store's own work: its journal, the
 * files a commit opens, the decode workers' pipes (SERVE_FD_RESERVE). The
 * logs kept open by default are cut to a quarter of the limit, and the
 * connections beyond what is left are closed as they are accepted (gate.c):
 * a commit that cannot open a file breaks the store, and the server stops.
 */
static void
server_fd_budget(struct server *srv)
{
	struct rlimit rl;
	long lim, logs, left;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		srv->open_logs = srv->cfg->max_open_logs;
		srv->fd_conns = (size_t)-1;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	lim = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000 ? 1000000 : (long)rl.rlim_cur;
	logs = srv->cfg->max_open_logs;
	if (logs == 0) {
		logs = STORE_MAX_OPEN_LOGS < lim / 4 ? STORE_MAX_OPEN_LOGS : lim / 4;
		if (logs < 1)
			logs = 1;
		if (logs < STORE_MAX_OPEN_LOGS)
			log_info("descriptor limit %ld: %ld log files kept open", lim, logs);
	}
	srv->open_logs = (int)logs;
	left = lim - logs - SERVE_FD_RESERVE - 2 * SERVE_ACCEPT_BATCH;
	srv->fd_conns = left > 8 ? (size_t)left : 8;
	if (srv->fd_conns < (size_t)srv->cfg->max_connections)
		log_info("descriptor limit %ld: connections beyond %zu are closed as they come",
		    lim, srv->fd_conns);
}

static void
server_ready(struct server *srv)
{
	int fd = srv->cfg->ready_fd;

	if (fd < 0)
		return;
	if (write(fd, "ready\n", 6) != 6)
		log_warn("ready-fd %d", fd);
	close(fd);
}

/* Ready: --ready-fd and systemd both told. */
static void
server_ready_all(struct server *srv)
{
	server_ready(srv);
	systemd_notify_ready(srv->cfg);
}

static void
server_http(struct server *srv, int fd)
{
	struct evconnlistener *lev;

	srv->http = evhttp_new(srv->base);
	evhttp_set_max_headers_size(srv->http, SERVE_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, SERVE_HARD_MAX_BODY);
	evhttp_set_timeout(srv->http, srv->cfg->idle_timeout_s);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->http, http_dispatch, srv);
	evhttp_set_bevcb(srv->http, accept_counted, srv);
	srv->bound = evhttp_accept_socket_with_handle(srv->http, fd);
	if (srv->bound == NULL)
		fatalx("evhttp_accept_socket_with_handle failed");
	lev = evhttp_bound_socket_get_listener(srv->bound);
	accepting = srv;
	evconnlistener_set_error_cb(lev, accept_error);
}

/* The store broke (a failed sync): answer what is in flight, then stop (exit 70). */
static void
server_broken_ev(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warnx("the store cannot be trusted any more (a sync failed): stopping");
	srv->exitcode = EXIT_SOFTWARE;
	server_stop(srv);
}

static void
server_broken(void *arg)
{
	struct server *srv = arg;

	if (srv->broken_ev != NULL && !srv->stopping)
		event_active(srv->broken_ev, EV_TIMEOUT, 0);
}

static void
load_problem(void *arg, const char *where, const char *what, int fixed)
{
	(void)arg;
	(void)fixed;
	log_warnx("%s: %s", where, what);
}

static int
server_open_store(struct server *srv, char **cause, int *exitcode)
{
	struct store_options opt = { .sync = srv->cfg->sync,
	    .max_open_logs = srv->open_logs, .quota_mib = srv->cfg->etcd_quota_mib,
	    .compact_s = srv->cfg->compact_s };
	struct core_config cc;
	enum store_err err;
	int problems;

	config_core(srv->cfg, &cc);
	srv->store = store_open(srv->cfg->store_path, srv->base, &opt, &err, cause);
	if (srv->store == NULL) {
		*exitcode = err == STORE_BUSY ? EXIT_UNAVAILABLE : err == STORE_FORMAT_ERR ?
		    EXIT_DATAERR : err == STORE_INVALID ? EXIT_USAGE : EXIT_IOERR;
		return -1;
	}
	core_init(&srv->core, srv->store, srv->base, &cc);
	srv->core.broken = server_broken;
	srv->core.broken_arg = srv;
	stream_init(srv);
	if ((problems = core_load(&srv->core, load_problem, NULL, srv, 0, &err, cause)) != 0) {
		if (problems > 0)
			*cause = xprintf("store %s has %d problem%s: see rtcs-serve --fsck",
			    srv->cfg->store_path, problems, problems == 1 ? "" : "s");
		*exitcode = problems > 0 || err != STORE_IO ? EXIT_DATAERR : EXIT_IOERR;
		return -1;
	}
	log_info("store %s: %zu sessions, %llu events", srv->cfg->store_path,
	    srv->core.nsessions, (unsigned long long)srv->core.events_durable);
	return 0;
}

static void
server_free(struct server *srv)
{
	chunked_close_all();	/* before evhttp's: a socket just taken is still its */
	if (srv->http != NULL)
		evhttp_free(srv->http);	/* closes every connection, so every other stream */
	decode_free(srv->decode);
	strmap_free(srv->conns, free);
	strmap_free(srv->fails, free);
	if (srv->shutdown_ev != NULL)
		event_free(srv->shutdown_ev);
	if (srv->accept_resume != NULL)
		event_free(srv->accept_resume);
	if (srv->accept_turn != NULL)
		event_free(srv->accept_turn);
	if (srv->broken_ev != NULL)
		event_free(srv->broken_ev);
	if (srv->sig_term != NULL) {
		event_free(srv->sig_term);
		event_free(srv->sig_int);
		event_free(srv->sig_hup);
	}
	if (srv->store != NULL) {
		core_listen(&srv->core, NULL);
		stream_free_lists(srv);
		core_free(&srv->core);
		store_close(srv->store);	/* commits what is pending, hearing nothing back */
	}
	if (srv->base != NULL)
		event_base_free(srv->base);
	if (srv->lockfd >= 0)
		close(srv->lockfd);
}

/*
 * The loop. Its epoll changes are applied together at each dispatch
 * (libevent's changelist): a request's turn of the read side off and on,
 * and a write that leaves at once, cost no epoll_ctl. The flag's caveat, a
 * descriptor dup'ed into the loop's set, does not arise here: the sync
 * thread's dup'ed descriptors are never in the loop, and a decode worker
 * closes what it inherits at its start.
 */
static struct event_base *
server_base(void)
{
	struct event_config *ec;
	struct event_base *base;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

int
server_run(struct server *srv, char **cause, int *exitcode)
{
	int fd, busy = 0, rv = -1;

	srv->lockfd = -1;
	srv->started_ms = now_ms();
	srv->conns = strmap_new();
	srv->fails = strmap_new();
	server_fd_budget(srv);
	signal(SIGPIPE, SIG_IGN);
	if ((srv->base = server_base()) == NULL)
		fatalx("event_base_new failed");
	srv->broken_ev = event_new(srv->base, -1, 0, server_broken_ev, srv);
	srv->decode = decode_new(srv->base, srv->cfg->decode_workers, srv->cfg->decode_queue,
	    srv->cfg->decode_cpu_s);
	if (server_open_store(srv, cause, exitcode) != 0)
		goto out;
	if ((fd = systemd_socket(srv->cfg, cause)) < 0 && (*cause != NULL ||
	    (fd = server_listen(srv, &busy, cause)) < 0)) {
		*exitcode = busy ? EXIT_UNAVAILABLE : EXIT_IOERR;
		goto out;
	}
	server_http(srv, fd);
	if (core_recover(&srv->core, cause) != 0) {
		*exitcode = EXIT_IOERR;
		goto out;
	}
	srv->shutdown_ev = evtimer_new(srv->base, server_drain, srv);
	srv->accept_resume = evtimer_new(srv->base, accept_resume, srv);
	srv->accept_turn = evtimer_new(srv->base, accept_turn, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_signal, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_signal, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_signal, srv);
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_hup, NULL);
	log_info("listening on %s", srv->cfg->socket_path);
	server_ready_all(srv);
	event_base_dispatch(srv->base);
	if (!srv->stopping)
		server_stop(srv);
	rv = srv->exitcode != 0 ? -1 : 0;
	if (rv != 0) {
		*exitcode = srv->exitcode;
		*cause = xstrdup("the store broke");
	}
	log_info("stopped");
out:
	server_free(srv);
	return rv;
}

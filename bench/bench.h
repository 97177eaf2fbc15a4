/* rtcs-bench: shared pieces of the benchmark driver (clock, samples, HTTP, figures). */
#ifndef RTCS_BENCH_H
#define RTCS_BENCH_H
#include <stddef.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

/* Parameters common to every subcommand, from options and the environment. */
struct bench_opts {
	const char	*sock;		/* rtcs-serve socket (-S) */
	const char	*sock2;		/* a second rtcs-serve (--sock2), e.g. --sync batch */
	const char	*nginx;		/* nginx socket (--nginx) */
	const char	*www;		/* nginx document root (--www) */
	const char	*anchor;	/* anchor socket (--anchor), e.g. relay-anchor */
	const char	*dir;		/* scratch directory (--dir) */
	const char	*out;		/* figures file, JSON Lines (-o) */
	int		 rounds;	/* A/B rounds after the warm-up */
	int		 n;		/* operations per side per round */
	int		 warm;		/* warm-up operations per side */
	int		 conc;		/* concurrent senders */
	long		 pid;		/* rtcs-serve pid (scale) */
	const char	*tag;		/* figure name prefix (--tag), where a command allows it */
	const char	*note;		/* added to the figure's note (--note): procs, scale */
	int		 anchor_exit;	/* the anchor's expected exit status (--anchor-exit), procs only */
	const char	*log;		/* rtcs-serve -vv log (--log): server-side call timings */
	const char	*redis;		/* redis-server socket (--redis), the Streams anchors */
	const char	*sock3;		/* a third rtcs-serve (--sock3), e.g. --sync none */
};

/* Clock. */
double	 now_us(void);
void	 sleep_us(long us);

/* Samples: a growable array of doubles and order statistics. */
struct samples {
	double	*v;
	size_t	 n, cap;
};
void	 samples_add(struct samples *, double);
double	 samples_pct(struct samples *, double pct);	/* sorts in place; NAN if empty */
void	 samples_free(struct samples *);

/*
 * One operation under test: does it once and returns 0, or -1 with *cause.
 * It may set *lat_us to its own latency (else the wall time of the call is used).
 */
typedef int (*bench_op)(void *ctx, double *lat_us, char **cause);

#define AB_SIDES 4
struct ab_result {
	struct samples	 lat[AB_SIDES];		/* every latency sample, side by side */
	struct samples	 rate[AB_SIDES];	/* operations per second, one per round */
};
/* One side of an A/B/... run; op NULL: the side is skipped (n/a). */
struct ab_side {
	bench_op	 op;
	void		*ctx;
};
/* Runs warm-up then rounds of (A n times, B n times); -1 with *cause on error. */
int	 ab_run(const struct bench_opts *, bench_op a, void *actx, bench_op b, void *bctx,
	    struct ab_result *, char **cause);
/* The same with up to AB_SIDES sides, each round in order. */
int	 ab_run_sides(const struct bench_opts *, const struct ab_side *, int nsides,
	    struct ab_result *, char **cause);
void	 ab_free(struct ab_result *);

/* HTTP over a UNIX socket with libcurl: one keep-alive handle per client. */
struct http {
	CURL		*h;
	char		*sock;
	char		*resp;
	size_t		 len, cap;
	char		 errbuf[CURL_ERROR_SIZE];
};
void	 http_init(struct http *, const char *sock);
void	 http_free(struct http *);
/* Sends one request; body may be NULL; token NULL means an operator call. */
int	 http_req(struct http *, const char *method, const char *path, const char *token,
	    const char *body, long *status, char **cause);
/* Same, and parses the response as a JSON object (NULL if it is not one). */
cJSON	*http_json(struct http *, const char *method, const char *path, const char *token,
	    const char *body, long *status, char **cause);
/* Prepares h for path on sock (used by the multi-handle loops). */
void	 http_setup(CURL *h, const char *sock, const char *path);
/* A header list with JSON content type, no Expect, and the token if any. */
struct curl_slist *http_headers(const char *token);

/* A session with n participants p0..p(n-1) on devices d0..; tokens[i] allocated. */
struct bsession {
	char	 *id;
	char	**tokens;
	char	**devices;
	int	  n;
};
int	 session_create(struct http *, const char *prefix, int n, struct bsession *, char **cause);
void	 session_free(struct bsession *);

/* Figures: one JSON line each in opts->out; rtcs or anchor may be NAN (n/a). */
void	 fig_emit(const struct bench_opts *, const char *name, double rtcs, double anchor,
	    const char *note);
void	 fig_na(const struct bench_opts *, const char *name, const char *note);

const char *line_body(const char *line);
/* A connection to a UNIX socket: its fd, or -1 with *cause. */
int	 bench_connect(const char *path, char **cause);

/*
 * Raw sockets, so a figure is the server's cost and not a client library's:
 * the same way for rtcs (HTTP) and Redis (RESP).
 */
#define RAW_BUF 65536
int	 raw_write(int fd, const char *p, size_t len, char **cause);
/* Reads into buf (holding len) until done(buf, len, arg) > 0; that length, or -1. */
typedef long (*raw_done)(const char *buf, size_t len, const void *arg);
long	 raw_read_until(int fd, char *buf, size_t len, raw_done done, const void *arg,
	    char **cause);
/* The length of one whole HTTP/1.1 response at buf (Content-Length or chunked), 0 if cut. */
long	 http_response_len(const char *buf, size_t len, const void *unused);
/* Up to the end of the first arg (a string) in buf, 0 if it is not there yet. */
long	 raw_through(const char *buf, size_t len, const void *needle);
/* One whole response read; -1 unless its status is want. */
int	 raw_http_reply(int fd, char *buf, int want, char **cause);
/* One request written and its whole response read; -1 unless its status is want. */
int	 raw_http(int fd, const char *req, size_t reqlen, char *buf, int want, char **cause);

/* Redis's protocol (RESP2), for the Redis Streams anchors (bench_redis.c). */
size_t	 resp_format(char *buf, size_t len, int argc, const char **argv);
long	 resp_reply_len(const char *buf, size_t len, const void *unused);	/* one whole reply, 0 if cut */
/* One command and its reply into buf; -1 on error or a RESP error reply. */
int	 resp_call(int fd, char *buf, int argc, const char **argv, char **cause);

/* XADD of one message on one connection, as a bench_op. */
struct redis_xadd {
	int	 fd;
	char	 req[1024];
	size_t	 reqlen;
	char	*buf;
};
int	 redis_xadd_init(struct redis_xadd *, const char *sock, const char *key,
	    const char *body, char **cause);
int	 redis_xadd_run(void *ctx, double *lat, char **cause);
void	 redis_xadd_free(struct redis_xadd *);

/* XADD on one connection -> the reader blocked in XREAD on another, as a bench_op. */
struct redis_relay {
	int	 snd, rcv;
	char	 key[64], last[48];
	char	*buf;
	long	 k;
};
int	 redis_relay_init(struct redis_relay *, const char *sock, const char *key, char **cause);
int	 redis_relay_run(void *ctx, double *lat, char **cause);
void	 redis_relay_free(struct redis_relay *);

/*
 * conc connections, each sending its request and waiting for the reply,
 * per times, all at once on one epoll loop (the 16-sender figures).
 */
struct conc {
	int		*fds;
	char		**req;		/* each connection's request bytes */
	size_t		*reqlen;
	raw_done	 done;
	int		 conc, per;
};
int	 conc_run(void *ctx, double *lat, char **cause);	/* a bench_op: one burst */
void	 conc_free(struct conc *);
/* conc connections' room, per requests a burst each, replies ended as done says; no fd yet. */
void	 conc_alloc(struct conc *, int conc, int per, raw_done done);
int	 redis_conc_init(struct conc *, const char *sock, int conc, int per, const char *body,
	    char **cause);

/*
 * One device's message to another's stream as a bench_op: the POST through
 * sock, the stream on stream_sock (the same server, or another node).
 */
struct rtcs_relay {
	int	 post, stream;		/* keep-alive POST connection, stream connection */
	char	*sid, *tok;
	char	 req[1024];		/* the last request written, for the anchor */
	size_t	 reqlen;
	char	 buf[RAW_BUF];
	long	 k;
};
int	 rtcs_relay_init(struct rtcs_relay *, const char *sock, const char *stream_sock,
	    char **cause);
int	 rtcs_relay_run(void *ctx, double *lat, char **cause);
void	 rtcs_relay_free(struct rtcs_relay *);

/* Subcommands. */
int	 cmd_read(struct bench_opts *, int, char **);
int	 cmd_mutate(struct bench_opts *, int, char **);
int	 cmd_batch(struct bench_opts *, int, char **);
int	 cmd_relay(struct bench_opts *, int, char **);
int	 cmd_procs(struct bench_opts *, int, char **);
int	 cmd_transfer(struct bench_opts *, int, char **);
int	 cmd_continuity(struct bench_opts *, int, char **);
int	 cmd_scale(struct bench_opts *, int, char **);
int	 cmd_fsync(struct bench_opts *, int, char **);
int	 cmd_store(struct bench_opts *, int, char **);
int	 cmd_genlog(struct bench_opts *, int, char **);
int	 cmd_replay(struct bench_opts *, int, char **);
int	 cmd_fig(struct bench_opts *, int, char **);
int	 cmd_media_load(struct bench_opts *, int, char **);
int	 cmd_media_post(struct bench_opts *, int, char **);
int	 cmd_conc(struct bench_opts *, int, char **);
int	 cmd_cluster(struct bench_opts *, int, char **);
/* The two whole-transfer series (bench_transfer.c); names prefixed by tag if not NULL. */
int	 transfer_figures(struct bench_opts *, const char *tag, double anchor_ms);
/* GET /v1/health's store counters: syncs, appends, puts (NAN if absent). */
void	 store_counts(struct http *, double v[3]);
/* rtcs-serve's VmRSS, KiB (-1 if unknown). */
long	 proc_rss_kib(long pid);
int	 cmd_report(struct bench_opts *, int, char **);
int	 cmd_na(struct bench_opts *, int, char **);

/* Shared by read and scale: GET /v1/sessions/{id} vs nginx, A/B; p50 (rtcs, nginx) if not NULL. */
int	 read_compare(struct bench_opts *, const char *prefix, const char *note, double p50[2]);
#endif

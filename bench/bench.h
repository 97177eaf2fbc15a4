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
	const char	*note;		/* added to the figure's note (--note), procs only */
	int		 anchor_exit;	/* the anchor's expected exit status (--anchor-exit), procs only */
	const char	*log;		/* rtcs-serve -vv log (--log): server-side call timings */
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

struct ab_result {
	struct samples	 lat[2];	/* every latency sample, A then B */
	struct samples	 rate[2];	/* operations per second, one per round */
};
/* Runs warm-up then rounds of (A n times, B n times); -1 with *cause on error. */
int	 ab_run(const struct bench_opts *, bench_op a, void *actx, bench_op b, void *bctx,
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
/* rtcs-serve's VmRSS, KiB (-1 if unknown). */
long	 proc_rss_kib(long pid);
int	 cmd_report(struct bench_opts *, int, char **);
int	 cmd_na(struct bench_opts *, int, char **);

/* Shared by read and scale: GET /v1/sessions/{id} vs nginx, A/B. */
int	 read_compare(struct bench_opts *, const char *prefix, const char *note);
#endif

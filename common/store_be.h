/*
 * What a store backend implements (store.h's operations, minus what every
 * backend shares: argument checks and watches), and what store.c gives it.
 */
#ifndef RTCS_STORE_BE_H
#define RTCS_STORE_BE_H
#include <sys/queue.h>

#include "store.h"
#include "strmap.h"

struct store_ops {
	const char *name;
	int	 shared;	/* other servers write to it too: their writes are told */
	int	(*load)(void *be, const struct store_loader *, enum store_err *, char **);
	void	(*get)(void *be, enum store_kind, const char *id, store_get_cb, void *);
	void	(*put)(void *be, enum store_kind, const char *id, uint64_t expect_rev,
		    const char *json, size_t len, const struct store_then *, store_put_cb,
		    void *);
	/* May be NULL: put is used. */
	void	(*put_later)(void *be, enum store_kind, const char *id, uint64_t expect_rev,
		    const char *json, size_t len, store_put_cb, void *);
	void	(*append)(void *be, const char *log, uint64_t expect_last, const char *json,
		    size_t len, store_append_cb, void *);
	/* May be NULL (one writer): append is used. */
	void	(*append_if)(void *be, const char *log, uint64_t expect_last,
		    const struct store_guard *, const char *json, size_t len, store_append_cb,
		    void *);
	void	(*read)(void *be, const char *log, uint64_t from, size_t max_records,
		    size_t max_bytes, store_page_cb, void *);
	void	(*flush)(void *be, store_done_cb, void *);
	/* May be NULL (one writer: it has heard everything): store_barrier. */
	void	(*barrier)(void *be, store_done_cb, void *);
	/* May be NULL: nothing is ever removed. */
	void	(*remove)(void *be, enum store_kind, const char *id, uint64_t expect_rev,
		    const char *log, store_done_cb, void *);
	uint64_t (*durable_last)(void *be, const char *log);
	int	(*broken)(void *be);
	/* May be NULL: always available. */
	int	(*available)(void *be);
	/* May be NULL: never near a quota. */
	int	(*full_soon)(void *be);
	int	(*pending)(void *be);
	int	(*check_files)(void *be, const struct store_loader *);
	void	(*stats)(void *be, struct store_stats *);
	void	(*close)(void *be);
};

struct store_watch {
	TAILQ_ENTRY(store_watch) entry;
	struct store	*st;
	char		*log;		/* NULL: a kind watch */
	enum store_kind	 kind;
	uint64_t	 next;		/* the next seq this watch wants */
	int		 replaying;	/* reading what was there before it caught up */
	int		 reading;	/* a page of that is being read */
	int		 dead;
	struct event	*replay_ev;
	store_record_cb	 rfn;
	store_doc_cb	 dfn;
	void		*arg;
};
TAILQ_HEAD(store_watchq, store_watch);

struct store {
	const struct store_ops *ops;
	void		*be;
	char		*where;
	struct event_base *base;
	struct strmap	*log_watches;	/* log name -> struct store_watchq */
	struct store_watchq kind_watches;
	int		 notifying;
	void		(*avail_fn)(void *, int);
	void		*avail_arg;
	int		 dead;		/* unwatched while notifying: to sweep */
};

/* The flat-file backend: its open (store_fs.c). */
void	*store_fs_open(struct store *, const char *dir, const struct store_options *,
	    enum store_err *, char **cause);
extern const struct store_ops store_fs_ops;
/* The etcd backend (store_etcd.c): spec is "etcd://HOST:PORT[,...][/PREFIX]". */
void	*store_etcd_open(struct store *, const char *spec, const struct store_options *,
	    enum store_err *, char **cause);
extern const struct store_ops store_etcd_ops;

/* Backends tell of what became durable (their own writes, or others' they saw). */
void	 store_notify_record(struct store *, const struct store_record *);
void	 store_notify_doc(struct store *, const struct store_doc *);
void	 store_notify_available(struct store *, int available);
/* The typed error of a failed system call's errno. */
enum store_err store_errno(int);
#endif

/* rtcs-serve's options, as main.c parsed them. */
#ifndef RTCS_SERVE_CONFIG_H
#define RTCS_SERVE_CONFIG_H
#include "payload.h"
#include "store.h"
#include "transfer.h"

struct core_config;

struct config {
	const char *socket_opt;
	const char *store_opt;
	char	*socket_path;
	char	*store_path;
	int	 ready_fd;
	long long code_ttl_ms;
	long long retain_ms;		/* --retain: 0 keeps everything */
	long long rotate_ms;		/* --rotate: 0 off */
	long long media_ring_ms;
	enum transfer_confirm confirm;
	enum transfer_proof proof;
	enum store_sync sync;
	int	 idle_timeout_s;
	int	 header_timeout_s;
	int	 max_connections;
	int	 max_open_logs;
	int	 etcd_quota_mib;	/* --etcd-quota: 0 is etcd's default, 2048 */
	long	 compact_s;		/* --compact: 0 never */
	int	 decode_workers;	/* image decoders at once */
	int	 decode_queue;		/* uploads waiting for one */
	int	 decode_cpu_s;		/* CPU seconds per image */
	char	 name[PAYLOAD_DESC_NAME_MAX + 1];	/* --name: the server's new name; "": keep */
	int	 fsck;
	int	 print_key;
	int	 json;
};

/* Every option at its default (config.c). */
void	 config_defaults(struct config *);
/* What the core takes of them. */
void	 config_core(const struct config *, struct core_config *);
#endif

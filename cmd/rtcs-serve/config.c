/* rtcs-serve's options before the command line: the defaults rtcs-serve(1) names. */
#include <string.h>

#include "config.h"
#include "core.h"

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->ready_fd = -1;
	cfg->code_ttl_ms = 120000;
	cfg->media_ring_ms = 2000;
	cfg->confirm = TC_ORIGIN;
	cfg->proof = TP_BOTH;
	cfg->sync = STORE_SYNC_ALWAYS;
	cfg->idle_timeout_s = 60;
	cfg->header_timeout_s = 10;
	cfg->max_connections = 4096;
	cfg->decode_workers = 2;
	cfg->decode_queue = 8;
	cfg->decode_cpu_s = 2;
}

void
config_core(const struct config *cfg, struct core_config *cc)
{
	memset(cc, 0, sizeof *cc);
	cc->code_ttl_ms = cfg->code_ttl_ms;
	cc->retain_ms = cfg->retain_ms;
	cc->confirm = cfg->confirm;
	cc->proof = cfg->proof;
	cc->media_ring_ms = cfg->media_ring_ms;
	memcpy(cc->name, cfg->name, sizeof cc->name);
	cc->rotate_ms = cfg->rotate_ms;
}

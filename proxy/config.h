/*
 * config.h - weir's configuration: one validated, immutable struct.
 *
 * Sources, weakest first: built-in defaults, the config file, WEIR_*
 * environment variables, command-line flags.  Every setting can come from
 * any of them under the same key (WEIR_<KEY in upper case> in the
 * environment).  Every numeric key has a minimum, a maximum and a default
 * in one table in config.c.  Errors name their place the way a compiler
 * does: "weir.conf:12: rate: expected N/s or N/min".
 */
#ifndef WEIR_CONFIG_H
#define WEIR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hdr.h"
#include "prio.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_format {
	LOG_FMT_JSON = 0,
	LOG_FMT_TEXT,
};

enum tenant_key {
	TENANT_KEY_AUTH = 0,	/* X-Weir-Tenant, token map, token hash, Basic id */
	TENANT_KEY_HEADER,	/* the value of one named header */
};

enum reqid_retry {
	REQID_KEEP = 0,		/* every attempt carries the caller's id */
	REQID_RENEW,		/* fresh id per attempt, original in a 2nd header */
};

/* n calls per per_ms milliseconds ("300/min" is {300, 60000}). */
struct rate {
	uint64_t	n;
	uint64_t	per_ms;
};

/* The limits one tenant runs under; top-level keys set the defaults. */
struct limits {
	struct rate	rate;		/* rate, default 300/min */
	uint64_t	burst;		/* burst, default 10 */
	uint64_t	concurrency;	/* concurrency, default 8 */
	uint64_t	max_queue;	/* max_queue, default 10000 */
	uint64_t	priority_share;	/* a lower class's 1 slot in N, 10 */
};

/* A [tenant NAME] section: limits that differ from the defaults. */
struct tenant_limits {
	char			*name;
	struct limits		 limits;	/* fully resolved */
	struct prio_rules	 prio;		/* its priority rules, tried
						 * before the top-level ones */
	struct tenant_limits	*next;
};

struct config {
	char			*file;		/* file loaded, or NULL */

	/* listen */
	struct sockaddr_storage	 listen;
	socklen_t		 listen_len;
	char			*listen_str;	/* as given, "127.0.0.1:8080" */

	/* upstreams: "scheme://host[:port]" plus an optional base path */
	char			*region;	/* NULL unless set */
	char			*upstream;	/* "https://api.mypurecloud.com" */
	char			*login_upstream;
	char			*api_prefix;	/* "" or "/api" (no trailing /) */
	char			*login_prefix;	/* "" or "/login" */

	/* headers */
	char			*request_id_header;	/* "X-Request-Id" */
	struct hdrs		 add_headers;	/* add_header, in order */

	/* sizes and times */
	uint64_t		 max_body;		/* bytes, 16m */
	uint64_t		 max_body_memory;	/* bytes, 256m: all bodies */
	uint64_t		 response_buffer;	/* bytes, 1m: per answer */
	uint64_t		 max_header_size;	/* bytes, 32k */
	uint64_t		 max_connections;	/* 4096 */
	uint64_t		 connect_timeout_ms;	/* 10s */
	uint64_t		 upstream_timeout_ms;	/* 60s */
	uint64_t		 client_timeout_ms;	/* 30s */

	/* TLS to the upstream */
	char			*ca_file;	/* NULL: system store */
	int			 insecure;	/* 1: no verification */

	/* logging */
	enum log_level		 log_level;	/* info */
	enum log_format		 log_format;	/* json */

	/* operations */
	struct sockaddr_storage	 admin_listen;
	socklen_t		 admin_listen_len;
	char			*admin_listen_str;	/* NULL: off */
	int			 reuse_port;	/* SO_REUSEPORT on listeners */
	uint64_t		 drain_timeout_ms;	/* 10s */
	uint64_t		 metrics_tenants;	/* 20: label the busiest */

	/* tenants and pacing */
	enum tenant_key		 tenant_key;	/* auth */
	char			*tenant_header;	/* with header:NAME */
	struct limits		 limits;	/* defaults for every tenant */
	struct tenant_limits	*tenants;	/* [tenant NAME] sections */
	struct prio_rules	 prio;		/* priority rules, in order */
	uint64_t		 max_tenants;	/* 1000 */
	uint64_t		 max_wait_ms;	/* 15s */
	uint64_t		 max_wait_cap_ms;	/* 300s */
	uint64_t		 max_pause_ms;	/* 1h: longest 429 pause */
	uint64_t		 max_retries;	/* 5 */
	enum reqid_retry	 request_id_on_retry;	/* keep */

	/* sharing budgets with other instances */
	char			*redis;		/* URL, NULL: off */
	uint64_t		 redis_timeout_ms;	/* 50ms */
	char			*redis_prefix;	/* "weir:" */
};

/*
 * Build the configuration from argv and the environment.  Returns 0 and
 * sets *out (free with config_free), or -1 with a one-line message in err
 * (no trailing newline).  Flags that stop the program (-h, -V) and the
 * check mode (-t) are reported through *action.
 */
enum config_action {
	CONFIG_RUN = 0,
	CONFIG_CHECK,		/* -t: validate, print "configuration OK" */
	CONFIG_HELP,		/* -h */
	CONFIG_VERSION,		/* -V */
};
int	config_load(struct config **out, enum config_action *action,
	    int argc, char *const argv[], char *err, size_t errlen);

/*
 * The pieces config_load() is made of, for tests.  config_new() returns
 * the built-in defaults.  config_file() applies a file; config_env()
 * applies the WEIR_* variables found through getenv_fn; config_set()
 * applies one key = value from a source named where (e.g. "--listen",
 * "WEIR_LISTEN", "weir.conf:12").  config_finish() checks what depends on
 * more than one key.  Each returns 0 or -1 with err filled in.
 */
struct config	*config_new(void);
int		 config_file(struct config *, const char *path,
		    char *err, size_t errlen);
int		 config_file_mem(struct config *, const char *name,
		    const char *text, char *err, size_t errlen);
int		 config_env(struct config *, const char *(*getenv_fn)(const char *),
		    char *err, size_t errlen);
int		 config_set(struct config *, const char *where, const char *key,
		    const char *value, char *err, size_t errlen);
int		 config_finish(struct config *, char *err, size_t errlen);
void		 config_free(struct config *);

/* The limits that apply to tenant name: its section's, or the defaults. */
const struct limits *config_limits(const struct config *, const char *name);

/* The priority rules of tenant name's section, or NULL if it has none;
 * the top-level ones are cfg->prio. */
const struct prio_rules *config_prio_rules(const struct config *,
		    const char *name);

#endif

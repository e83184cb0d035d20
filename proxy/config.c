/*
 * config.c - build and validate weir's configuration.
 *
 * Every key lives in one table (keys[] below): its type, range, default and
 * where it is stored.  Sources are applied weakest first - defaults, the
 * file, WEIR_* variables, flags - and every one of them goes through the
 * same apply_key(), so a key means the same thing wherever it comes from.
 * [tenant NAME] sections only record what they set; config_finish() fills
 * in the rest from the top-level limits once every source is in, and
 * checks what depends on more than one key.  What one value means on its
 * own (a size, a URL, a region...) is config_parse.c's: this file holds
 * the table, the sources and the checks across keys.
 *
 * This file touches the struct config it is handed, the one file it is
 * told to read and the environment; it never logs.  Errors go back to the
 * caller as one line: "weir.conf:12: rate: expected N/s or N/min", the
 * place and key from here, the reason from config_parse.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_parse.h"
#include "redis.h"
#include "tenant.h"
#include "hdr.h"
#include "xmalloc.h"

#define WHY_MAX		1024	/* one "what is wrong" */

enum ktype {
	K_STRING,	/* char *, optionally checked and normalised */
	K_BOOL,		/* int, 0 or 1 */
	K_SIZE,		/* uint64_t bytes */
	K_DURATION,	/* uint64_t milliseconds */
	K_COUNT,	/* uint64_t */
	K_RATE,		/* struct rate; min and max bound N */
	K_ENUM,		/* int, the index of the word in words[] */
	K_LISTEN,	/* listen, listen_len, listen_str */
	K_URL,		/* char *, "scheme://host[:port][/base]" */
	K_SPECIAL,	/* set() does all of it */
};

#define KF_LIMIT	0x01	/* in struct limits; allowed in [tenant] */
#define KF_REPEAT	0x02	/* every occurrence adds to the list */
#define KF_RULES	0x04	/* priority rules; allowed in [tenant] */

/* K_STRING: check value, return a new string in *out (NULL allowed). */
typedef int (*key_norm_fn)(const char *value, char **out,
    char *why, size_t whylen);
/* K_SPECIAL: apply value to the config. */
typedef int (*key_set_fn)(struct config *, const char *value,
    char *why, size_t whylen);

struct key {
	const char		*name;
	enum ktype		 type;
	int			 flags;
	uint64_t		 min;
	uint64_t		 max;
	const char		*def;	/* as text; NULL: none */
	size_t			 off;	/* in config, or limits */
	const char *const	*words;	/* K_ENUM */
	key_norm_fn		 norm;	/* K_STRING, optional */
	key_set_fn		 set;	/* K_SPECIAL */
};

/* A [tenant] section: the public part first, so the two convert. */
struct tenant_sect {
	struct tenant_limits	 tc;
	uint64_t		 set;	/* bit i: keys[i] set here */
};

static int	set_region(struct config *, const char *, char *, size_t);
static int	set_add_header(struct config *, const char *, char *, size_t);
static int	set_tenant_key(struct config *, const char *, char *, size_t);
static int	set_priority(struct config *, const char *, char *, size_t);
static int	set_admin_listen(struct config *, const char *, char *,
		    size_t);

static const char *const log_levels[] = {	/* enum log_level */
	"error", "warn", "info", "debug", NULL
};
static const char *const log_formats[] = {	/* enum log_format */
	"json", "text", NULL
};
static const char *const reqid_retries[] = {	/* enum reqid_retry */
	"keep", "renew", NULL
};

/* redis = redis://[[user]:password@]host[:port][/db] | unix:/path; ""
 * turns it off.  The value is never echoed: it may hold a password. */
static int
norm_redis(const char *v, char **out, char *why, size_t whylen)
{
	struct redis_addr	 a;

	if (*v == '\0') {
		*out = NULL;
		return 0;
	}
	if (redis_addr_parse(v, &a, why, whylen) == -1)
		return -1;
	redis_addr_free(&a);
	*out = xstrdup(v);
	return 0;
}

/* redis_prefix: 1 to 64 printable characters, no spaces or braces (a
 * brace would end a key's Cluster hash tag). */
static int
norm_redis_prefix(const char *v, char **out, char *why, size_t whylen)
{
	const char	*p;

	if (*v == '\0' || strlen(v) > 64) {
		cfgp_seterr(why, whylen, "expected 1 to 64 characters");
		return -1;
	}
	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '{' || *p == '}') {
			cfgp_seterr(why, whylen, "no spaces, braces or "
			    "control characters");
			return -1;
		}
	*out = xstrdup(v);
	return 0;
}

#define CFG(f)	offsetof(struct config, f)
#define LIM(f)	offsetof(struct limits, f)

/*
 * Every key weir knows.  Defaults are text, applied through the same code
 * as any other source, so a default can never be out of its own range.
 * config_env() applies region before the upstreams whatever the order here.
 */
static const struct key keys[] = {
	{ .name = "listen", .type = K_LISTEN, .def = "127.0.0.1:8080",
	    .off = CFG(listen) },
	{ .name = "region", .type = K_SPECIAL, .set = set_region },
	{ .name = "upstream", .type = K_URL,
	    .def = "https://api.mypurecloud.com", .off = CFG(upstream) },
	{ .name = "login_upstream", .type = K_URL,
	    .def = "https://login.mypurecloud.com",
	    .off = CFG(login_upstream) },
	{ .name = "api_prefix", .type = K_STRING, .def = "",
	    .off = CFG(api_prefix), .norm = cfgp_prefix },
	{ .name = "login_prefix", .type = K_STRING, .def = "",
	    .off = CFG(login_prefix), .norm = cfgp_prefix },
	{ .name = "request_id_header", .type = K_STRING, .def = "X-Request-Id",
	    .off = CFG(request_id_header), .norm = cfgp_hdrname },
	{ .name = "add_header", .type = K_SPECIAL, .flags = KF_REPEAT,
	    .set = set_add_header },
	{ .name = "max_body", .type = K_SIZE, .min = 0, .max = CFGP_GiB,
	    .def = "16m", .off = CFG(max_body) },
	{ .name = "max_body_memory", .type = K_SIZE, .min = 0,
	    .max = 64 * CFGP_GiB, .def = "256m", .off = CFG(max_body_memory) },
	{ .name = "response_buffer", .type = K_SIZE, .min = 16 * CFGP_KiB,
	    .max = CFGP_GiB, .def = "1m", .off = CFG(response_buffer) },
	{ .name = "max_header_size", .type = K_SIZE, .min = CFGP_KiB,
	    .max = CFGP_MiB, .def = "4k", .off = CFG(max_header_size) },
	{ .name = "max_connections", .type = K_COUNT, .min = 1, .max = 1000000,
	    .def = "4096", .off = CFG(max_connections) },
	{ .name = "connect_timeout", .type = K_DURATION, .min = 1,
	    .max = 10 * CFGP_MINUTE, .def = "10s",
	    .off = CFG(connect_timeout_ms) },
	{ .name = "upstream_timeout", .type = K_DURATION, .min = 1,
	    .max = CFGP_HOUR, .def = "60s", .off = CFG(upstream_timeout_ms) },
	{ .name = "client_timeout", .type = K_DURATION, .min = CFGP_SEC,
	    .max = CFGP_HOUR, .def = "30s", .off = CFG(client_timeout_ms) },
	{ .name = "ca_file", .type = K_STRING, .off = CFG(ca_file),
	    .norm = cfgp_path },
	{ .name = "insecure", .type = K_BOOL, .def = "off",
	    .off = CFG(insecure) },
	{ .name = "log_level", .type = K_ENUM, .def = "info",
	    .off = CFG(log_level), .words = log_levels },
	{ .name = "log_format", .type = K_ENUM, .def = "json",
	    .off = CFG(log_format), .words = log_formats },
	{ .name = "tenant_key", .type = K_SPECIAL, .def = "auth",
	    .set = set_tenant_key },
	{ .name = "rate", .type = K_RATE, .flags = KF_LIMIT, .min = 1,
	    .max = 1000000, .def = "300/min", .off = LIM(rate) },
	{ .name = "burst", .type = K_COUNT, .flags = KF_LIMIT, .min = 1,
	    .max = 100000, .def = "10", .off = LIM(burst) },
	{ .name = "concurrency", .type = K_COUNT, .flags = KF_LIMIT, .min = 1,
	    .max = 10000, .def = "8", .off = LIM(concurrency) },
	{ .name = "max_queue", .type = K_COUNT, .flags = KF_LIMIT, .min = 1,
	    .max = 10000000, .def = "10000", .off = LIM(max_queue) },
	{ .name = "priority", .type = K_SPECIAL, .flags = KF_REPEAT | KF_RULES,
	    .set = set_priority },
	{ .name = "priority_share", .type = K_COUNT, .flags = KF_LIMIT,
	    .min = 2, .max = 1000, .def = "10", .off = LIM(priority_share) },
	{ .name = "max_tenants", .type = K_COUNT, .min = 1, .max = 1000000,
	    .def = "1000", .off = CFG(max_tenants) },
	{ .name = "max_wait", .type = K_DURATION, .min = 0, .max = CFGP_HOUR,
	    .def = "15s", .off = CFG(max_wait_ms) },
	{ .name = "max_wait_cap", .type = K_DURATION, .min = CFGP_SEC,
	    .max = 24 * CFGP_HOUR, .def = "300s", .off = CFG(max_wait_cap_ms) },
	{ .name = "max_pause", .type = K_DURATION, .min = CFGP_SEC,
	    .max = 24 * CFGP_HOUR, .def = "1h", .off = CFG(max_pause_ms) },
	{ .name = "max_retries", .type = K_COUNT, .min = 0, .max = 100,
	    .def = "5", .off = CFG(max_retries) },
	{ .name = "request_id_on_retry", .type = K_ENUM, .def = "keep",
	    .off = CFG(request_id_on_retry), .words = reqid_retries },
	{ .name = "admin_listen", .type = K_SPECIAL, .def = "127.0.0.1:9090",
	    .set = set_admin_listen },
	{ .name = "reuse_port", .type = K_BOOL, .def = "off",
	    .off = CFG(reuse_port) },
	{ .name = "drain_timeout", .type = K_DURATION, .min = 0,
	    .max = CFGP_HOUR, .def = "10s", .off = CFG(drain_timeout_ms) },
	{ .name = "metrics_tenants", .type = K_COUNT, .min = 1, .max = 10000,
	    .def = "20", .off = CFG(metrics_tenants) },
	{ .name = "redis", .type = K_STRING, .off = CFG(redis),
	    .norm = norm_redis },
	{ .name = "redis_timeout", .type = K_DURATION, .min = 1,
	    .max = 10 * CFGP_SEC, .def = "50ms", .off = CFG(redis_timeout_ms) },
	{ .name = "redis_prefix", .type = K_STRING, .def = "weir:",
	    .off = CFG(redis_prefix), .norm = norm_redis_prefix },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

_Static_assert(NKEYS <= 64, "struct tenant_sect.set holds 64 bits");
_Static_assert(sizeof(enum log_level) == sizeof(int) &&
    sizeof(enum log_format) == sizeof(int) &&
    sizeof(enum reqid_retry) == sizeof(int), "K_ENUM stores an int");

static char *
ltrim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static char *
trim(char *s)
{
	size_t	n;

	s = ltrim(s);
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static const struct key *
find_key(const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
set_listen(struct config *cfg, const char *v, char *why, size_t whylen)
{
	if (cfgp_listen(v, &cfg->listen, &cfg->listen_len, why, whylen) == -1)
		return -1;
	free(cfg->listen_str);
	cfg->listen_str = xstrdup(v);
	return 0;
}

/* admin_listen: an address like listen's, or "off". */
static int
set_admin_listen(struct config *cfg, const char *v, char *why,
    size_t whylen)
{
	if (strcasecmp(v, "off") == 0) {
		free(cfg->admin_listen_str);
		cfg->admin_listen_str = NULL;
		return 0;
	}
	if (cfgp_listen(v, &cfg->admin_listen, &cfg->admin_listen_len, why,
	    whylen) == -1) {
		if (strncmp(why, "expected", 8) == 0)
			cfgp_seterr(why, whylen, "expected ADDR:PORT, "
			    "[ADDR]:PORT or off");
		return -1;
	}
	free(cfg->admin_listen_str);
	cfg->admin_listen_str = xstrdup(v);
	return 0;
}

/* region: both upstreams at once. */
static int
set_region(struct config *cfg, const char *v, char *why, size_t whylen)
{
	char	*api, *login;

	if (cfgp_region(v, &api, &login, why, whylen) == -1)
		return -1;
	free(cfg->upstream);
	cfg->upstream = api;
	free(cfg->login_upstream);
	cfg->login_upstream = login;
	free(cfg->region);
	cfg->region = xstrdup(v);
	return 0;
}

/* add_header = Name: value (appended; every one is sent). */
static int
set_add_header(struct config *cfg, const char *v, char *why, size_t whylen)
{
	const char	*val;
	size_t		 nlen, vlen;

	if (cfgp_header(v, &nlen, &val, &vlen, why, whylen) == -1)
		return -1;
	hdrs_addn(&cfg->add_headers, v, nlen, val, vlen);
	return 0;
}

/* priority = METHOD PATH-PATTERN CLASS (appended; the first match wins).
 * A value of several lines (WEIR_PRIORITY) is one rule a line. */
static int
set_priority(struct config *cfg, const char *v, char *why, size_t whylen)
{
	char	*copy, *line, *next;
	int	 rc = 0, n = 0;

	copy = xstrdup(v);
	for (line = copy; line != NULL && rc == 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*trim(line) == '\0')
			continue;
		rc = prio_rule_add(&cfg->prio, line, why, whylen);
		n++;
	}
	if (rc == 0 && n == 0)	/* says what a rule looks like */
		rc = prio_rule_add(&cfg->prio, "", why, whylen);
	free(copy);
	return rc;
}

/* tenant_key = auth | header:NAME */
static int
set_tenant_key(struct config *cfg, const char *v, char *why, size_t whylen)
{
	char	*name;

	if (strcasecmp(v, "auth") == 0) {
		cfg->tenant_key = TENANT_KEY_AUTH;
		free(cfg->tenant_header);
		cfg->tenant_header = NULL;
		return 0;
	}
	if (strncasecmp(v, "header:", 7) != 0 || v[7] == '\0') {
		cfgp_seterr(why, whylen, "expected auth or header:NAME");
		return -1;
	}
	if (cfgp_hdrname(v + 7, &name, why, whylen) == -1)
		return -1;
	cfg->tenant_key = TENANT_KEY_HEADER;
	free(cfg->tenant_header);
	cfg->tenant_header = name;
	return 0;
}

/*
 * Apply value to key k.  base is the config, or for KF_LIMIT keys the
 * struct limits to change.  Returns 0, or -1 with why filled in.
 */
static int
apply_key(struct config *cfg, const struct key *k, void *base,
    const char *v, char *why, size_t whylen)
{
	void	*dst = (char *)base + k->off;
	char	*s = NULL;

	switch (k->type) {
	case K_STRING:
	case K_URL:
		if (k->type == K_URL) {
			if (cfgp_url(v, &s, why, whylen) == -1)
				return -1;
		} else if (k->norm != NULL) {
			if (k->norm(v, &s, why, whylen) == -1)
				return -1;
		} else
			s = xstrdup(v);
		free(*(char **)dst);
		*(char **)dst = s;
		return 0;
	case K_BOOL:
		return cfgp_bool(v, dst, why, whylen);
	case K_SIZE:
		return cfgp_size(v, k->min, k->max, dst, why, whylen);
	case K_DURATION:
		return cfgp_duration(v, k->min, k->max, dst, why, whylen);
	case K_COUNT:
		return cfgp_count(v, k->min, k->max, dst, why, whylen);
	case K_RATE:
		return cfgp_rate(v, k->min, k->max, dst, why, whylen);
	case K_ENUM:
		return cfgp_enum(v, k->words, dst, why, whylen);
	case K_LISTEN:
		return set_listen(cfg, v, why, whylen);
	case K_SPECIAL:
		return k->set(cfg, v, why, whylen);
	}
	cfgp_seterr(why, whylen, "internal error: bad key type");
	return -1;
}

/* Apply a top-level key; errors read "where: key: why". */
static int
set_key(struct config *cfg, const char *where, const struct key *k,
    const char *v, char *err, size_t errlen)
{
	char	 why[WHY_MAX];
	void	*base;

	base = (k->flags & KF_LIMIT) ? (void *)&cfg->limits : (void *)cfg;
	if (apply_key(cfg, k, base, v, why, sizeof(why)) == -1) {
		cfgp_seterr(err, errlen, "%s: %s: %s", where, k->name, why);
		return -1;
	}
	return 0;
}

struct config *
config_new(void)
{
	struct config	*cfg;
	char		 err[WHY_MAX + 64];
	size_t		 i;

	cfg = xcalloc(1, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		if (set_key(cfg, "default", &keys[i], keys[i].def, err,
		    sizeof(err)) == -1) {
			/* A bad default is a bug in the table above. */
			fprintf(stderr, "weir: %s\n", err);
			abort();
		}
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	struct tenant_limits	*tc, *next;

	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->listen_str);
	free(cfg->admin_listen_str);
	free(cfg->region);
	free(cfg->upstream);
	free(cfg->login_upstream);
	free(cfg->api_prefix);
	free(cfg->login_prefix);
	free(cfg->request_id_header);
	hdrs_free(&cfg->add_headers);
	free(cfg->ca_file);
	free(cfg->tenant_header);
	if (cfg->redis != NULL)
		explicit_bzero(cfg->redis, strlen(cfg->redis));
	free(cfg->redis);
	free(cfg->redis_prefix);
	prio_rules_free(&cfg->prio);
	for (tc = cfg->tenants; tc != NULL; tc = next) {
		next = tc->next;
		free(tc->name);
		prio_rules_free(&tc->prio);
		free((struct tenant_sect *)tc);
	}
	free(cfg);
}

int
config_set(struct config *cfg, const char *where, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct key	*k;
	char			 buf[CFGP_SHOW_MAX];

	if ((k = find_key(key)) == NULL) {
		cfgp_seterr(err, errlen, "%s: %s: unknown key", where,
		    cfgp_show(key, buf, sizeof(buf)));
		return -1;
	}
	return set_key(cfg, where, k, value, err, errlen);
}

/* "[tenant NAME]": start a section; s is the trimmed line. */
static int
parse_section(struct config *cfg, const char *file, unsigned lineno,
    char *s, struct tenant_sect **sectp, char *err, size_t errlen)
{
	struct tenant_sect	*ts;
	struct tenant_limits	**tail;
	char			*close, *kind, *name, *after;
	char			 buf[CFGP_SHOW_MAX];

	if ((close = strchr(s, ']')) == NULL)
		goto syntax;
	after = ltrim(close + 1);
	if (*after != '\0' && *after != '#')
		goto syntax;
	*close = '\0';
	kind = trim(s + 1);
	for (name = kind; *name != '\0' && *name != ' ' && *name != '\t';
	    name++)
		;
	if (*name != '\0')
		*name++ = '\0';
	name = trim(name);
	if (*kind == '\0')
		goto syntax;
	if (strcmp(kind, "tenant") != 0) {
		cfgp_seterr(err, errlen, "%s:%u: unknown section '%s'", file,
		    lineno, cfgp_show(kind, buf, sizeof(buf)));
		return -1;
	}
	if (*name == '\0')
		goto syntax;
	if (!tenant_name_valid(name, strlen(name))) {
		cfgp_seterr(err, errlen, "%s:%u: invalid tenant name '%s' "
		    "(1 to %d of A-Z a-z 0-9 . _ : @ -)", file, lineno,
		    cfgp_show(name, buf, sizeof(buf)), TENANT_NAME_MAX);
		return -1;
	}
	for (tail = &cfg->tenants; *tail != NULL; tail = &(*tail)->next) {
		if (strcmp((*tail)->name, name) == 0) {
			cfgp_seterr(err, errlen, "%s:%u: duplicate section "
			    "[tenant %s]", file, lineno, name);
			return -1;
		}
	}
	ts = xcalloc(1, sizeof(*ts));
	ts->tc.name = xstrdup(name);
	ts->tc.limits = cfg->limits;	/* until config_finish() */
	*tail = &ts->tc;
	*sectp = ts;
	return 0;

syntax:
	cfgp_seterr(err, errlen, "%s:%u: expected '[tenant NAME]'", file,
	    lineno);
	return -1;
}

/*
 * The value of "key = value", v just after the '=', cut in place: a
 * "quoted" value is kept as it is, '#' and blanks included; a bare one
 * ends at a comment and is trimmed.  Returns the value, or NULL with err
 * filled in.
 */
static char *
line_value(char *v, const char *file, unsigned lineno, const char *key,
    char *err, size_t errlen)
{
	char	*q;

	v = ltrim(v);
	if (*v != '"') {
		/* A '#' at the start or after a blank begins a comment. */
		for (q = v; *q != '\0'; q++) {
			if (*q == '#' && (q == v || q[-1] == ' ' ||
			    q[-1] == '\t')) {
				*q = '\0';
				break;
			}
		}
		return trim(v);
	}
	if ((q = strchr(v + 1, '"')) == NULL) {
		cfgp_seterr(err, errlen, "%s:%u: %s: missing closing quote",
		    file, lineno, key);
		return NULL;
	}
	*q++ = '\0';
	q = ltrim(q);
	if (*q != '\0' && *q != '#') {
		cfgp_seterr(err, errlen, "%s:%u: %s: unexpected text after "
		    "closing quote", file, lineno, key);
		return NULL;
	}
	return v + 1;
}

/* key = value inside [tenant NAME]: only limits, remembered as set there. */
static int
set_sect_key(struct config *cfg, struct tenant_sect *ts, const char *file,
    unsigned lineno, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	char	why[WHY_MAX];

	if (k->flags & KF_RULES) {
		/* a section's own rules, tried before the top-level ones */
		if (prio_rule_add(&ts->tc.prio, v, why, sizeof(why)) == -1) {
			cfgp_seterr(err, errlen, "%s:%u: %s: %s", file,
			    lineno, k->name, why);
			return -1;
		}
		return 0;
	}
	if (!(k->flags & KF_LIMIT)) {
		cfgp_seterr(err, errlen, "%s:%u: %s: not allowed in a "
		    "[tenant] section", file, lineno, k->name);
		return -1;
	}
	if (apply_key(cfg, k, &ts->tc.limits, v, why, sizeof(why)) == -1) {
		cfgp_seterr(err, errlen, "%s:%u: %s: %s", file, lineno,
		    k->name, why);
		return -1;
	}
	ts->set |= 1ULL << (k - keys);
	return 0;
}

/*
 * One line of a file: blank, comment, section or key = value.  line is
 * the line's own copy and is cut up in place.
 */
static int
parse_line(struct config *cfg, const char *file, unsigned lineno,
    char *line, struct tenant_sect **sectp, char *err, size_t errlen)
{
	const struct key	*k;
	char			*s, *eq, *key = NULL, *v, *where;
	char			 buf[CFGP_SHOW_MAX];
	int			 rc;

	s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[')
		return parse_section(cfg, file, lineno, s, sectp, err, errlen);
	if ((eq = strchr(s, '=')) != NULL) {
		*eq = '\0';
		key = trim(s);
	}
	if (eq == NULL || *key == '\0') {
		cfgp_seterr(err, errlen, "%s:%u: expected 'key = value'", file,
		    lineno);
		return -1;
	}
	if ((k = find_key(key)) == NULL) {
		cfgp_seterr(err, errlen, "%s:%u: %s: unknown key", file, lineno,
		    cfgp_show(key, buf, sizeof(buf)));
		return -1;
	}
	if ((v = line_value(eq + 1, file, lineno, k->name, err,
	    errlen)) == NULL)
		return -1;
	if (*sectp != NULL)
		return set_sect_key(cfg, *sectp, file, lineno, k, v, err,
		    errlen);
	xasprintf(&where, "%s:%u", file, lineno);
	rc = set_key(cfg, where, k, v, err, errlen);
	free(where);
	return rc;
}

static int
parse_text(struct config *cfg, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct tenant_sect	*sect = NULL;
	const char		*p = text, *end = text + len, *nl;
	char			*line;
	unsigned		 lineno = 0;
	size_t			 n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		line = xstrndup(p, n);
		lineno++;
		p += n + (nl != NULL);
		if (parse_line(cfg, name, lineno, line, &sect, err,
		    errlen) == -1) {
			free(line);
			return -1;
		}
		free(line);
	}
	return 0;
}

int
config_file_mem(struct config *cfg, const char *name, const char *text,
    char *err, size_t errlen)
{
	return parse_text(cfg, name, text, strlen(text), err, errlen);
}

int
config_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		cfgp_seterr(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			text = xrealloc(text, cap);
		}
		n = fread(text + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		cfgp_seterr(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		cfgp_seterr(err, errlen, "%s: not a text file (NUL byte)",
		    path);
		goto out;
	}
	if (parse_text(cfg, path, text, len, err, errlen) == -1)
		goto out;
	free(cfg->file);
	cfg->file = xstrdup(path);
	rc = 0;
out:
	free(text);
	fclose(fp);
	return rc;
}

/* One WEIR_<KEY>; unset or empty means "not given". */
static int
env_key(struct config *cfg, const struct key *k,
    const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
	char		 name[64];
	const char	*v;
	size_t		 i;

	snprintf(name, sizeof(name), "WEIR_%s", k->name);
	for (i = 5; name[i] != '\0'; i++)
		name[i] = (char)toupper((unsigned char)name[i]);
	if ((v = getenv_fn(name)) == NULL || *v == '\0')
		return 0;
	return set_key(cfg, name, k, v, err, errlen);
}

/* add_header fields from one variable, one per line. */
static int
env_headers(struct config *cfg, const char *name, const char *v,
    char *err, size_t errlen)
{
	const struct key	*k = find_key("add_header");
	char			*copy, *line, *next, *s;
	int			 rc = 0;

	copy = xstrdup(v);
	for (line = copy; line != NULL && rc == 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		s = trim(line);
		if (*s != '\0')
			rc = set_key(cfg, name, k, s, err, errlen);
	}
	free(copy);
	return rc;
}

int
config_env(struct config *cfg, const char *(*getenv_fn)(const char *),
    char *err, size_t errlen)
{
	const char	*v;
	char		 name[32];
	size_t		 i;
	int		 n;

	/* region first: explicit upstreams at the same level win. */
	if (env_key(cfg, find_key("region"), getenv_fn, err, errlen) == -1)
		return -1;
	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, "region") == 0)
			continue;
		if (keys[i].set == set_add_header) {
			if ((v = getenv_fn("WEIR_ADD_HEADER")) != NULL &&
			    env_headers(cfg, "WEIR_ADD_HEADER", v, err,
			    errlen) == -1)
				return -1;
			for (n = 1; n <= 9; n++) {
				snprintf(name, sizeof(name),
				    "WEIR_ADD_HEADER_%d", n);
				if ((v = getenv_fn(name)) != NULL &&
				    env_headers(cfg, name, v, err,
				    errlen) == -1)
					return -1;
			}
			continue;
		}
		if (env_key(cfg, &keys[i], getenv_fn, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
config_finish(struct config *cfg, char *err, size_t errlen)
{
	struct tenant_limits	*tc;
	struct tenant_sect	*ts;
	const struct key	*k;
	char			 a[32], b[32];
	uint64_t		 ntenants = 0;
	size_t			 i, size;

	/* Sections take the final top-level limits for what they left out. */
	for (tc = cfg->tenants; tc != NULL; tc = tc->next) {
		ts = (struct tenant_sect *)tc;
		for (i = 0; i < NKEYS; i++) {
			k = &keys[i];
			if (!(k->flags & KF_LIMIT) || (ts->set & (1ULL << i)))
				continue;
			size = k->type == K_RATE ? sizeof(struct rate) :
			    sizeof(uint64_t);
			memcpy((char *)&tc->limits + k->off,
			    (char *)&cfg->limits + k->off, size);
		}
		ntenants++;
	}

	if (cfg->api_prefix[0] != '\0' &&
	    strcmp(cfg->api_prefix, cfg->login_prefix) == 0) {
		cfgp_seterr(err, errlen, "api_prefix: must differ from "
		    "login_prefix (both are '%s')", cfg->api_prefix);
		return -1;
	}
	if (cfg->tenant_key == TENANT_KEY_HEADER && (cfg->tenant_header ==
	    NULL || cfg->tenant_header[0] == '\0')) {
		cfgp_seterr(err, errlen,
		    "tenant_key: header: needs a header name");
		return -1;
	}
	if (cfg->max_wait_ms > cfg->max_wait_cap_ms) {
		cfgp_seterr(err, errlen, "max_wait: %s is more than "
		    "max_wait_cap (%s)",
		    cfgp_fmt_duration(cfg->max_wait_ms, a, sizeof(a)),
		    cfgp_fmt_duration(cfg->max_wait_cap_ms, b, sizeof(b)));
		return -1;
	}
	if (ntenants > cfg->max_tenants) {
		cfgp_seterr(err, errlen, "max_tenants: %" PRIu64 " [tenant] "
		    "sections but max_tenants is %" PRIu64, ntenants,
		    cfg->max_tenants);
		return -1;
	}
	return 0;
}

const struct limits *
config_limits(const struct config *cfg, const char *name)
{
	const struct tenant_limits	*tc;

	if (name != NULL)
		for (tc = cfg->tenants; tc != NULL; tc = tc->next)
			if (strcmp(tc->name, name) == 0)
				return &tc->limits;
	return &cfg->limits;
}

const struct prio_rules *
config_prio_rules(const struct config *cfg, const char *name)
{
	const struct tenant_limits	*tc;

	if (name != NULL)
		for (tc = cfg->tenants; tc != NULL; tc = tc->next)
			if (strcmp(tc->name, name) == 0)
				return tc->prio.n > 0 ? &tc->prio : NULL;
	return NULL;
}

/* getenv(3) with the type config_env() wants. */
static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* What the command line asked for; the strings point into argv. */
struct flags {
	const char	*file;		/* -c */
	const char	*listen;	/* -l */
	const char	*upstream;	/* -u */
	const char	*login;		/* -L */
	const char	*region;	/* -r */
	int		 verbose;	/* -v, counted */
	int		 check;		/* -t */
	int		 help;		/* -h */
	int		 version;	/* -V */
};

/* Why getopt_long() returned ':' (no argument) or '?' (unknown). */
static void
flag_error(int ch, char *const argv[], char *err, size_t errlen)
{
	const char	*opt = argv[optind - 1];
	char		 buf[CFGP_SHOW_MAX];

	if (ch == ':' && strncmp(opt, "--", 2) == 0)
		cfgp_seterr(err, errlen, "option '%.*s' needs an argument "
		    "(try 'weir -h')", (int)strcspn(opt, "="), opt);
	else if (ch == ':')
		cfgp_seterr(err, errlen, "option '-%c' needs an argument "
		    "(try 'weir -h')", optopt);
	else if (optopt != 0)
		cfgp_seterr(err, errlen, "unknown option '-%c' "
		    "(try 'weir -h')", isprint(optopt) ? optopt : '?');
	else
		cfgp_seterr(err, errlen, "unknown option '%s' "
		    "(try 'weir -h')", cfgp_show(opt, buf, sizeof(buf)));
}

static int
parse_flags(int argc, char *const argv[], struct flags *f, char *err,
    size_t errlen)
{
	static const struct option longopts[] = {
		{ "config",		required_argument, NULL, 'c' },
		{ "listen",		required_argument, NULL, 'l' },
		{ "upstream",		required_argument, NULL, 'u' },
		{ "login-upstream",	required_argument, NULL, 'L' },
		{ "region",		required_argument, NULL, 'r' },
		{ "check-config",	no_argument, NULL, 't' },
		{ "verbose",		no_argument, NULL, 'v' },
		{ "version",		no_argument, NULL, 'V' },
		{ "help",		no_argument, NULL, 'h' },
		{ NULL,			0, NULL, 0 },
	};
	char	buf[CFGP_SHOW_MAX];
	int	ch;

	memset(f, 0, sizeof(*f));
	/*
	 * optind = 0 makes glibc, musl and the BSDs start over completely
	 * (optind = 1 can leave glibc inside an earlier "-tv" cluster).
	 */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:l:u:L:r:tvVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			f->file = optarg;
			break;
		case 'l':
			f->listen = optarg;
			break;
		case 'u':
			f->upstream = optarg;
			break;
		case 'L':
			f->login = optarg;
			break;
		case 'r':
			f->region = optarg;
			break;
		case 't':
			f->check = 1;
			break;
		case 'v':
			f->verbose++;
			break;
		case 'V':
			f->version = 1;
			break;
		case 'h':
			f->help = 1;
			break;
		default:
			flag_error(ch, argv, err, errlen);
			return -1;
		}
	}
	if (optind < argc) {
		cfgp_seterr(err, errlen, "unexpected argument '%s' "
		    "(try 'weir -h')", cfgp_show(argv[optind], buf,
		    sizeof(buf)));
		return -1;
	}
	return 0;
}

/* The flags that set keys: the strongest source, applied last. */
static int
apply_flags(struct config *cfg, const struct flags *f, char *err,
    size_t errlen)
{
	const struct {
		const char	*where;
		const char	*key;
		const char	*value;		/* NULL: not given */
	} set[] = {
		/* region first: explicit upstreams at the same level win. */
		{ "--region", "region", f->region },
		{ "--listen", "listen", f->listen },
		{ "--upstream", "upstream", f->upstream },
		{ "--login-upstream", "login_upstream", f->login },
		{ "--verbose", "log_level", f->verbose > 0 ? "debug" : NULL },
	};
	size_t	i;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		if (set[i].value != NULL && config_set(cfg, set[i].where,
		    set[i].key, set[i].value, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
config_load(struct config **out, enum config_action *action, int argc,
    char *const argv[], char *err, size_t errlen)
{
	struct flags	 f;
	struct config	*cfg;
	const char	*file;

	*out = NULL;
	*action = CONFIG_RUN;
	if (parse_flags(argc, argv, &f, err, errlen) == -1)
		return -1;
	if (f.help) {
		*action = CONFIG_HELP;
		return 0;
	}
	if (f.version) {
		*action = CONFIG_VERSION;
		return 0;
	}

	cfg = config_new();
	file = f.file;
	if (file == NULL && (file = getenv("WEIR_CONFIG")) != NULL &&
	    *file == '\0')
		file = NULL;
	if (file != NULL && config_file(cfg, file, err, errlen) == -1)
		goto fail;
	if (config_env(cfg, env_get, err, errlen) == -1 ||
	    apply_flags(cfg, &f, err, errlen) == -1 ||
	    config_finish(cfg, err, errlen) == -1)
		goto fail;

	if (f.check)
		*action = CONFIG_CHECK;
	*out = cfg;
	return 0;

fail:
	config_free(cfg);
	return -1;
}

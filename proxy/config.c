/*
 * config.c - build and validate weir's configuration.
 *
 * Every key lives in one table (keys[] below): its type, range, default and
 * where it is stored.  Sources are applied weakest first - defaults, the
 * file, WEIR_* variables, flags - and every one of them goes through the
 * same apply_key(), so a key means the same thing wherever it comes from.
 * [tenant NAME] sections only record what they set; config_finish() fills
 * in the rest from the top-level limits once every source is in.
 *
 * This file touches the struct config it is handed, the one file it is
 * told to read and the environment; it never logs.  Errors go back to the
 * caller as one line: "weir.conf:12: rate: expected N/s or N/min".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tenant.h"
#include "hdr.h"
#include "xmalloc.h"

#define KiB	UINT64_C(1024)
#define MiB	(1024 * KiB)
#define GiB	(1024 * MiB)
#define SEC	UINT64_C(1000)
#define MINUTE	(60 * SEC)
#define HOUR	(60 * MINUTE)

#define WHY_MAX		1024	/* one "what is wrong" */
#define SHOW_MAX	80	/* a value quoted back in a message */

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
	struct tenant_conf	 tc;
	uint64_t		 set;	/* bit i: keys[i] set here */
};

static int	norm_prefix(const char *, char **, char *, size_t);
static int	norm_hdrname(const char *, char **, char *, size_t);
static int	norm_path(const char *, char **, char *, size_t);
static int	set_region(struct config *, const char *, char *, size_t);
static int	set_add_header(struct config *, const char *, char *, size_t);
static int	set_tenant_key(struct config *, const char *, char *, size_t);
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
	    .off = CFG(api_prefix), .norm = norm_prefix },
	{ .name = "login_prefix", .type = K_STRING, .def = "",
	    .off = CFG(login_prefix), .norm = norm_prefix },
	{ .name = "request_id_header", .type = K_STRING, .def = "X-Request-Id",
	    .off = CFG(request_id_header), .norm = norm_hdrname },
	{ .name = "add_header", .type = K_SPECIAL, .flags = KF_REPEAT,
	    .set = set_add_header },
	{ .name = "max_body", .type = K_SIZE, .min = 0, .max = GiB,
	    .def = "16m", .off = CFG(max_body) },
	{ .name = "max_body_memory", .type = K_SIZE, .min = 0, .max = 64 * GiB,
	    .def = "256m", .off = CFG(max_body_memory) },
	{ .name = "response_buffer", .type = K_SIZE, .min = 16 * KiB,
	    .max = GiB, .def = "1m", .off = CFG(response_buffer) },
	{ .name = "max_header_size", .type = K_SIZE, .min = KiB, .max = MiB,
	    .def = "2k", .off = CFG(max_header_size) },
	{ .name = "max_connections", .type = K_COUNT, .min = 1, .max = 1000000,
	    .def = "4096", .off = CFG(max_connections) },
	{ .name = "connect_timeout", .type = K_DURATION, .min = 1,
	    .max = 10 * MINUTE, .def = "10s", .off = CFG(connect_timeout_ms) },
	{ .name = "upstream_timeout", .type = K_DURATION, .min = 1,
	    .max = HOUR, .def = "60s", .off = CFG(upstream_timeout_ms) },
	{ .name = "client_timeout", .type = K_DURATION, .min = SEC,
	    .max = HOUR, .def = "30s", .off = CFG(client_timeout_ms) },
	{ .name = "ca_file", .type = K_STRING, .off = CFG(ca_file),
	    .norm = norm_path },
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
	{ .name = "max_tenants", .type = K_COUNT, .min = 1, .max = 1000000,
	    .def = "1000", .off = CFG(max_tenants) },
	{ .name = "max_wait", .type = K_DURATION, .min = 0, .max = HOUR,
	    .def = "15s", .off = CFG(max_wait_ms) },
	{ .name = "max_wait_cap", .type = K_DURATION, .min = SEC,
	    .max = 24 * HOUR, .def = "300s", .off = CFG(max_wait_cap_ms) },
	{ .name = "max_pause", .type = K_DURATION, .min = SEC,
	    .max = 24 * HOUR, .def = "1h", .off = CFG(max_pause_ms) },
	{ .name = "max_retries", .type = K_COUNT, .min = 0, .max = 100,
	    .def = "5", .off = CFG(max_retries) },
	{ .name = "request_id_on_retry", .type = K_ENUM, .def = "keep",
	    .off = CFG(request_id_on_retry), .words = reqid_retries },
	{ .name = "admin_listen", .type = K_SPECIAL, .def = "127.0.0.1:9090",
	    .set = set_admin_listen },
	{ .name = "reuse_port", .type = K_BOOL, .def = "off",
	    .off = CFG(reuse_port) },
	{ .name = "drain_timeout", .type = K_DURATION, .min = 0,
	    .max = HOUR, .def = "10s", .off = CFG(drain_timeout_ms) },
	{ .name = "metrics_tenants", .type = K_COUNT, .min = 1, .max = 10000,
	    .def = "20", .off = CFG(metrics_tenants) },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

_Static_assert(NKEYS <= 64, "struct tenant_sect.set holds 64 bits");
_Static_assert(sizeof(enum log_level) == sizeof(int) &&
    sizeof(enum log_format) == sizeof(int) &&
    sizeof(enum reqid_retry) == sizeof(int), "K_ENUM stores an int");

/* The Genesys Cloud environments, and the AWS region names the SDKs use. */
static const struct region {
	const char	*env;
	const char	*aws;	/* NULL: none */
} regions[] = {
	{ "mypurecloud.com",		"us-east-1" },
	{ "mypurecloud.ie",		"eu-west-1" },
	{ "mypurecloud.com.au",		"ap-southeast-2" },
	{ "mypurecloud.jp",		"ap-northeast-1" },
	{ "mypurecloud.de",		"eu-central-1" },
	{ "usw2.pure.cloud",		"us-west-2" },
	{ "cac1.pure.cloud",		"ca-central-1" },
	{ "apne2.pure.cloud",		"ap-northeast-2" },
	{ "euw2.pure.cloud",		"eu-west-2" },
	{ "aps1.pure.cloud",		"ap-south-1" },
	{ "use2.us-gov-pure.cloud",	"us-east-2" },
	{ "sae1.pure.cloud",		"sa-east-1" },
	{ "mec1.pure.cloud",		"me-central-1" },
	{ "apne3.pure.cloud",		"ap-northeast-3" },
	{ "euc2.pure.cloud",		"eu-central-2" },
	{ "mxc1.pure.cloud",		"mx-central-1" },
	{ "apse1.pure.cloud",		"ap-southeast-1" },
	{ "edee1.eusc-pure.cloud",	NULL },
};

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * A value fit to quote back in a one-line message: control characters
 * become '?', and long values are cut.
 */
static const char *
show(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

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

/*
 * Numbers.  parse_num() and the unit parsers return 0, -1 for garbage and
 * -2 for a number too large for 64 bits, so a too-large value can be
 * reported as out of range.
 */
static int
parse_num(const char **sp, uint64_t *out)
{
	const char	*s = *sp;
	uint64_t	 n = 0, d;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		d = (uint64_t)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	*sp = s;
	*out = n;
	return 0;
}

static int
parse_count(const char *s, uint64_t *out)
{
	uint64_t	n;
	int		r;

	if ((r = parse_num(&s, &n)) != 0)
		return r;
	if (*s != '\0')
		return -1;
	*out = n;
	return 0;
}

static int
parse_size(const char *s, uint64_t *out)
{
	uint64_t	n, mult;
	int		r;

	if ((r = parse_num(&s, &n)) != 0)
		return r;
	switch (*s) {
	case '\0':
		mult = 1;
		break;
	case 'k': case 'K':
		mult = KiB;
		break;
	case 'm': case 'M':
		mult = MiB;
		break;
	case 'g': case 'G':
		mult = GiB;
		break;
	default:
		return -1;
	}
	if (*s != '\0' && *++s != '\0')
		return -1;
	if (n > UINT64_MAX / mult)
		return -2;
	*out = n * mult;
	return 0;
}

static int
parse_duration(const char *s, uint64_t *out)
{
	uint64_t	n, mult;
	int		r;

	if ((r = parse_num(&s, &n)) != 0)
		return r;
	if (*s == '\0' || strcasecmp(s, "s") == 0)
		mult = SEC;
	else if (strcasecmp(s, "ms") == 0)
		mult = 1;
	else if (strcasecmp(s, "m") == 0)
		mult = MINUTE;
	else if (strcasecmp(s, "h") == 0)
		mult = HOUR;
	else
		return -1;
	if (n > UINT64_MAX / mult)
		return -2;
	*out = n * mult;
	return 0;
}

static int
parse_rate(const char *s, struct rate *out)
{
	static const struct {
		const char	*word;
		uint64_t	 ms;
	} units[] = {
		{ "s", SEC }, { "sec", SEC }, { "second", SEC },
		{ "m", MINUTE }, { "min", MINUTE }, { "minute", MINUTE },
		{ "h", HOUR }, { "hour", HOUR },
	};
	uint64_t	n;
	size_t		i;
	int		r;

	if ((r = parse_num(&s, &n)) != 0)
		return r;
	if (*s++ != '/')
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(s, units[i].word) == 0) {
			out->n = n;
			out->per_ms = units[i].ms;
			return 0;
		}
	}
	return -1;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	return s == NULL || parse_size(s, bytes) != 0 ? -1 : 0;
}

int
config_parse_duration(const char *s, uint64_t *ms)
{
	return s == NULL || parse_duration(s, ms) != 0 ? -1 : 0;
}

int
config_parse_rate(const char *s, struct rate *rate)
{
	return s == NULL || parse_rate(s, rate) != 0 ? -1 : 0;
}

/* 1048576 -> "1m", 1500 -> "1500": the largest unit that divides. */
static const char *
fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % GiB == 0)
		snprintf(buf, len, "%" PRIu64 "g", v / GiB);
	else if (v != 0 && v % MiB == 0)
		snprintf(buf, len, "%" PRIu64 "m", v / MiB);
	else if (v != 0 && v % KiB == 0)
		snprintf(buf, len, "%" PRIu64 "k", v / KiB);
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *
fmt_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % HOUR == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / HOUR);
	else if (ms % MINUTE == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / MINUTE);
	else if (ms % SEC == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / SEC);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	return buf;
}

/* The setters for the plain types.  Each writes *dst only on success. */

static int
set_number(const struct key *k, void *dst, const char *v, char *why,
    size_t whylen)
{
	char		 lo[32], hi[32];
	uint64_t	 n = 0;
	int		 r;

	switch (k->type) {
	case K_SIZE:
		r = parse_size(v, &n);
		fmt_size(k->min, lo, sizeof(lo));
		fmt_size(k->max, hi, sizeof(hi));
		if (r == -1) {
			seterr(why, whylen,
			    "expected a size such as 512, 64k, 16m or 1g");
			return -1;
		}
		break;
	case K_DURATION:
		r = parse_duration(v, &n);
		fmt_duration(k->min, lo, sizeof(lo));
		fmt_duration(k->max, hi, sizeof(hi));
		if (r == -1) {
			seterr(why, whylen,
			    "expected a duration such as 500ms, 30s, 5m or 1h");
			return -1;
		}
		break;
	default:
		r = parse_count(v, &n);
		snprintf(lo, sizeof(lo), "%" PRIu64, k->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, k->max);
		if (r == -1) {
			seterr(why, whylen, "expected a whole number");
			return -1;
		}
		break;
	}
	if (r == -2 || n < k->min || n > k->max) {
		seterr(why, whylen, "must be between %s and %s", lo, hi);
		return -1;
	}
	*(uint64_t *)dst = n;
	return 0;
}

static int
set_rate(const struct key *k, void *dst, const char *v, char *why,
    size_t whylen)
{
	struct rate	rate;
	int		r;

	if ((r = parse_rate(v, &rate)) == -1) {
		seterr(why, whylen, "expected N/s or N/min");
		return -1;
	}
	if (r == -2 || rate.n < k->min || rate.n > k->max) {
		seterr(why, whylen, "N must be between %" PRIu64 " and %"
		    PRIu64, k->min, k->max);
		return -1;
	}
	*(struct rate *)dst = rate;
	return 0;
}

static int
set_bool(void *dst, const char *v, char *why, size_t whylen)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*(int *)dst = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*(int *)dst = 0;
			return 0;
		}
	}
	seterr(why, whylen, "expected on or off");
	return -1;
}

static int
set_enum(const struct key *k, void *dst, const char *v, char *why,
    size_t whylen)
{
	size_t	i, n;
	int	len;

	for (i = 0; k->words[i] != NULL; i++) {
		if (strcasecmp(v, k->words[i]) == 0) {
			*(int *)dst = (int)i;
			return 0;
		}
	}
	/* "expected error, warn, info or debug" */
	len = snprintf(why, whylen, "expected");
	for (n = i, i = 0; i < n && len >= 0 && (size_t)len < whylen; i++)
		len += snprintf(why + len, whylen - (size_t)len, "%s%s",
		    i == 0 ? " " : i + 1 == n ? " or " : ", ", k->words[i]);
	return -1;
}

/* Characters allowed in a URL path besides '/' (RFC 3986 pchar). */
static int
pathchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~%!$&'()*+,;=:@", c));
}

static int
norm_prefix(const char *v, char **out, char *why, size_t whylen)
{
	size_t	i, n;

	n = strlen(v);
	if (n > 0 && v[0] != '/') {
		seterr(why, whylen, "must start with '/', as in /api");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i] != '/' && !pathchar((unsigned char)v[i])) {
			seterr(why, whylen, "expected a path such as /api");
			return -1;
		}
	}
	while (n > 0 && v[n - 1] == '/')
		n--;
	*out = xstrndup(v, n);
	return 0;
}

static int
norm_hdrname(const char *v, char **out, char *why, size_t whylen)
{
	char	buf[SHOW_MAX];

	if (!hdr_name_valid(v, strlen(v))) {
		seterr(why, whylen, "invalid header name '%s'",
		    show(v, buf, sizeof(buf)));
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

/* ca_file: a readable file, or empty for the system store. */
static int
norm_path(const char *v, char **out, char *why, size_t whylen)
{
	char		buf[SHOW_MAX];
	struct stat	st;

	if (*v == '\0') {
		*out = NULL;
		return 0;
	}
	if (access(v, R_OK) == -1 || stat(v, &st) == -1) {
		seterr(why, whylen, "cannot read '%s': %s",
		    show(v, buf, sizeof(buf)), strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		seterr(why, whylen, "'%s' is a directory",
		    show(v, buf, sizeof(buf)));
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

/* A port: digits, no sign, lo..65535. */
static int
parse_port(const char *s, size_t n, int lo, int *port)
{
	size_t	i;
	long	p = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		p = p * 10 + (s[i] - '0');
		if (p > 65535)
			return -1;
	}
	if (p < lo)
		return -1;
	*port = (int)p;
	return 0;
}

/*
 * upstream, login_upstream: "http[s]://host[:port][/base]", normalised to
 * a lower-case scheme and host, no default port dropped, no trailing '/'.
 */
static int
norm_url(const char *v, char **out, char *why, size_t whylen)
{
	const char	*scheme, *host, *hend, *path, *s;
	size_t		 i, plen;
	int		 port = -1;
	char		*url, *p;

	if (strncasecmp(v, "https://", 8) == 0) {
		scheme = "https";
		s = v + 8;
	} else if (strncasecmp(v, "http://", 7) == 0) {
		scheme = "http";
		s = v + 7;
	} else {
		seterr(why, whylen, "expected an http:// or https:// URL");
		return -1;
	}
	if (strpbrk(s, "?#") != NULL) {
		seterr(why, whylen, "must not have a query or fragment");
		return -1;
	}
	path = s + strcspn(s, "/");
	if (memchr(s, '@', (size_t)(path - s)) != NULL) {
		seterr(why, whylen, "must not contain user information");
		return -1;
	}
	host = s;
	if (*host == '[') {
		/* An IPv6 literal, kept with its brackets. */
		hend = memchr(host, ']', (size_t)(path - host));
		if (hend == NULL || hend == host + 1) {
			seterr(why, whylen, "bad IPv6 address in URL");
			return -1;
		}
		for (s = host + 1; s < hend; s++) {
			if (!isxdigit((unsigned char)*s) && *s != ':' &&
			    *s != '.') {
				seterr(why, whylen, "bad IPv6 address in URL");
				return -1;
			}
		}
		hend++;
	} else {
		for (hend = host; hend < path && *hend != ':'; hend++) {
			if (!isalnum((unsigned char)*hend) &&
			    strchr("-._", *hend) == NULL) {
				seterr(why, whylen, "bad host name in URL");
				return -1;
			}
		}
		if (hend == host) {
			seterr(why, whylen, "missing host in URL");
			return -1;
		}
	}
	if (hend < path) {
		if (*hend != ':' || parse_port(hend + 1,
		    (size_t)(path - hend - 1), 1, &port) == -1) {
			seterr(why, whylen,
			    "port must be between 1 and 65535");
			return -1;
		}
	}
	plen = strlen(path);
	for (i = 0; i < plen; i++) {
		if (path[i] != '/' && !pathchar((unsigned char)path[i])) {
			seterr(why, whylen, "bad character in URL path");
			return -1;
		}
	}
	while (plen > 0 && path[plen - 1] == '/')
		plen--;

	if (port == -1)
		xasprintf(&url, "%s://%.*s%.*s", scheme, (int)(hend - host),
		    host, (int)plen, path);
	else
		xasprintf(&url, "%s://%.*s:%d%.*s", scheme,
		    (int)(hend - host), host, port, (int)plen, path);
	for (p = url + strlen(scheme) + 3, i = 0; i < (size_t)(hend - host);
	    i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	*out = url;
	return 0;
}

/*
 * listen: "ADDR:PORT" or "[V6ADDR]:PORT", numeric, port 0 (any) allowed;
 * "localhost" means 127.0.0.1 and "*" means 0.0.0.0.
 */
static int
parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sslen,
    char *why, size_t whylen)
{
	struct addrinfo	 hints, *res = NULL;
	const char	*colon, *hs, *he;
	char		 host[256], portstr[8], buf[SHOW_MAX];
	int		 port, r, v6 = 0;

	if (*v == '[') {
		hs = v + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto syntax;
		colon = he + 1;
		v6 = 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL)
			goto syntax;
		hs = v;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL) {
			seterr(why, whylen, "an IPv6 address needs brackets, "
			    "as in [::1]:8080");
			return -1;
		}
	}
	if (parse_port(colon + 1, strlen(colon + 1), 0, &port) == -1) {
		seterr(why, whylen, "port must be between 0 and 65535");
		return -1;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host))
		goto syntax;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (!v6 && strcasecmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (!v6 && strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	snprintf(portstr, sizeof(portstr), "%d", port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0 ||
	    res->ai_addrlen > sizeof(*ss)) {
		seterr(why, whylen, "'%s' is not a numeric %s address",
		    show(host, buf, sizeof(buf)), v6 ? "IPv6" : "IPv4");
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;

syntax:
	seterr(why, whylen, "expected ADDR:PORT or [ADDR]:PORT");
	return -1;
}

static int
set_listen(struct config *cfg, const char *v, char *why, size_t whylen)
{
	if (parse_listen(v, &cfg->listen, &cfg->listen_len, why, whylen) == -1)
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
	if (parse_listen(v, &cfg->admin_listen, &cfg->admin_listen_len, why,
	    whylen) == -1) {
		if (strncmp(why, "expected", 8) == 0)
			seterr(why, whylen, "expected ADDR:PORT, [ADDR]:PORT "
			    "or off");
		return -1;
	}
	free(cfg->admin_listen_str);
	cfg->admin_listen_str = xstrdup(v);
	return 0;
}

/* "us_east_1" and "US-East-1" both match "us-east-1". */
static int
aws_match(const char *name, const char *aws)
{
	for (; *name != '\0' && *aws != '\0'; name++, aws++) {
		if ((*name == '_' ? '-' : tolower((unsigned char)*name)) !=
		    *aws)
			return 0;
	}
	return *name == '\0' && *aws == '\0';
}

int
config_region_urls(const char *region, char **api, char **login)
{
	size_t	i;

	if (region == NULL)
		return -1;
	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		if (strcasecmp(region, regions[i].env) == 0 ||
		    (regions[i].aws != NULL &&
		    aws_match(region, regions[i].aws)))
			break;
	}
	if (i == sizeof(regions) / sizeof(regions[0]))
		return -1;
	if (api != NULL)
		xasprintf(api, "https://api.%s", regions[i].env);
	if (login != NULL)
		xasprintf(login, "https://login.%s", regions[i].env);
	return 0;
}

static int
set_region(struct config *cfg, const char *v, char *why, size_t whylen)
{
	char	*api, *login, buf[SHOW_MAX];
	size_t	 i;
	int	 len;

	if (config_region_urls(v, &api, &login) == -1) {
		len = snprintf(why, whylen, "unknown region '%s' (known:",
		    show(v, buf, sizeof(buf)));
		for (i = 0; i < sizeof(regions) / sizeof(regions[0]) &&
		    len >= 0 && (size_t)len < whylen; i++)
			len += snprintf(why + len, whylen - (size_t)len,
			    "%s %s", i == 0 ? "" : ",", regions[i].env);
		if (len >= 0 && (size_t)len < whylen)
			snprintf(why + len, whylen - (size_t)len, ")");
		return -1;
	}
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
	const char	*colon, *val;
	char		 buf[SHOW_MAX], *name;
	size_t		 nlen, vlen;

	if ((colon = strchr(v, ':')) == NULL) {
		seterr(why, whylen, "expected 'Name: value'");
		return -1;
	}
	nlen = (size_t)(colon - v);
	while (nlen > 0 && (v[nlen - 1] == ' ' || v[nlen - 1] == '\t'))
		nlen--;
	if (nlen == 0 || !hdr_name_valid(v, nlen)) {
		name = xstrndup(v, nlen);
		seterr(why, whylen, "invalid header name '%s'",
		    show(name, buf, sizeof(buf)));
		free(name);
		return -1;
	}
	val = colon + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	vlen = strlen(val);
	while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	if (!hdr_value_valid(val, vlen)) {
		seterr(why, whylen, "header value must not contain CR or LF");
		return -1;
	}
	hdrs_addn(&cfg->add_headers, v, nlen, val, vlen);
	return 0;
}

/* tenant_key = auth | header:NAME */
static int
set_tenant_key(struct config *cfg, const char *v, char *why, size_t whylen)
{
	char	buf[SHOW_MAX];

	if (strcasecmp(v, "auth") == 0) {
		cfg->tenant_key = TENANT_KEY_AUTH;
		free(cfg->tenant_header);
		cfg->tenant_header = NULL;
		return 0;
	}
	if (strncasecmp(v, "header:", 7) != 0 || v[7] == '\0') {
		seterr(why, whylen, "expected auth or header:NAME");
		return -1;
	}
	v += 7;
	if (!hdr_name_valid(v, strlen(v))) {
		seterr(why, whylen, "invalid header name '%s'",
		    show(v, buf, sizeof(buf)));
		return -1;
	}
	cfg->tenant_key = TENANT_KEY_HEADER;
	free(cfg->tenant_header);
	cfg->tenant_header = xstrdup(v);
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
			if (norm_url(v, &s, why, whylen) == -1)
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
		return set_bool(dst, v, why, whylen);
	case K_SIZE:
	case K_DURATION:
	case K_COUNT:
		return set_number(k, dst, v, why, whylen);
	case K_RATE:
		return set_rate(k, dst, v, why, whylen);
	case K_ENUM:
		return set_enum(k, dst, v, why, whylen);
	case K_LISTEN:
		return set_listen(cfg, v, why, whylen);
	case K_SPECIAL:
		return k->set(cfg, v, why, whylen);
	}
	seterr(why, whylen, "internal error: bad key type");
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
		seterr(err, errlen, "%s: %s: %s", where, k->name, why);
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
	struct tenant_conf	*tc, *next;

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
	for (tc = cfg->tenants; tc != NULL; tc = next) {
		next = tc->next;
		free(tc->name);
		free((struct tenant_sect *)tc);
	}
	free(cfg);
}

int
config_set(struct config *cfg, const char *where, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct key	*k;
	char			 buf[SHOW_MAX];

	if ((k = find_key(key)) == NULL) {
		seterr(err, errlen, "%s: %s: unknown key", where,
		    show(key, buf, sizeof(buf)));
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
	struct tenant_conf	**tail;
	char			*close, *kind, *name, *after, buf[SHOW_MAX];

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
		seterr(err, errlen, "%s:%u: unknown section '%s'", file, lineno,
		    show(kind, buf, sizeof(buf)));
		return -1;
	}
	if (*name == '\0')
		goto syntax;
	if (!tenant_name_valid(name, strlen(name))) {
		seterr(err, errlen, "%s:%u: invalid tenant name '%s' "
		    "(1 to %d of A-Z a-z 0-9 . _ : @ -)", file, lineno,
		    show(name, buf, sizeof(buf)), TENANT_NAME_MAX);
		return -1;
	}
	for (tail = &cfg->tenants; *tail != NULL; tail = &(*tail)->next) {
		if (strcmp((*tail)->name, name) == 0) {
			seterr(err, errlen, "%s:%u: duplicate section "
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
	seterr(err, errlen, "%s:%u: expected '[tenant NAME]'", file, lineno);
	return -1;
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
	char			*s, *eq, *key, *v, *q, *where = NULL;
	char			 why[WHY_MAX], buf[SHOW_MAX];
	int			 rc = -1;

	s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[')
		return parse_section(cfg, file, lineno, s, sectp, err, errlen);
	if ((eq = strchr(s, '=')) == NULL) {
		seterr(err, errlen, "%s:%u: expected 'key = value'", file,
		    lineno);
		return -1;
	}
	*eq = '\0';
	key = trim(s);
	if (*key == '\0') {
		seterr(err, errlen, "%s:%u: expected 'key = value'", file,
		    lineno);
		return -1;
	}
	if ((k = find_key(key)) == NULL) {
		seterr(err, errlen, "%s:%u: %s: unknown key", file, lineno,
		    show(key, buf, sizeof(buf)));
		return -1;
	}

	v = ltrim(eq + 1);
	if (*v == '"') {
		/* "quoted": kept as it is, '#' and spaces included. */
		if ((q = strchr(v + 1, '"')) == NULL) {
			seterr(err, errlen, "%s:%u: %s: missing closing quote",
			    file, lineno, k->name);
			return -1;
		}
		*q++ = '\0';
		v++;
		q = ltrim(q);
		if (*q != '\0' && *q != '#') {
			seterr(err, errlen, "%s:%u: %s: unexpected text after "
			    "closing quote", file, lineno, k->name);
			return -1;
		}
	} else {
		/* A '#' at the start or after a blank begins a comment. */
		for (q = v; *q != '\0'; q++) {
			if (*q == '#' && (q == v || q[-1] == ' ' ||
			    q[-1] == '\t')) {
				*q = '\0';
				break;
			}
		}
		v = trim(v);
	}

	if (*sectp != NULL) {
		if (!(k->flags & KF_LIMIT)) {
			seterr(err, errlen, "%s:%u: %s: not allowed in a "
			    "[tenant] section", file, lineno, k->name);
			return -1;
		}
		if (apply_key(cfg, k, &(*sectp)->tc.limits, v, why,
		    sizeof(why)) == -1) {
			seterr(err, errlen, "%s:%u: %s: %s", file, lineno,
			    k->name, why);
			return -1;
		}
		(*sectp)->set |= 1ULL << (k - keys);
		return 0;
	}

	xasprintf(&where, "%s:%u", file, lineno);
	if (set_key(cfg, where, k, v, err, errlen) == -1)
		goto out;
	rc = 0;
out:
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
		seterr(err, errlen, "%s: cannot open: %s", path,
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
		seterr(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		seterr(err, errlen, "%s: not a text file (NUL byte)", path);
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
	struct tenant_conf	*tc;
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
		seterr(err, errlen, "api_prefix: must differ from login_prefix "
		    "(both are '%s')", cfg->api_prefix);
		return -1;
	}
	if (cfg->tenant_key == TENANT_KEY_HEADER && (cfg->tenant_header ==
	    NULL || cfg->tenant_header[0] == '\0')) {
		seterr(err, errlen, "tenant_key: header: needs a header name");
		return -1;
	}
	if (cfg->max_wait_ms > cfg->max_wait_cap_ms) {
		seterr(err, errlen, "max_wait: %s is more than max_wait_cap "
		    "(%s)", fmt_duration(cfg->max_wait_ms, a, sizeof(a)),
		    fmt_duration(cfg->max_wait_cap_ms, b, sizeof(b)));
		return -1;
	}
	if (ntenants > cfg->max_tenants) {
		seterr(err, errlen, "max_tenants: %" PRIu64 " [tenant] "
		    "sections but max_tenants is %" PRIu64, ntenants,
		    cfg->max_tenants);
		return -1;
	}
	return 0;
}

const struct limits *
config_limits(const struct config *cfg, const char *name)
{
	const struct tenant_conf	*tc;

	if (name != NULL)
		for (tc = cfg->tenants; tc != NULL; tc = tc->next)
			if (strcmp(tc->name, name) == 0)
				return &tc->limits;
	return &cfg->limits;
}

/* getenv(3) with the type config_env() wants. */
static const char *
env_get(const char *name)
{
	return getenv(name);
}

int
config_load(struct config **out, enum config_action *action, int argc,
    char *const argv[], char *err, size_t errlen)
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
	struct config	*cfg = NULL;
	const char	*file = NULL, *listen = NULL, *upstream = NULL;
	const char	*login = NULL, *region = NULL, *opt;
	char		 buf[SHOW_MAX];
	int		 ch, verbose = 0, help = 0, version = 0, check = 0;

	*out = NULL;
	*action = CONFIG_RUN;

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
			file = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'u':
			upstream = optarg;
			break;
		case 'L':
			login = optarg;
			break;
		case 'r':
			region = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			version = 1;
			break;
		case 'h':
			help = 1;
			break;
		case ':':
			opt = argv[optind - 1];
			if (strncmp(opt, "--", 2) == 0)
				seterr(err, errlen, "option '%.*s' needs an "
				    "argument (try 'weir -h')",
				    (int)strcspn(opt, "="), opt);
			else
				seterr(err, errlen, "option '-%c' needs an "
				    "argument (try 'weir -h')", optopt);
			return -1;
		default:
			if (optopt != 0)
				seterr(err, errlen, "unknown option '-%c' "
				    "(try 'weir -h')", isprint(optopt) ?
				    optopt : '?');
			else
				seterr(err, errlen, "unknown option '%s' "
				    "(try 'weir -h')",
				    show(argv[optind - 1], buf, sizeof(buf)));
			return -1;
		}
	}
	if (optind < argc) {
		seterr(err, errlen, "unexpected argument '%s' (try 'weir -h')",
		    show(argv[optind], buf, sizeof(buf)));
		return -1;
	}
	if (help) {
		*action = CONFIG_HELP;
		return 0;
	}
	if (version) {
		*action = CONFIG_VERSION;
		return 0;
	}

	cfg = config_new();
	if (file == NULL && (file = getenv("WEIR_CONFIG")) != NULL &&
	    *file == '\0')
		file = NULL;
	if (file != NULL && config_file(cfg, file, err, errlen) == -1)
		goto fail;
	if (config_env(cfg, env_get, err, errlen) == -1)
		goto fail;
	/* region first: explicit upstreams at the same level win. */
	if (region != NULL && config_set(cfg, "--region", "region", region,
	    err, errlen) == -1)
		goto fail;
	if (listen != NULL && config_set(cfg, "--listen", "listen", listen,
	    err, errlen) == -1)
		goto fail;
	if (upstream != NULL && config_set(cfg, "--upstream", "upstream",
	    upstream, err, errlen) == -1)
		goto fail;
	if (login != NULL && config_set(cfg, "--login-upstream",
	    "login_upstream", login, err, errlen) == -1)
		goto fail;
	if (verbose > 0 && config_set(cfg, "--verbose", "log_level", "debug",
	    err, errlen) == -1)
		goto fail;
	if (config_finish(cfg, err, errlen) == -1)
		goto fail;

	if (check)
		*action = CONFIG_CHECK;
	*out = cfg;
	return 0;

fail:
	config_free(cfg);
	return -1;
}

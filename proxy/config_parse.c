/*
 * config_parse.c - one configuration value to one typed value; see
 * config_parse.h.
 *
 * Numbers, rates, booleans, words from a list, listen addresses, upstream
 * URLs, path prefixes, header names and fields, file paths and regions.
 * Each parser says why a value is wrong in words a person can act on; the
 * ranges it checks against are handed in by config.c's key table.
 *
 * Touches memory only, except cfgp_path(), which asks the file system
 * whether a file can be read, and cfgp_listen(), which asks getaddrinfo()
 * for a numeric address (never a name lookup).
 */
#include <ctype.h>
#include <errno.h>
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
#include "config_parse.h"
#include "hdr.h"
#include "xmalloc.h"

/*
 * A unit word after a number and what it multiplies the number by.  The
 * lists run from the largest unit down, so the first one that divides a
 * value is the one to show it in ("1m", not "1024k").
 */
struct unit {
	const char	*word;
	uint64_t	 mult;
};

static const struct unit count_units[] = {
	{ "", 1 }, { NULL, 0 }
};
static const struct unit size_units[] = {
	{ "g", CFGP_GiB }, { "m", CFGP_MiB }, { "k", CFGP_KiB }, { "", 1 },
	{ NULL, 0 }
};
static const struct unit duration_units[] = {	/* a bare number: s */
	{ "h", CFGP_HOUR }, { "m", CFGP_MINUTE }, { "s", CFGP_SEC },
	{ "ms", 1 }, { "", CFGP_SEC }, { NULL, 0 }
};
static const struct unit rate_units[] = {	/* after the '/' */
	{ "h", CFGP_HOUR }, { "hour", CFGP_HOUR },
	{ "m", CFGP_MINUTE }, { "min", CFGP_MINUTE }, { "minute", CFGP_MINUTE },
	{ "s", CFGP_SEC }, { "sec", CFGP_SEC }, { "second", CFGP_SEC },
	{ NULL, 0 }
};

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
#define NREGIONS	(sizeof(regions) / sizeof(regions[0]))

void
cfgp_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
cfgp_show(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/*
 * Numbers.  parse_num() and the parsers built on it return 0, -1 for
 * garbage and -2 for a number too large for 64 bits, so a too-large value
 * can be reported as out of range.
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

/* The unit spelled s (any case), or NULL. */
static const struct unit *
find_unit(const struct unit *units, const char *s)
{
	for (; units->word != NULL; units++)
		if (strcasecmp(s, units->word) == 0)
			return units;
	return NULL;
}

/* A number and then one of units, nothing else: the product. */
static int
parse_scaled(const struct unit *units, const char *s, uint64_t *out)
{
	const struct unit	*u;
	uint64_t		 n;
	int			 r;

	if ((r = parse_num(&s, &n)) != 0)
		return r;
	if ((u = find_unit(units, s)) == NULL)
		return -1;
	if (n > UINT64_MAX / u->mult)
		return -2;
	*out = n * u->mult;
	return 0;
}

/* v in the largest of units that divides it; 0 and the rest bare. */
static const char *
fmt_units(const struct unit *units, uint64_t v, char *buf, size_t len)
{
	for (; units->word != NULL; units++) {
		if (v != 0 && v % units->mult == 0)
			break;
	}
	if (units->word == NULL)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%s", v / units->mult,
		    units->word);
	return buf;
}

const char *
cfgp_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	return fmt_units(duration_units, ms, buf, len);
}

/* A number in units within [min, max]; expected says what garbage lacks. */
static int
parse_number(const struct unit *units, const char *expected, const char *v,
    uint64_t min, uint64_t max, uint64_t *out, char *why, size_t whylen)
{
	char		lo[32], hi[32];
	uint64_t	n = 0;
	int		r;

	if ((r = parse_scaled(units, v, &n)) == -1) {
		cfgp_seterr(why, whylen, "%s", expected);
		return -1;
	}
	if (r == -2 || n < min || n > max) {
		cfgp_seterr(why, whylen, "must be between %s and %s",
		    fmt_units(units, min, lo, sizeof(lo)),
		    fmt_units(units, max, hi, sizeof(hi)));
		return -1;
	}
	*out = n;
	return 0;
}

int
cfgp_size(const char *v, uint64_t min, uint64_t max, uint64_t *bytes,
    char *why, size_t whylen)
{
	return parse_number(size_units,
	    "expected a size such as 512, 64k, 16m or 1g", v, min, max, bytes,
	    why, whylen);
}

int
cfgp_duration(const char *v, uint64_t min, uint64_t max, uint64_t *ms,
    char *why, size_t whylen)
{
	return parse_number(duration_units,
	    "expected a duration such as 500ms, 30s, 5m or 1h", v, min, max,
	    ms, why, whylen);
}

int
cfgp_count(const char *v, uint64_t min, uint64_t max, uint64_t *n,
    char *why, size_t whylen)
{
	return parse_number(count_units, "expected a whole number", v, min,
	    max, n, why, whylen);
}

int
cfgp_rate(const char *v, uint64_t min, uint64_t max, struct rate *rate,
    char *why, size_t whylen)
{
	const struct unit	*u = NULL;
	const char		*s = v;
	uint64_t		 n = 0;
	int			 r;

	if ((r = parse_num(&s, &n)) == 0 &&
	    (*s++ != '/' || (u = find_unit(rate_units, s)) == NULL))
		r = -1;
	if (r == -1) {
		cfgp_seterr(why, whylen, "expected N/s or N/min");
		return -1;
	}
	if (r == -2 || n < min || n > max) {
		cfgp_seterr(why, whylen, "N must be between %" PRIu64 " and %"
		    PRIu64, min, max);
		return -1;
	}
	rate->n = n;
	rate->per_ms = u->mult;
	return 0;
}

int
cfgp_bool(const char *v, int *on, char *why, size_t whylen)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*on = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*on = 0;
			return 0;
		}
	}
	cfgp_seterr(why, whylen, "expected on or off");
	return -1;
}

int
cfgp_enum(const char *v, const char *const *words, int *index, char *why,
    size_t whylen)
{
	size_t	i, n;
	int	len;

	for (i = 0; words[i] != NULL; i++) {
		if (strcasecmp(v, words[i]) == 0) {
			*index = (int)i;
			return 0;
		}
	}
	/* "expected error, warn, info or debug" */
	len = snprintf(why, whylen, "expected");
	for (n = i, i = 0; i < n && len >= 0 && (size_t)len < whylen; i++)
		len += snprintf(why + len, whylen - (size_t)len, "%s%s",
		    i == 0 ? " " : i + 1 == n ? " or " : ", ", words[i]);
	return -1;
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

int
cfgp_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sslen,
    char *why, size_t whylen)
{
	struct addrinfo	 hints, *res = NULL;
	const char	*colon, *hs, *he;
	char		 host[256], portstr[8], buf[CFGP_SHOW_MAX];
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
			cfgp_seterr(why, whylen, "an IPv6 address needs "
			    "brackets, as in [::1]:8080");
			return -1;
		}
	}
	if (parse_port(colon + 1, strlen(colon + 1), 0, &port) == -1) {
		cfgp_seterr(why, whylen, "port must be between 0 and 65535");
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
		cfgp_seterr(why, whylen, "'%s' is not a numeric %s address",
		    cfgp_show(host, buf, sizeof(buf)), v6 ? "IPv6" : "IPv4");
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
	cfgp_seterr(why, whylen, "expected ADDR:PORT or [ADDR]:PORT");
	return -1;
}

/*
 * A URL path or prefix: '/' and RFC 3986 pchars only.  Returns 0 and its
 * length without trailing '/' in *len, or -1.
 */
static int
path_len(const char *p, size_t *len)
{
	size_t	i, n;

	n = strlen(p);
	for (i = 0; i < n; i++) {
		if (p[i] != '/' && !isalnum((unsigned char)p[i]) &&
		    strchr("-._~%!$&'()*+,;=:@", p[i]) == NULL)
			return -1;
	}
	while (n > 0 && p[n - 1] == '/')
		n--;
	*len = n;
	return 0;
}

/*
 * The host part of a URL, which ends where path starts: an IPv6 literal
 * in brackets, or a name.  Sets *hend past the host (at ':' or path).
 */
static int
url_host(const char *host, const char *path, const char **hend, char *why,
    size_t whylen)
{
	const char	*s, *e;

	if (*host != '[') {
		for (e = host; e < path && *e != ':'; e++) {
			if (!isalnum((unsigned char)*e) &&
			    strchr("-._", *e) == NULL) {
				cfgp_seterr(why, whylen,
				    "bad host name in URL");
				return -1;
			}
		}
		if (e == host) {
			cfgp_seterr(why, whylen, "missing host in URL");
			return -1;
		}
		*hend = e;
		return 0;
	}
	/* An IPv6 literal, kept with its brackets. */
	e = memchr(host, ']', (size_t)(path - host));
	if (e == NULL || e == host + 1)
		goto bad6;
	for (s = host + 1; s < e; s++) {
		if (!isxdigit((unsigned char)*s) && *s != ':' && *s != '.')
			goto bad6;
	}
	*hend = e + 1;
	return 0;

bad6:
	cfgp_seterr(why, whylen, "bad IPv6 address in URL");
	return -1;
}

/* "scheme://" + host in lower case + ":port" if one was given + path. */
static char *
url_join(const char *scheme, const char *host, size_t hlen, int port,
    const char *path, size_t plen)
{
	char	*url, *p;
	size_t	 i;

	if (port == -1)
		xasprintf(&url, "%s://%.*s%.*s", scheme, (int)hlen, host,
		    (int)plen, path);
	else
		xasprintf(&url, "%s://%.*s:%d%.*s", scheme, (int)hlen, host,
		    port, (int)plen, path);
	for (p = url + strlen(scheme) + 3, i = 0; i < hlen; i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	return url;
}

int
cfgp_url(const char *v, char **out, char *why, size_t whylen)
{
	const char	*scheme, *host, *hend, *path;
	size_t		 plen;
	int		 port = -1;

	if (strncasecmp(v, "https://", 8) == 0) {
		scheme = "https";
		host = v + 8;
	} else if (strncasecmp(v, "http://", 7) == 0) {
		scheme = "http";
		host = v + 7;
	} else {
		cfgp_seterr(why, whylen, "expected an http:// or https:// URL");
		return -1;
	}
	if (strpbrk(host, "?#") != NULL) {
		cfgp_seterr(why, whylen, "must not have a query or fragment");
		return -1;
	}
	path = host + strcspn(host, "/");
	if (memchr(host, '@', (size_t)(path - host)) != NULL) {
		cfgp_seterr(why, whylen, "must not contain user information");
		return -1;
	}
	if (url_host(host, path, &hend, why, whylen) == -1)
		return -1;
	if (hend < path && (*hend != ':' || parse_port(hend + 1,
	    (size_t)(path - hend - 1), 1, &port) == -1)) {
		cfgp_seterr(why, whylen, "port must be between 1 and 65535");
		return -1;
	}
	if (path_len(path, &plen) == -1) {
		cfgp_seterr(why, whylen, "bad character in URL path");
		return -1;
	}
	*out = url_join(scheme, host, (size_t)(hend - host), port, path,
	    plen);
	return 0;
}

int
cfgp_prefix(const char *v, char **out, char *why, size_t whylen)
{
	size_t	n;

	if (*v != '\0' && *v != '/') {
		cfgp_seterr(why, whylen, "must start with '/', as in /api");
		return -1;
	}
	if (path_len(v, &n) == -1) {
		cfgp_seterr(why, whylen, "expected a path such as /api");
		return -1;
	}
	*out = xstrndup(v, n);
	return 0;
}

int
cfgp_hdrname(const char *v, char **out, char *why, size_t whylen)
{
	char	buf[CFGP_SHOW_MAX];

	if (!hdr_name_valid(v, strlen(v))) {
		cfgp_seterr(why, whylen, "invalid header name '%s'",
		    cfgp_show(v, buf, sizeof(buf)));
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

int
cfgp_path(const char *v, char **out, char *why, size_t whylen)
{
	char		buf[CFGP_SHOW_MAX];
	struct stat	st;

	if (*v == '\0') {
		*out = NULL;
		return 0;
	}
	if (access(v, R_OK) == -1 || stat(v, &st) == -1) {
		cfgp_seterr(why, whylen, "cannot read '%s': %s",
		    cfgp_show(v, buf, sizeof(buf)), strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		cfgp_seterr(why, whylen, "'%s' is a directory",
		    cfgp_show(v, buf, sizeof(buf)));
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

int
cfgp_header(const char *v, size_t *nlen, const char **value, size_t *vlen,
    char *why, size_t whylen)
{
	const char	*colon, *val;
	char		 buf[CFGP_SHOW_MAX], *name;
	size_t		 nl, vl;

	if ((colon = strchr(v, ':')) == NULL) {
		cfgp_seterr(why, whylen, "expected 'Name: value'");
		return -1;
	}
	nl = (size_t)(colon - v);
	while (nl > 0 && (v[nl - 1] == ' ' || v[nl - 1] == '\t'))
		nl--;
	if (nl == 0 || !hdr_name_valid(v, nl)) {
		name = xstrndup(v, nl);
		cfgp_seterr(why, whylen, "invalid header name '%s'",
		    cfgp_show(name, buf, sizeof(buf)));
		free(name);
		return -1;
	}
	val = colon + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	vl = strlen(val);
	while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
		vl--;
	if (!hdr_value_valid(val, vl)) {
		cfgp_seterr(why, whylen,
		    "header value must not contain CR or LF");
		return -1;
	}
	*nlen = nl;
	*value = val;
	*vlen = vl;
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

/* "unknown region 'mars' (known: mypurecloud.com, ...)" */
static void
unknown_region(const char *v, char *why, size_t whylen)
{
	char	buf[CFGP_SHOW_MAX];
	size_t	i;
	int	len;

	len = snprintf(why, whylen, "unknown region '%s' (known:",
	    cfgp_show(v, buf, sizeof(buf)));
	for (i = 0; i < NREGIONS && len >= 0 && (size_t)len < whylen; i++)
		len += snprintf(why + len, whylen - (size_t)len, "%s %s",
		    i == 0 ? "" : ",", regions[i].env);
	if (len >= 0 && (size_t)len < whylen)
		snprintf(why + len, whylen - (size_t)len, ")");
}

int
cfgp_region(const char *v, char **api, char **login, char *why,
    size_t whylen)
{
	size_t	i;

	for (i = 0; i < NREGIONS; i++) {
		if (strcasecmp(v, regions[i].env) == 0 ||
		    (regions[i].aws != NULL && aws_match(v, regions[i].aws)))
			break;
	}
	if (i == NREGIONS) {
		unknown_region(v, why, whylen);
		return -1;
	}
	xasprintf(api, "https://api.%s", regions[i].env);
	xasprintf(login, "https://login.%s", regions[i].env);
	return 0;
}

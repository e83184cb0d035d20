/*
 * config_parse.h - turn one configuration value into a typed value.
 *
 * Each parser takes one value as text, as it came from a file, a WEIR_*
 * variable or a flag.  It returns 0 with the result filled in, or -1 with
 * the reason in why ("expected on or off") and the result untouched.
 * config.c puts the place and the key in front of the reason
 * ("weir.conf:12: insecure: expected on or off"), so a reason never names
 * either.  why may be NULL with whylen 0 when the reason is not wanted.
 *
 * Nothing here knows the key table, the sources or the other keys: that
 * is config.c.  The only outside thing a parser touches is the file
 * system (cfgp_path checks that a file can be read).
 */
#ifndef WEIR_CONFIG_PARSE_H
#define WEIR_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct rate;

/* Units of sizes (bytes) and durations (milliseconds). */
#define CFGP_KiB	UINT64_C(1024)
#define CFGP_MiB	(1024 * CFGP_KiB)
#define CFGP_GiB	(1024 * CFGP_MiB)
#define CFGP_SEC	UINT64_C(1000)
#define CFGP_MINUTE	(60 * CFGP_SEC)
#define CFGP_HOUR	(60 * CFGP_MINUTE)

/* How much of a value a reason quotes back (see cfgp_show). */
#define CFGP_SHOW_MAX	80

/*
 * Numbers within [min, max]: a size in bytes ("512", "64k", "16m", "1g"),
 * a duration in milliseconds ("500ms", "30", "30s", "5m", "1h") or a
 * plain whole number.  Units take either case.  A number too large for
 * 64 bits is out of range, like any other.
 */
int	cfgp_size(const char *v, uint64_t min, uint64_t max, uint64_t *bytes,
	    char *why, size_t whylen);
int	cfgp_duration(const char *v, uint64_t min, uint64_t max, uint64_t *ms,
	    char *why, size_t whylen);
int	cfgp_count(const char *v, uint64_t min, uint64_t max, uint64_t *n,
	    char *why, size_t whylen);

/* "N/s", "N/min", "N/hour" and their other spellings; min and max bound N. */
int	cfgp_rate(const char *v, uint64_t min, uint64_t max, struct rate *,
	    char *why, size_t whylen);

/* on, yes, true, 1 -> 1; off, no, false, 0 -> 0; any case. */
int	cfgp_bool(const char *v, int *on, char *why, size_t whylen);

/* The index of v in words (NULL-terminated), any case. */
int	cfgp_enum(const char *v, const char *const *words, int *index,
	    char *why, size_t whylen);

/*
 * "ADDR:PORT" or "[V6ADDR]:PORT", numeric, port 0 (any) allowed;
 * "localhost" means 127.0.0.1 and "*" means 0.0.0.0.  Every reason for
 * a value of the wrong shape starts with "expected".
 */
int	cfgp_listen(const char *v, struct sockaddr_storage *, socklen_t *,
	    char *why, size_t whylen);

/*
 * The parsers below that return a string return a new one in *out, which
 * the caller frees.
 *
 * cfgp_url: "http[s]://host[:port][/base]", normalised to a lower-case
 * scheme and host and no trailing '/'; a port given is kept.
 * cfgp_prefix: "" or a path such as "/api", without its trailing '/'.
 * cfgp_hdrname: an HTTP header name (RFC 9110 token), as given.
 * cfgp_path: a readable file that is not a directory; "" gives NULL.
 */
int	cfgp_url(const char *v, char **out, char *why, size_t whylen);
int	cfgp_prefix(const char *v, char **out, char *why, size_t whylen);
int	cfgp_hdrname(const char *v, char **out, char *why, size_t whylen);
int	cfgp_path(const char *v, char **out, char *why, size_t whylen);

/*
 * "Name: value": the name is the first *nlen bytes of v, the value the
 * *vlen bytes at *value (both inside v, blanks around them left out).
 */
int	cfgp_header(const char *v, size_t *nlen, const char **value,
	    size_t *vlen, char *why, size_t whylen);

/*
 * A Genesys Cloud region ("mypurecloud.ie") or its AWS name ("eu_west_1",
 * "EU-West-1"): the API and login upstream URLs, new strings in *api and
 * *login, which the caller frees.  The reason lists the known regions.
 */
int	cfgp_region(const char *v, char **api, char **login, char *why,
	    size_t whylen);

/* Fill err (if not NULL) the way snprintf would. */
void	cfgp_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * s fit to quote back in a one-line message, written into buf: control
 * characters become '?' and a long value is cut with "...".  Returns buf.
 */
const char *cfgp_show(const char *s, char *buf, size_t len);

/* 90000 -> "90s", 3600000 -> "1h": the largest unit that divides. */
const char *cfgp_fmt_duration(uint64_t ms, char *buf, size_t len);

#endif

/*
 * log.h - leveled logging to stderr, and the access log.
 *
 * Lines are JSON objects (log_format = json, the default) or plain text.
 * log_warn() appends strerror(errno), log_warnx() doesn't (httpd log.c).
 * Nothing here ever prints a header value it was not told to: callers
 * never pass an Authorization value, token or secret.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include "config.h"

struct call;

void	log_init(enum log_level, enum log_format);
int	log_enabled(enum log_level);
struct loop_time;
/* Stamp lines with the loop's clock from now on (until then, lines written
 * before the loop exists read the wall clock themselves). */
void	log_set_clock(const struct loop_time *);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Startup lines (the bound address, upstreams, limits): written at info
 * whatever log_level says, so a supervisor can always read them. */
void	log_startup(const char *, ...) __attribute__((format(printf, 1, 2)));

/* One line for an answered call; now_ms is the loop's clock. */
void	log_access(const struct call *, int client_status, size_t bytes_out,
	    uint64_t now_ms);

/*
 * Append s to the buffer as the inside of a JSON string (no quotes):
 * escapes ", \ and control characters; well-formed UTF-8 passes as it is,
 * any other byte becomes \u00XX, so the result is UTF-8 whatever s holds.
 */
struct buf;
void	json_escape(struct buf *, const char *s, size_t len);

#endif

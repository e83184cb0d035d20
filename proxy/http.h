/*
 * http.h - what a request head may hold (RFC 9110, RFC 9112), for the
 * shapes libmicrohttpd 0.9.75 lets through and weir must not forward.
 * Pure: reads only the bytes it is given.
 *
 * Each check returns NULL when the part is acceptable, or a static
 * message naming the rule it breaks (weir answers it in its 400).
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hdr.h"

/* The method: a token (RFC 9110 9.1). */
const char	*http_check_method(const char *method);

/*
 * The request target as received: no control byte, space or DEL (RFC
 * 9112 3.2), and no dot-segment in its path (http_dot_segment).
 */
const char	*http_check_target(const char *target);

/*
 * Does path (len bytes, up to the query) hold a segment "." or "..", with
 * dots also written %2e and segments also ended by %2f, '\' or %5c?  Such
 * a path could climb out of the upstream's base path or weir's prefixes
 * at whichever hop decodes or normalises it; Genesys API paths never
 * have one.  1 or 0.
 */
int		 http_dot_segment(const char *path, size_t len);

/*
 * The sign libmicrohttpd 0.9.75 leaves of a NUL byte in the request line.
 * It splits "METHOD SP target SP version" in place, each space turned
 * into a NUL, and measures the parts with strlen(), so a NUL cuts the
 * method or the target short and the rest is never seen: "G\0ET" arrives
 * as "G", "/a\0/../b" as "/a".  So the method must end right before the
 * target (with only the NUL and spaces between) and the target (target_len
 * bytes, as the URI log callback saw it) right before the version.  All
 * three must be libmicrohttpd's own pointers for one request.
 */
const char	*http_check_request_line(const char *method,
		    const char *target, size_t target_len, const char *version);

/*
 * A header field as counted bytes: the name a token (RFC 9110 5.1), the
 * value SP, HTAB, visible ASCII or obs-text only (RFC 9110 5.5: no CR,
 * LF, NUL or other control byte).
 */
const char	*http_check_field(const char *name, size_t name_size,
		    const char *value, size_t value_size);

/*
 * The sign libmicrohttpd 0.9.75 leaves of obs-fold (RFC 9112 5.2).  It
 * parses "Name: value" in place in its read buffer: the colon becomes a
 * NUL and the value starts after the spaces that follow it, so the name
 * ends just before the value.  A continuation line (one starting with SP
 * or HTAB) is appended to the NAME, in a new allocation from the same
 * pool, and the value is left as it was: "Content-Length:\r\n 44" arrives
 * as a field "Content-Length44" with an empty value, and the body it
 * framed for every other parser is read as the next request.  So a field
 * whose name does not end right before its value was folded.  name and
 * value must be the pointers libmicrohttpd handed out for one field (the
 * bytes between them are read, up to the first that is not SP or HTAB).
 */
const char	*http_check_fold(const char *name, size_t name_size,
		    const char *value);

/*
 * The sign libmicrohttpd 0.9.75 leaves of a NUL byte in a value.  It ends
 * each line in place, its CRLF (or LF) turned into NULs, and measures the
 * value with strlen(), so a NUL cuts the value short and the rest of the
 * line is never seen: "X-A: a\0b" arrives as "a".  So the line of a value
 * must end right after it: next is the name of the field on the following
 * line, or NULL after the last field (the head's empty line follows).
 * value and next must be libmicrohttpd's own pointers.
 */
const char	*http_check_line_end(const char *value, size_t value_size,
		    const char *next);


/*
 * The framing of a whole head (the request smuggling shapes and what a
 * proxy cannot pass on): no two different Content-Lengths, not
 * Content-Length and Transfer-Encoding together, no transfer coding but
 * chunked, Host with HTTP/1.1, and method, target and fields together
 * within max_header_size.  WERR_NONE, or the error with a message for it
 * in *message (static).
 */
enum weir_err	 http_check_framing(const char *method, const char *target,
		    const struct hdrs *, const char *version,
		    uint64_t max_header_size, const char **message);

/*
 * X-Weir-Max-Wait's value (seconds, fractions allowed; NULL: absent) into
 * how long a call may wait: def_ms when absent, at most cap_ms.  0, or -1
 * when it is not a number of seconds.
 */
int		 http_max_wait(const char *value, uint64_t def_ms,
		    uint64_t cap_ms, uint64_t *ms);

#endif

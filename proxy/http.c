/*
 * http.c - request head checks; see http.h.  Pure: memory only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdr.h"
#include "http.h"

const char *
http_check_method(const char *method)
{
	if (!hdr_name_valid(method, strlen(method)))
		return "Invalid method: not an HTTP token (RFC 9110 9.1)";
	return NULL;
}

/* A segment separator at p: '/', '\', %2f or %5c; its length or 0. */
static size_t
sep_len(const char *p, const char *end)
{
	if (*p == '/' || *p == '\\')
		return 1;
	if (end - p >= 3 && p[0] == '%' &&
	    ((p[1] == '2' && (p[2] | 0x20) == 'f') ||
	    (p[1] == '5' && (p[2] | 0x20) == 'c')))
		return 3;
	return 0;
}

/* A dot at p: '.' or %2e; its length or 0. */
static size_t
dot_len(const char *p, const char *end)
{
	if (*p == '.')
		return 1;
	if (end - p >= 3 && p[0] == '%' && p[1] == '2' &&
	    (p[2] | 0x20) == 'e')
		return 3;
	return 0;
}

int
http_dot_segment(const char *path, size_t len)
{
	const char	*p = path, *end = path + len;
	size_t		 n;
	int		 dots;

	while (p < end) {
		/* p is at the start of a segment */
		for (dots = 0; p < end && (n = dot_len(p, end)) > 0; dots++)
			p += n;
		if ((dots == 1 || dots == 2) && (p == end ||
		    sep_len(p, end) > 0))
			return 1;
		while (p < end && (n = sep_len(p, end)) == 0)
			p++;
		if (p < end)
			p += n;
	}
	return 0;
}

const char *
http_check_target(const char *target)
{
	const char	*p;

	for (p = target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "Invalid request target: a control byte or "
			    "space (RFC 9112 3.2)";
	if (http_dot_segment(target, strcspn(target, "?")))
		return "Invalid request target: a dot-segment (. or .., "
		    "also as %2e) in the path; weir does not forward paths "
		    "that could leave the upstream's base path";
	return NULL;
}

const char *
http_check_field(const char *name, size_t name_size, const char *value,
    size_t value_size)
{
	size_t	 i;

	if (!hdr_name_valid(name, name_size))
		return "Invalid header field name: not an HTTP token "
		    "(RFC 9110 5.1)";
	for (i = 0; i < value_size; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "Invalid header field value: CR, LF, NUL or "
			    "another control byte (RFC 9110 5.5)";
	}
	return NULL;
}

/*
 * Does a (len bytes) end right before b, with only the NUL that ended it
 * and then SP or HTAB between them?  Reads no further than b.
 */
static int
adjacent(const char *a, size_t len, const char *b)
{
	uintptr_t	 p, end = (uintptr_t)a + len;

	if ((uintptr_t)b <= end || a[len] != '\0')
		return 0;
	for (p = end + 1; p < (uintptr_t)b; p++)
		if (*(const char *)p != ' ' && *(const char *)p != '\t')
			return 0;
	return 1;
}

const char *
http_check_request_line(const char *method, const char *target,
    size_t target_len, const char *version)
{
	if (!adjacent(method, strlen(method), target))
		return "Invalid method: a NUL byte (RFC 9110 9.1)";
	if ((uintptr_t)version != (uintptr_t)target + target_len + 1)
		return "Invalid request target: a NUL byte (RFC 9112 3.2)";
	return NULL;
}

const char *
http_check_fold(const char *name, size_t name_size, const char *value)
{
	if (!adjacent(name, name_size, value))
		return "Header field folded over more than one line "
		    "(obs-fold, RFC 9112 5.2)";
	return NULL;
}

const char *
http_check_line_end(const char *value, size_t value_size, const char *next)
{
	static const char	 cut[] = "Invalid header field value: a NUL "
	    "byte (RFC 9110 5.5)";
	const char		*p = value + value_size + 1;

	/* value[value_size] is the NUL that ended the value: the first
	 * byte of the line's end, or one of the client's. */
	if (next == NULL)
		return *p == '\0' ? NULL : cut;	/* CRLF, or the empty line */
	if (next == p)
		return NULL;				/* LF */
	if ((uintptr_t)next == (uintptr_t)p + 1 && *p == '\0')
		return NULL;				/* CRLF */
	return cut;
}

enum weir_err
http_check_framing(const char *method, const char *target,
    const struct hdrs *h, const char *version, uint64_t max_header_size,
    const char **message)
{
	const char	*cl = NULL, *te = NULL;
	size_t		 i, size = strlen(method) + strlen(target) + 12;
	int		 nte = 0;

	for (i = 0; i < h->n; i++) {
		size += strlen(h->v[i].name) + strlen(h->v[i].value) + 4;
		if (strcasecmp(h->v[i].name, "Content-Length") == 0) {
			if (cl != NULL && strcmp(cl, h->v[i].value) != 0) {
				*message = "Conflicting Content-Length fields";
				return WERR_BAD_REQUEST;
			}
			cl = h->v[i].value;
		} else if (strcasecmp(h->v[i].name,
		    "Transfer-Encoding") == 0) {
			te = h->v[i].value;
			nte++;
		}
	}
	*message = NULL;
	if (size > max_header_size)
		return WERR_HEADERS_TOO_LARGE;
	if (te != NULL && cl != NULL) {
		*message = "Content-Length and Transfer-Encoding together";
		return WERR_BAD_REQUEST;
	}
	if (te != NULL && (nte > 1 || strcasecmp(te, "chunked") != 0))
		return WERR_UNSUPPORTED_TRANSFER_ENCODING;
	if (strcmp(version, "HTTP/1.1") == 0 && hdrs_get(h, "Host") == NULL) {
		*message = "HTTP/1.1 requests need a Host field";
		return WERR_BAD_REQUEST;
	}
	return WERR_NONE;
}

int
http_max_wait(const char *v, uint64_t def_ms, uint64_t cap_ms, uint64_t *ms)
{
	char	*end;
	double	 secs;

	*ms = def_ms;
	if (v == NULL)
		return 0;
	errno = 0;
	secs = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(secs >= 0) ||
	    secs > 1e7)
		return -1;
	*ms = (uint64_t)(secs * 1000.0);
	if (*ms > cap_ms)
		*ms = cap_ms;
	return 0;
}

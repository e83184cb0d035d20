/*
 * call.c - the call object; see call.h.  Touches nothing but memory.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "xmalloc.h"

void
buf_append(struct buf *b, const void *data, size_t len)
{
	size_t	 need;

	if (len == 0)
		return;
	need = b->len + len;
	if (need > b->cap) {
		b->cap = b->cap == 0 ? 1024 : b->cap;
		while (b->cap < need)
			b->cap *= 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len = need;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room;
	int	 n;

	for (;;) {
		room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt,
		    ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		/* Grow to fit, then format again. */
		b->cap = b->cap == 0 ? 1024 : b->cap;
		while (b->cap - b->len <= (size_t)n)
			b->cap *= 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

struct call *
call_new(const char *method, const char *target)
{
	return call_new_take(method, xstrdup(target));
}

/* The methods an API client sends: a call points at these instead of a
 * copy (one allocation fewer per waiting call). */
static char	 known_methods[][8] = { "GET", "POST", "PUT", "PATCH",
		    "DELETE", "HEAD", "OPTIONS" };

static int
is_known(const char *m)
{
	uintptr_t	 p = (uintptr_t)m, a = (uintptr_t)known_methods;

	return p >= a && p < a + sizeof(known_methods);
}

struct call *
call_new_take(const char *method, char *target)
{
	struct call	*c;
	size_t		 i;

	c = xcalloc(1, sizeof(*c));
	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (strcmp(method, known_methods[i]) == 0)
			break;
	c->method = i < sizeof(known_methods) / sizeof(known_methods[0]) ?
	    known_methods[i] : xstrdup(method);
	c->target = target;
	c->reqid = c->reqid_buf;
	c->prio = PRIO_NORMAL;
	return c;
}

void
call_set_reqid(struct call *c, const char *id)
{
	size_t	 n = strlen(id);

	if (c->reqid != c->reqid_buf)
		free(c->reqid);
	if (n < sizeof(c->reqid_buf)) {
		memcpy(c->reqid_buf, id, n + 1);
		c->reqid = c->reqid_buf;
	} else
		c->reqid = xstrdup(id);
}

void
call_reset_response(struct call *c)
{
	c->status = 0;
	hdrs_free(&c->resp_hdrs);
	buf_free(&c->resp_body);
	c->resp_off = 0;
	c->xfer_error = 0;
}

void
call_set_error(struct call *c, enum weir_err err, const char *message)
{
	c->err = err;
	free(c->err_message);
	c->err_message = message != NULL ? xstrdup(message) : NULL;
}

void
call_free(struct call *c)
{
	if (c == NULL)
		return;
	if (!is_known(c->method))
		free(c->method);
	if (c->reqid != c->reqid_buf)
		free(c->reqid);
	free(c->target);
	hdrs_free(&c->in_hdrs);
	buf_free(&c->body);
	free(c->path_buf);
	free(c->tenant);
	call_reset_response(c);
	free(c->err_message);
	free(c);
}

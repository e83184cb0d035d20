/*
 * hdr.c - ordered header lists; see hdr.h.  Touches nothing but memory.
 */
#include <ctype.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "hdr.h"
#include "xmalloc.h"

/*
 * One block per field: name, NUL, value, NUL (curl's dynhds.c does the
 * same).  Half the mallocs of two copies, and a field is freed by freeing
 * its name.  Like strndup, each part ends at an embedded NUL.
 */
static char *
field_new(const char *name, size_t namelen, const char *value,
    size_t valuelen, char **valuep)
{
	char	*p;

	namelen = strnlen(name, namelen);
	valuelen = strnlen(value, valuelen);
	p = xmalloc(namelen + 1 + valuelen + 1);
	memcpy(p, name, namelen);
	p[namelen] = '\0';
	*valuep = p + namelen + 1;
	memcpy(*valuep, value, valuelen);
	(*valuep)[valuelen] = '\0';
	return p;
}

void
hdrs_reserve(struct hdrs *h, size_t n)
{
	if (n <= h->cap)
		return;
	h->cap = n;
	h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
}

void
hdrs_addn(struct hdrs *h, const char *name, size_t namelen,
    const char *value, size_t valuelen)
{
	struct hdr	*f;

	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : h->cap * 2;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	f = &h->v[h->n++];
	f->name = field_new(name, namelen, value, valuelen, &f->value);
}

void
hdrs_set_value(struct hdrs *h, size_t i, const char *value, size_t len)
{
	struct hdr	*f = &h->v[i];
	char		*old = f->name;

	/* A new block before the old one goes: value may point into it. */
	f->name = field_new(old, strlen(old), value, len, &f->value);
	free(old);
}

void
hdrs_add(struct hdrs *h, const char *name, const char *value)
{
	hdrs_addn(h, name, strlen(name), value, strlen(value));
}

size_t
hdrs_del(struct hdrs *h, const char *name)
{
	size_t	 i, j, removed = 0;

	for (i = j = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) == 0) {
			free(h->v[i].name);
			removed++;
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	return removed;
}

void
hdrs_set(struct hdrs *h, const char *name, const char *value)
{
	hdrs_del(h, name);
	hdrs_add(h, name, value);
}

const char *
hdrs_get(const struct hdrs *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

void
hdrs_copy(struct hdrs *dst, const struct hdrs *src)
{
	size_t	 i;

	for (i = 0; i < src->n; i++)
		hdrs_add(dst, src->v[i].name, src->v[i].value);
}

void
hdrs_free(struct hdrs *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

int
hdr_list_has(const char *value, const char *token)
{
	const char	*p, *start, *end;
	size_t		 toklen;

	if (value == NULL)
		return 0;
	toklen = strlen(token);
	for (p = value; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		p = end;
		while (p > start && (p[-1] == ' ' || p[-1] == '\t'))
			p--;
		if ((size_t)(p - start) == toklen &&
		    strncasecmp(start, token, toklen) == 0)
			return 1;
	}
	return 0;
}

int
hdr_name_valid(const char *name, size_t len)
{
	static const char	 extra[] = "!#$%&'*+-.^_`|~";
	size_t			 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && (c == '\0' || strchr(extra, c) == NULL))
			return 0;
	}
	return 1;
}

int
hdr_value_valid(const char *value, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
			return 0;
	return 1;
}

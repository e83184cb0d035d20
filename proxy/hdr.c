/*
 * hdr.c - ordered header lists; see hdr.h.  Touches nothing but memory.
 */
#include <ctype.h>
#include <stdint.h>
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
hdrs_init_packed(struct hdrs *h, size_t n, size_t bytes)
{
	size_t	 strings = bytes + 2 * n;

	memset(h, 0, sizeof(*h));
	if (n == 0)
		return;
	h->v = xmalloc(n * sizeof(*h->v) + strings);
	h->cap = n;
	h->free_at = (char *)(h->v + n);
	h->free_left = strings;
}

/* A packed list made ordinary: a block for each field, before one is
 * freed or replaced, or the list grows past what it was packed for. */
static void
unpack(struct hdrs *h)
{
	struct hdrs	 o;
	size_t		 i;

	if (h->free_at == NULL)
		return;
	memset(&o, 0, sizeof(o));
	hdrs_reserve(&o, h->cap);
	for (i = 0; i < h->n; i++)
		hdrs_add(&o, h->v[i].name, h->v[i].value);
	free(h->v);
	*h = o;
}

void
hdrs_reserve(struct hdrs *h, size_t n)
{
	unpack(h);
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

	namelen = strnlen(name, namelen);
	valuelen = strnlen(value, valuelen);
	if (h->free_at != NULL && h->n < h->cap &&
	    namelen + valuelen + 2 <= h->free_left) {
		f = &h->v[h->n++];
		f->name = h->free_at;
		memcpy(f->name, name, namelen);
		f->name[namelen] = '\0';
		f->value = f->name + namelen + 1;
		memcpy(f->value, value, valuelen);
		f->value[valuelen] = '\0';
		h->free_at += namelen + valuelen + 2;
		h->free_left -= namelen + valuelen + 2;
		return;
	}
	unpack(h);
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
	struct hdr	*f;
	char		*old, *copy = NULL;

	if (h->free_at != NULL) {
		/* value may point into the block unpack() frees */
		copy = xmalloc(len + 1);
		memcpy(copy, value, len);
		copy[len] = '\0';
		value = copy;
		unpack(h);
	}
	f = &h->v[i];
	old = f->name;
	/* A new block before the old one goes: value may point into it. */
	f->name = field_new(old, strlen(old), value, len, &f->value);
	free(old);
	free(copy);
}

void
hdrs_add(struct hdrs *h, const char *name, const char *value)
{
	hdrs_addn(h, name, strlen(name), value, strlen(value));
}

/* Does p point into one of h's fields? */
static int
owns(const struct hdrs *h, const char *p)
{
	uintptr_t	 a = (uintptr_t)p;
	size_t		 i;

	for (i = 0; i < h->n; i++)
		if (a >= (uintptr_t)h->v[i].name &&
		    a <= (uintptr_t)h->v[i].value + strlen(h->v[i].value))
			return 1;
	return 0;
}

size_t
hdrs_del(struct hdrs *h, const char *name)
{
	size_t	 i, j, removed = 0;
	char	*copy = NULL;

	/* name may be one of the list's own, freed by the first match */
	if (owns(h, name))
		name = copy = xstrdup(name);
	unpack(h);
	for (i = j = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) == 0) {
			free(h->v[i].name);
			removed++;
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	free(copy);
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
	for (i = 0; h->free_at == NULL && i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	memset(h, 0, sizeof(*h));
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

/*
 * prio.c - priority classes and their rules; see prio.h.  Pure: memory
 * only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdr.h"
#include "prio.h"
#include "xmalloc.h"

static const char *const names[PRIO_N] = { "high", "normal", "low" };

const char *
prio_name(enum prio_class c)
{
	return (unsigned)c < PRIO_N ? names[c] : "normal";
}

int
prio_parse(const char *s, size_t len, enum prio_class *out)
{
	int	 i;

	for (i = 0; i < PRIO_N; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(s, names[i], len) == 0) {
			*out = (enum prio_class)i;
			return 0;
		}
	return -1;
}

static void
seterr(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* The next blank-separated word of *p: its start and length, *p moved
 * past it; NULL at the end. */
static const char *
word(const char **p, size_t *len)
{
	const char	*s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	*len = (size_t)(s - w);
	*p = s;
	return w;
}

int
prio_rule_add(struct prio_rules *rules, const char *text, char *why,
    size_t whylen)
{
	const char		*p = text, *m, *pat, *cls, *extra;
	size_t			 mlen = 0, plen = 0, clen = 0, xlen;
	enum prio_class		 c;
	struct prio_rule	*r;

	if ((m = word(&p, &mlen)) == NULL ||
	    (pat = word(&p, &plen)) == NULL ||
	    (cls = word(&p, &clen)) == NULL ||
	    (extra = word(&p, &xlen)) != NULL) {
		seterr(why, whylen, "expected 'METHOD PATH-PATTERN CLASS' "
		    "(e.g. 'GET /api/v2/flows* low')");
		return -1;
	}
	if (!(mlen == 1 && *m == '*') && !hdr_name_valid(m, mlen)) {
		seterr(why, whylen, "method '%.*s': expected a method or *",
		    (int)(mlen > 40 ? 40 : mlen), m);
		return -1;
	}
	if ((*pat != '/' && *pat != '*') || memchr(pat, '?', plen) != NULL) {
		seterr(why, whylen, "path pattern '%.*s': expected a path "
		    "starting with / or *, without a query",
		    (int)(plen > 40 ? 40 : plen), pat);
		return -1;
	}
	if (prio_parse(cls, clen, &c) == -1) {
		seterr(why, whylen, "class '%.*s': expected high, normal or "
		    "low", (int)(clen > 40 ? 40 : clen), cls);
		return -1;
	}
	rules->v = xrealloc(rules->v, (rules->n + 1) * sizeof(*rules->v));
	r = &rules->v[rules->n++];
	r->method = mlen == 1 && *m == '*' ? NULL : xstrndup(m, mlen);
	r->pattern = xstrndup(pat, plen);
	r->cls = c;
	return 0;
}

void
prio_rules_free(struct prio_rules *rules)
{
	size_t	 i;

	if (rules == NULL)
		return;
	for (i = 0; i < rules->n; i++) {
		free(rules->v[i].method);
		free(rules->v[i].pattern);
	}
	free(rules->v);
	rules->v = NULL;
	rules->n = 0;
}

/*
 * The usual wildcard match: on a mismatch, go back to the last * and let
 * it take one more character.  Only the last * needs revisiting, so this
 * is O(len * strlen(pattern)) at worst, never exponential.
 */
int
prio_glob(const char *pat, const char *s, size_t len)
{
	const char	*star = NULL;
	size_t		 i = 0, mark = 0;

	while (i < len) {
		if (*pat == '*') {
			star = pat++;
			mark = i;
		} else if (*pat != '\0' && *pat == s[i]) {
			pat++;
			i++;
		} else if (star != NULL) {
			pat = star + 1;
			i = ++mark;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

int
prio_match(const struct prio_rules *rules, const char *method,
    const char *path, enum prio_class *out)
{
	const char	*q;
	size_t		 i, len;

	if (rules == NULL)
		return 0;
	q = strchr(path, '?');
	len = q != NULL ? (size_t)(q - path) : strlen(path);
	for (i = 0; i < rules->n; i++) {
		const struct prio_rule *r = &rules->v[i];

		if (r->method != NULL && strcmp(r->method, method) != 0)
			continue;
		if (prio_glob(r->pattern, path, len)) {
			*out = r->cls;
			return 1;
		}
	}
	return 0;
}

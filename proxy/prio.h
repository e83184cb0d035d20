/*
 * prio.h - priority classes and the rules that give a call its class.
 * Pure: strings in, a class out.
 *
 * A call is high, normal (the default) or low.  Its class comes from
 * X-Weir-Priority, else from the first matching rule of the
 * configuration, "priority = METHOD PATH-PATTERN CLASS": METHOD is a
 * method or *, PATH-PATTERN a glob over the path after prefix stripping
 * (query excluded) in which * matches any run of characters, '/'
 * included.  sched serves a tenant's classes in order, with a share of
 * the slots kept for the lower ones (sched.h).
 */
#ifndef WEIR_PRIO_H
#define WEIR_PRIO_H

#include <stddef.h>

/* In serving order: a lower value goes first. */
enum prio_class {
	PRIO_HIGH = 0,
	PRIO_NORMAL,
	PRIO_LOW,
	PRIO_N
};

struct prio_rule {
	char		*method;	/* NULL: any method */
	char		*pattern;	/* "/api/v2/flows*" */
	enum prio_class	 cls;
};

/* A list of rules, in the order they are tried. */
struct prio_rules {
	struct prio_rule	*v;
	size_t			 n;
};

/* "high", "normal", "low". */
const char	*prio_name(enum prio_class);
/* A class from its name (len bytes, any case): 0, or -1 if unknown. */
int		 prio_parse(const char *, size_t len, enum prio_class *);

/*
 * Parse "METHOD PATH-PATTERN CLASS" and append it to rules: 0, or -1
 * with why filled in (rules unchanged).
 */
int		 prio_rule_add(struct prio_rules *, const char *text,
		    char *why, size_t whylen);
void		 prio_rules_free(struct prio_rules *);

/* Does pattern (with * wildcards) match the whole of s[0..len)? */
int		 prio_glob(const char *pattern, const char *s, size_t len);

/*
 * The class of the first rule matching method and path (the query, from
 * '?', is ignored): 1 and *out set, or 0 if none matches.  rules may be
 * NULL.
 */
int		 prio_match(const struct prio_rules *, const char *method,
		    const char *path, enum prio_class *out);

#endif

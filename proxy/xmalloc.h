/*
 * xmalloc.h - allocation that cannot fail.
 *
 * Running out of memory is fatal: these print a line and abort rather than
 * return NULL, so callers never test for it (after tmux's xmalloc.c).
 */
#ifndef WEIR_XMALLOC_H
#define WEIR_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

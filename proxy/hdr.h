/*
 * hdr.h - an ordered list of HTTP header fields.
 *
 * Order and duplicates are kept, names compare case-insensitively.  The
 * list owns a copy of every field, name and value in one allocation;
 * hdrs_free() releases them.  Callers read name and value but never free
 * or replace them: hdrs_set_value() changes a value.
 * A zeroed struct hdrs is an empty list.
 */
#ifndef WEIR_HDR_H
#define WEIR_HDR_H

#include <stddef.h>

struct hdr {
	char	*name;		/* the field's allocation starts here */
	char	*value;		/* just after name's NUL, same block */
};

struct hdrs {
	struct hdr	*v;
	size_t		 n;
	size_t		 cap;
	/* Packed (hdrs_init_packed): the strings follow v[cap] in v's own
	 * block, and the next one goes here; NULL for an ordinary list. */
	char		*free_at;
	size_t		 free_left;
};

/* Make room for n fields in all, so that adding them allocates no more
 * than their own blocks. */
void		 hdrs_reserve(struct hdrs *, size_t n);
/*
 * Make h, empty, a list of n fields whose names and values take bytes in
 * all (NULs not counted), held in one allocation with their strings: a
 * list that is filled once and then read (a request's head) costs one
 * block instead of one per field.  Past n fields or bytes, or changed
 * (hdrs_set_value, hdrs_del), it becomes an ordinary list.
 */
void		 hdrs_init_packed(struct hdrs *, size_t n, size_t bytes);
/* Append a copy of name/value (value may be empty, never NULL). */
void		 hdrs_add(struct hdrs *, const char *name, const char *value);
/* Append a copy of name/value given as counted strings. */
void		 hdrs_addn(struct hdrs *, const char *name, size_t namelen,
		    const char *value, size_t valuelen);
/*
 * Replace the value of field i (< n) with a copy of value/len; value may
 * point into the field itself.
 */
void		 hdrs_set_value(struct hdrs *, size_t i, const char *value,
		    size_t len);
/* Remove every field called name (which may be one of the list's own
 * strings); returns how many were removed. */
size_t		 hdrs_del(struct hdrs *, const char *name);
/* Replace every field called name with one field name: value (neither
 * one of the list's own strings). */
void		 hdrs_set(struct hdrs *, const char *name, const char *value);
/* The value of the first field called name, or NULL. Owned by the list. */
const char	*hdrs_get(const struct hdrs *, const char *name);
/* Deep copy of src appended to dst. */
void		 hdrs_copy(struct hdrs *dst, const struct hdrs *src);
void		 hdrs_free(struct hdrs *);

/*
 * Does the comma-separated list in value contain token (case-insensitive,
 * whitespace around elements ignored)?  Used for Connection and the like.
 */
int		 hdr_list_has(const char *value, const char *token);

/* Is name a valid field name (RFC 9110 token)? */
int		 hdr_name_valid(const char *name, size_t len);
/* Is value free of CR, LF and NUL? */
int		 hdr_value_valid(const char *value, size_t len);

#endif

/*
 * hash.h - FNV-1a, the one string hash weir uses.
 *
 * Small, fast on short keys (tenant names, request ids) and stable across
 * runs, so a test that seeds from it repeats.  Not for anything an attacker
 * must not steer: callers only spread or seed with it.
 */
#ifndef WEIR_HASH_H
#define WEIR_HASH_H

#include <stdint.h>

/* 32-bit FNV-1a of the NUL-terminated string s. */
uint32_t	 hash_fnv1a(const char *s);

#endif

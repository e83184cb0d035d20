/*
 * check_hdr.c - header lists: order, duplicates, case, token lists.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdr.h"
#include "tap.h"

START_TEST(keeps_order_and_duplicates)
{
	struct hdrs	 h = { 0 };

	hdrs_add(&h, "Set-Cookie", "a=1");
	hdrs_add(&h, "X-One", "1");
	hdrs_add(&h, "set-cookie", "b=2");
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.v[0].value, "a=1");
	ck_assert_str_eq(h.v[2].name, "set-cookie");
	ck_assert_str_eq(hdrs_get(&h, "SET-COOKIE"), "a=1");
	ck_assert_uint_eq(hdrs_del(&h, "Set-Cookie"), 2);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_ptr_null(hdrs_get(&h, "set-cookie"));
	ck_assert_str_eq(h.v[0].name, "X-One");
	hdrs_free(&h);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(set_replaces_all)
{
	struct hdrs	 h = { 0 };

	hdrs_add(&h, "A", "1");
	hdrs_add(&h, "a", "2");
	hdrs_add(&h, "B", "3");
	hdrs_set(&h, "A", "9");
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(hdrs_get(&h, "a"), "9");
	hdrs_free(&h);
}
END_TEST

START_TEST(counted_strings_and_empty_values)
{
	struct hdrs	 h = { 0 }, copy = { 0 };

	hdrs_addn(&h, "X-Abc-junk", 5, "", 0);
	ck_assert_str_eq(h.v[0].name, "X-Abc");
	ck_assert_str_eq(hdrs_get(&h, "x-abc"), "");
	hdrs_copy(&copy, &h);
	ck_assert_uint_eq(copy.n, 1);
	ck_assert_ptr_ne(copy.v[0].name, h.v[0].name);
	hdrs_free(&h);
	hdrs_free(&copy);
	hdrs_free(NULL);
}
END_TEST

/*
 * A field is one block, name then value: a new value replaces the block
 * and leaves the name and the fields around it as they were, whether it
 * grows, shrinks, empties or is taken from the field itself (upstream.c
 * joins an obs-fold continuation this way).
 */
START_TEST(set_value_replaces_one_field_and_keeps_its_name)
{
	struct hdrs	 h = { 0 };

	hdrs_add(&h, "X-A", "1");
	hdrs_add(&h, "X-Folded", "first");
	hdrs_add(&h, "X-B", "2");
	hdrs_set_value(&h, 1, "first second third", 18);
	ck_assert_str_eq(h.v[1].name, "X-Folded");
	ck_assert_str_eq(h.v[1].value, "first second third");
	ck_assert_ptr_eq(h.v[1].value, h.v[1].name + 9);
	hdrs_set_value(&h, 1, h.v[1].value + 6, 6);
	ck_assert_str_eq(hdrs_get(&h, "x-folded"), "second");
	hdrs_set_value(&h, 1, "", 0);
	ck_assert_str_eq(hdrs_get(&h, "X-Folded"), "");
	hdrs_set_value(&h, 0, "one-junk", 3);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.v[0].name, "X-A");
	ck_assert_str_eq(h.v[0].value, "one");
	ck_assert_str_eq(h.v[2].name, "X-B");
	ck_assert_str_eq(h.v[2].value, "2");
	hdrs_free(&h);
}
END_TEST

/*
 * Many fields: the array grows past its first capacity several times,
 * every field keeps its own name and value, and deleting every other one
 * (or all) frees each block once (run under valgrind to see that).
 */
START_TEST(many_fields_grow_delete_and_copy)
{
	struct hdrs	 h = { 0 }, copy = { 0 };
	char		 name[32], value[32];
	size_t		 i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "X-%s-%zu",
		    i % 2 ? "Odd" : "Even", i);
		snprintf(value, sizeof(value), "v%zu", i * 7);
		hdrs_add(&h, name, value);
	}
	ck_assert_uint_eq(h.n, 1000);
	ck_assert_uint_ge(h.cap, 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(value, sizeof(value), "v%zu", i * 7);
		ck_assert_str_eq(h.v[i].value, value);
		ck_assert_ptr_eq(h.v[i].value,
		    h.v[i].name + strlen(h.v[i].name) + 1);
	}
	ck_assert_str_eq(hdrs_get(&h, "x-odd-999"), "v6993");
	for (i = 1; i < 1000; i += 2) {
		snprintf(name, sizeof(name), "X-Odd-%zu", i);
		ck_assert_uint_eq(hdrs_del(&h, name), 1);
	}
	ck_assert_uint_eq(h.n, 500);
	for (i = 0; i < h.n; i++) {
		snprintf(name, sizeof(name), "X-Even-%zu", i * 2);
		ck_assert_str_eq(h.v[i].name, name);
	}
	hdrs_copy(&copy, &h);
	hdrs_set_value(&copy, 499, "changed", 7);
	ck_assert_str_eq(hdrs_get(&h, "X-Even-998"), "v6986");
	ck_assert_str_eq(hdrs_get(&copy, "X-Even-998"), "changed");
	hdrs_set(&copy, "X-Even-0", "only");
	ck_assert_uint_eq(copy.n, 500);
	ck_assert_str_eq(copy.v[499].name, "X-Even-0");
	hdrs_free(&h);
	hdrs_free(&copy);
	ck_assert_ptr_null(copy.v);
}
END_TEST

START_TEST(token_lists)
{
	ck_assert(hdr_list_has("close", "close"));
	ck_assert(hdr_list_has("keep-alive, X-Secret", "x-secret"));
	ck_assert(hdr_list_has(" a ,\tb\t, c", "b"));
	ck_assert(!hdr_list_has("X-Secretive", "X-Secret"));
	ck_assert(!hdr_list_has("", "close"));
	ck_assert(!hdr_list_has(NULL, "close"));
	ck_assert(hdr_list_has("a,,b", "b"));
}
END_TEST

START_TEST(validity)
{
	ck_assert(hdr_name_valid("X-Genesys-Client", 16));
	ck_assert(!hdr_name_valid("X Bad", 5));
	ck_assert(!hdr_name_valid("X:Bad", 5));
	ck_assert(!hdr_name_valid("", 0));
	ck_assert(hdr_value_valid("a b\tc", 5));
	ck_assert(!hdr_value_valid("a\r\nb", 4));
}
END_TEST

/*
 * A packed list (one block) holds what an ordinary one does through any
 * history: filled as packed for, past its fields or bytes, values set
 * from its own strings, fields deleted by its own names.  Seeded random
 * histories, checked after every step against an ordinary list.
 */
static void
assert_same(const struct hdrs *a, const struct hdrs *b, unsigned seed,
    int step)
{
	size_t	 i;

	ck_assert_msg(a->n == b->n, "seed %u step %d: %zu fields, %zu", seed,
	    step, a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_msg(strcmp(a->v[i].name, b->v[i].name) == 0 &&
		    strcmp(a->v[i].value, b->v[i].value) == 0, "seed %u step "
		    "%d field %zu: %s: %s / %s: %s", seed, step, i,
		    a->v[i].name, a->v[i].value, b->v[i].name, b->v[i].value);
		ck_assert_ptr_eq(a->v[i].value, a->v[i].name +
		    strlen(a->v[i].name) + 1);
	}
}

START_TEST(packed_lists_hold_what_ordinary_ones_do)
{
	static const char *const names[] = { "Host", "Accept", "X-A",
	    "Authorization", "Content-Length", "x-a" };
	char		 value[64], name[16];
	struct hdrs	 p, o;
	unsigned	 seed, r;
	size_t		 n, bytes, i, len;
	int		 step, op;

	for (seed = 1; seed <= 3000; seed++) {
		srandom(seed);
		/* What it is packed for: sometimes less than comes. */
		n = (size_t)(random() % 8);
		bytes = (size_t)(random() % 120);
		hdrs_init_packed(&p, n, bytes);
		memset(&o, 0, sizeof(o));
		for (step = 0; step < 24; step++) {
			op = (int)(random() % 10);
			r = (unsigned)random();
			if (op < 6 || o.n == 0) {
				snprintf(name, sizeof(name), "%s",
				    names[r % 6]);
				len = (size_t)(r / 7 % 40);
				memset(value, 'a' + (int)(r % 26), len);
				value[len] = '\0';
				/* a NUL inside: cut there, both alike */
				if (r % 11 == 0 && len > 2)
					value[len / 2] = '\0';
				hdrs_addn(&p, name, strlen(name), value, len);
				hdrs_addn(&o, name, strlen(name), value, len);
			} else if (op < 8) {
				i = r % o.n;
				/* from the list's own strings */
				hdrs_set_value(&p, i, p.v[(i + 1) % p.n].value,
				    strlen(p.v[(i + 1) % p.n].value));
				hdrs_set_value(&o, i, o.v[(i + 1) % o.n].value,
				    strlen(o.v[(i + 1) % o.n].value));
			} else {
				i = r % o.n;
				ck_assert_uint_eq(hdrs_del(&p, p.v[i].name),
				    hdrs_del(&o, o.v[i].name));
			}
			assert_same(&p, &o, seed, step);
			ck_assert_int_eq(hdrs_get(&p, "Host") == NULL,
			    hdrs_get(&o, "Host") == NULL);
		}
		hdrs_free(&p);
		hdrs_free(&o);
		ck_assert_uint_eq(p.n, 0);
	}
}
END_TEST

/* Filled just as packed for: one block, fields in order. */
START_TEST(packed_list_filled_as_planned)
{
	struct hdrs	 h;

	hdrs_init_packed(&h, 3, 4 + 1 + 6 + 16 + 1 + 0);
	hdrs_add(&h, "Host", "x");
	hdrs_add(&h, "Accept", "application/json");
	hdrs_add(&h, "X", "");
	ck_assert_ptr_nonnull(h.free_at);
	ck_assert_uint_eq(h.free_left, 0);
	ck_assert_str_eq(hdrs_get(&h, "accept"), "application/json");
	ck_assert_str_eq(h.v[2].name, "X");
	ck_assert_str_eq(h.v[2].value, "");
	/* inside the block */
	ck_assert(h.v[2].value < (char *)(h.v + 3) + 4 + 1 + 6 + 16 + 1 +
	    2 * 3);
	/* one more: an ordinary list now */
	hdrs_add(&h, "Y", "z");
	ck_assert_ptr_null(h.free_at);
	ck_assert_uint_eq(h.n, 4);
	ck_assert_str_eq(hdrs_get(&h, "host"), "x");
	hdrs_free(&h);
}
END_TEST

static Suite *
hdr_suite(void)
{
	Suite	*s = suite_create("hdr");
	TCase	*tc = tcase_create("hdr");

	tcase_add_test(tc, keeps_order_and_duplicates);
	tcase_add_test(tc, set_replaces_all);
	tcase_add_test(tc, counted_strings_and_empty_values);
	tcase_add_test(tc, set_value_replaces_one_field_and_keeps_its_name);
	tcase_add_test(tc, many_fields_grow_delete_and_copy);
	tcase_add_test(tc, token_lists);
	tcase_add_test(tc, validity);
	tcase_add_test(tc, packed_lists_hold_what_ordinary_ones_do);
	tcase_add_test(tc, packed_list_filled_as_planned);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(hdr_suite());
}

/*
 * check_prio.c - priority classes and the rules that give a call its
 * class: parsing, the glob and first-match order.  Pure.
 */
#include <check.h>
#include <string.h>

#include "prio.h"
#include "tap.h"

START_TEST(class_names_parse_in_any_case_and_nothing_else)
{
	enum prio_class	 c;

	ck_assert_int_eq(prio_parse("high", 4, &c), 0);
	ck_assert_int_eq(c, PRIO_HIGH);
	ck_assert_int_eq(prio_parse("Normal", 6, &c), 0);
	ck_assert_int_eq(c, PRIO_NORMAL);
	ck_assert_int_eq(prio_parse("LOW", 3, &c), 0);
	ck_assert_int_eq(c, PRIO_LOW);
	ck_assert_int_eq(prio_parse("urgent", 6, &c), -1);
	ck_assert_int_eq(prio_parse("hig", 3, &c), -1);
	ck_assert_int_eq(prio_parse("", 0, &c), -1);
	ck_assert_int_eq(prio_parse("1", 1, &c), -1);
	ck_assert_str_eq(prio_name(PRIO_LOW), "low");
}
END_TEST

START_TEST(a_star_matches_any_run_of_characters_slashes_included)
{
	ck_assert(prio_glob("/api/v2/flows*", "/api/v2/flows", 13));
	ck_assert(prio_glob("/api/v2/flows*", "/api/v2/flows/x/y", 17));
	ck_assert(!prio_glob("/api/v2/flows*", "/api/v2/flow", 12));
	ck_assert(prio_glob("*/users/*", "/api/v2/users/me", 16));
	ck_assert(!prio_glob("*/users/*", "/api/v2/users", 13));
	ck_assert(prio_glob("/a*b*c", "/aXbYbZc", 8));
	ck_assert(!prio_glob("/a*b*c", "/aXbYbZ", 7));
	ck_assert(prio_glob("*", "", 0));
	ck_assert(!prio_glob("/x", "/xy", 3));
	ck_assert(!prio_glob("/xy", "/x", 2));
	/* only len bytes count */
	ck_assert(prio_glob("/x", "/x?q=1", 2));
}
END_TEST

START_TEST(many_stars_against_a_long_path_stay_quick)
{
	char	 path[4001];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	/* exponential backtracking would never finish this */
	ck_assert(!prio_glob("/*a*a*a*a*a*a*a*a*a*a*b", path, 4000));
}
END_TEST

START_TEST(the_first_matching_rule_wins_and_the_query_is_ignored)
{
	struct prio_rules	 r = { 0 };
	enum prio_class		 c = PRIO_NORMAL;
	char			 why[256];

	ck_assert_int_eq(prio_rule_add(&r, "GET /api/v2/flows* low", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(prio_rule_add(&r, "* /api/v2/* high", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(prio_match(&r, "GET", "/api/v2/flows?x=/users/",
	    &c), 1);
	ck_assert_int_eq(c, PRIO_LOW);
	ck_assert_int_eq(prio_match(&r, "POST", "/api/v2/flows", &c), 1);
	ck_assert_int_eq(c, PRIO_HIGH);
	ck_assert_int_eq(prio_match(&r, "GET", "/oauth/token", &c), 0);
	/* methods are exact: HTTP methods are case-sensitive */
	ck_assert_int_eq(prio_match(&r, "get", "/other", &c), 0);
	ck_assert_int_eq(prio_match(NULL, "GET", "/api/v2/flows", &c), 0);
	prio_rules_free(&r);
	prio_rules_free(&r);	/* twice is harmless */
}
END_TEST

START_TEST(malformed_rules_are_refused_with_what_is_wrong)
{
	static const struct {
		const char	*text;
		const char	*says;
	} bad[] = {
		{ "", "METHOD PATH-PATTERN CLASS" },
		{ "GET /x", "METHOD PATH-PATTERN CLASS" },
		{ "GET /x low extra", "METHOD PATH-PATTERN CLASS" },
		{ "G(T /x low", "method" },
		{ "GET x* low", "path pattern" },
		{ "GET /x?y=1 low", "path pattern" },
		{ "GET /x urgent", "class" },
	};
	struct prio_rules	 r = { 0 };
	char			 why[256];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_int_eq(prio_rule_add(&r, bad[i].text, why,
		    sizeof(why)), -1);
		ck_assert_msg(strstr(why, bad[i].says) != NULL,
		    "'%s': %s", bad[i].text, why);
	}
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(prio_rule_add(&r, "  DELETE\t* normal ", why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].method, "DELETE");
	ck_assert_str_eq(r.v[0].pattern, "*");
	prio_rules_free(&r);
}
END_TEST

static Suite *
prio_suite(void)
{
	Suite	*s = suite_create("prio");
	TCase	*tc = tcase_create("prio");

	tcase_add_test(tc, class_names_parse_in_any_case_and_nothing_else);
	tcase_add_test(tc, a_star_matches_any_run_of_characters_slashes_included);
	tcase_add_test(tc, many_stars_against_a_long_path_stay_quick);
	tcase_add_test(tc, the_first_matching_rule_wins_and_the_query_is_ignored);
	tcase_add_test(tc, malformed_rules_are_refused_with_what_is_wrong);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(prio_suite());
}

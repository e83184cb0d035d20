/*
 * tap.h - run one Check suite and report it as TAP on stdout, so automake's
 * TAP driver prints one PASS/FAIL line per test.
 *
 * Usage, at the end of a check_*.c file:
 *	int main(void) { return tap_run(my_suite()); }
 */
#ifndef WEIR_TAP_H
#define WEIR_TAP_H

#include <check.h>
#include <stdlib.h>

static inline int
tap_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_set_tap(sr, "-");	/* "-" is stdout */
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif

/*
 * fuzz_sched.c - libFuzzer target for the scheduler: the input's first
 * eight bytes pick the limits, the rest decode into a history of
 * operations (tests/unit/sched_sim.h: six bytes each), which runs against
 * sched with a fake clock while every invariant is checked after every
 * step.  A broken invariant prints what broke and aborts; a sched
 * function that never returns is caught by libFuzzer's -timeout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sched_sim.h"

#define MAX_OPS	2000

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim_op	 ops[MAX_OPS];
	uint64_t		 seed = 0;
	char			 why[512];
	size_t			 n, i;

	for (i = 0; i < 8 && i < size; i++)
		seed |= (uint64_t)data[i] << (8 * i);
	if (size < 8)
		return 0;
	n = sim_decode(data + 8, size - 8, ops, MAX_OPS);
	if (sim_run(seed, ops, n, why, sizeof(why)) == -1) {
		fprintf(stderr, "sched invariant broken: %s\n", why);
		abort();
	}
	return 0;
}

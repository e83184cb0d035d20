/*
 * check_bucket.c - the GCRA token bucket, stepped by hand as curl's
 * unit3216 steps lib/ratelimit.h: every assert says what it expects.
 */
#include <check.h>
#include <stdint.h>

#include "bucket.h"
#include "tap.h"

#define EXPECT(cond, what)	ck_assert_msg((cond), "%s", (what))

START_TEST(a_full_bucket_lets_burst_go_at_once_then_paces)
{
	struct bucket		 b;
	uint64_t		 now = 5000;
	int			 i;

	bucket_init(&b, 10, 1000, 3);	/* 10/s */
	EXPECT(b.interval_us == 100000, "10/s is one call per 100 000 us");
	EXPECT(bucket_available(&b, now) == 3, "a new bucket is full");
	for (i = 0; i < 3; i++) {
		EXPECT(bucket_due(&b, 1, now) == now,
		    "each of the burst may go now");
		bucket_take(&b, now);
	}
	EXPECT(bucket_available(&b, now) == 0, "burst spent");
	EXPECT(bucket_due(&b, 1, now) == now + 100,
	    "the next call waits one interval");
	EXPECT(bucket_due(&b, 3, now) == now + 300,
	    "the third next call waits three");
	now += 99;
	EXPECT(bucket_due(&b, 1, now) == now + 1, "1 ms early is early");
	now += 1;
	EXPECT(bucket_due(&b, 1, now) == now, "on time is on time");
	bucket_take(&b, now);
	now += 1000;
	EXPECT(bucket_available(&b, now) == 3,
	    "a second idle refills the burst, no more");
}
END_TEST

START_TEST(odd_rates_round_toward_slower)
{
	struct bucket		 b;
	uint64_t		 now = 0, sent = 0, t;

	bucket_init(&b, 7, 1000, 1);	/* 7/s */
	EXPECT(b.interval_us == 142858, "1/7 s rounds up to 142 858 us");
	/* over 10 s, at most burst + 70 calls, and not fewer than 69 */
	for (t = 0; t <= 10000; t++) {
		now = t;
		while (bucket_due(&b, 1, now) <= now) {
			bucket_take(&b, now);
			sent++;
		}
	}
	EXPECT(sent <= 1 + 70, "never faster than the rate");
	EXPECT(sent >= 70, "not much slower either");
}
END_TEST

START_TEST(a_new_rate_applies_to_what_is_owed)
{
	struct bucket		 b;
	uint64_t		 now = 1000;

	bucket_init(&b, 1, 60000, 1);	/* 1/min */
	bucket_take(&b, now);
	EXPECT(bucket_due(&b, 1, now) == now + 60000,
	    "at 1/min the next call waits a minute");
	now += 30000;
	bucket_set(&b, 20, 1000, 1, now);	/* reload: 20/s */
	EXPECT(bucket_due(&b, 1, now) == now + 25,
	    "half a call owed, at 20/s, is 25 ms");
	bucket_set(&b, 1, 1000, 1, now);	/* a 429 said 1/s */
	EXPECT(bucket_due(&b, 1, now) == now + 500,
	    "the same half call at 1/s is 500 ms");
	bucket_set(&b, 1, 1000, 4, now);
	EXPECT(bucket_due(&b, 1, now) == now,
	    "a larger burst lets it go now");
	EXPECT(bucket_available(&b, now) == 3, "three of four left");
	EXPECT(bucket_full(&b, now) == 0, "not full while TAT is ahead");
	EXPECT(bucket_full(&b, now + 500) == 1, "full once TAT is past");
}
END_TEST

START_TEST(the_kth_call_is_due_k_intervals_on)
{
	struct bucket		 b;
	uint64_t		 k;

	bucket_init(&b, 300, 60000, 10);	/* 300/min */
	EXPECT(b.interval_us == 200000, "300/min is 200 ms a call");
	for (k = 1; k <= 10; k++)
		EXPECT(bucket_due(&b, k, 0) == 0,
		    "the first ten of a full bucket go at once");
	EXPECT(bucket_due(&b, 11, 0) == 200, "the 11th after 200 ms");
	EXPECT(bucket_due(&b, 20, 0) == 2000, "the 20th after 2 s");
}
END_TEST

static Suite *
bucket_suite(void)
{
	Suite	*s = suite_create("bucket");
	TCase	*tc = tcase_create("bucket");

	tcase_add_test(tc, a_full_bucket_lets_burst_go_at_once_then_paces);
	tcase_add_test(tc, odd_rates_round_toward_slower);
	tcase_add_test(tc, a_new_rate_applies_to_what_is_owed);
	tcase_add_test(tc, the_kth_call_is_due_k_intervals_on);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(bucket_suite());
}

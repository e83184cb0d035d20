/*
 * check_metrics.c - the /metrics table and the loop that renders it: every
 * row once with its HELP and TYPE, well-formed names and histograms,
 * tenant labels bounded, the process gauges as the caller read them, and
 * a row added to the table rendered like the others.  The state is real
 * (metrics and sched fed by hand, the clock a number); no sockets.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "metrics.h"
#include "sched.h"
#include "tap.h"
#include "xmalloc.h"

#define NOW	100000

static struct config		*cfg;
static struct sched		*sched;
static struct metrics		*m;
static struct call		*out;	/* tenant a's call, under way */
static struct metrics_process	 proc = { .cpu_seconds = 1.256,
	.resident_bytes = 123456, .open_fds = 9, .start_time_s = 1700000000.5,
	.pending = 3, .body_bytes = 4096, .draining = 1, .redis = 1,
	.redis_shared = 1, .redis_instances = 3, .redis_ops = 40,
	.redis_local_s = 1.5, .redis_granted = 30, .redis_wasted = 2 };

/* A call of tenant answered with status after one attempt of ms. */
static void
answered(const char *tenant, int status, uint64_t ms)
{
	struct call	*c = call_new("GET", "/api/v2/flows");

	c->tenant = xstrdup(tenant);
	c->status = status;
	metrics_attempt(m, c, ms);
	metrics_queue_wait(m, PRIO_NORMAL, ms / 2);
	metrics_redis_rtt(m, ms * 10);
	metrics_answered(m, c, status);
	call_free(c);
}

static void
submit(const char *tenant)
{
	struct call	*c = call_new("GET", "/api/v2/flows");

	c->tenant = xstrdup(tenant);
	c->deadline_ms = UINT64_MAX;
	ck_assert_int_eq(sched_submit(sched, c, NOW), WERR_NONE);
}

/*
 * a: 3 answered, a 429 absorbed and paused, one call out; b: 2 answered;
 * c: 1 answered 503; q: 2 queued and nothing answered.
 */
static void
setup(void)
{
	char	 err[256];

	cfg = config_new();
	ck_assert_msg(config_finish(cfg, err, sizeof(err)) == 0, "%s", err);
	sched = sched_new(cfg);
	m = metrics_new(16);
	answered("a", 200, 3);
	answered("a", 200, 30);
	answered("a", 200, 300);
	answered("b", 200, 7);
	answered("b", 200, 70000);
	answered("c", 503, 12);
	metrics_retry(m, "a", "429");
	metrics_retry(m, "c", "5xx");
	submit("a");
	ck_assert_ptr_nonnull(out = sched_next(sched, NOW));
	out->status = 429;
	sched_throttle(sched, out, NOW, 5000, 0);
	submit("q");
	submit("q");
}

static void
teardown(void)
{
	struct call	*c;

	while ((c = sched_drain(sched)) != NULL)
		call_free(c);
	sched_done(sched, out, NOW);
	call_free(out);
	sched_free(sched);
	metrics_free(m);
	config_free(cfg);
}

/* The text of rows[0..n) with label_tenants tenants labeled; free it. */
static char *
render(const struct metrics_row *rows, size_t n, unsigned label_tenants)
{
	struct metrics_src	 src = { m, sched, &proc, NOW, label_tenants };
	struct buf		 b = { 0 };

	metrics_render_rows(rows, n, &src, &b);
	buf_append(&b, "", 1);
	return (char *)b.p;
}

/* How many lines of text are exactly line. */
static int
nlines(const char *text, const char *line)
{
	size_t		 len = strlen(line);
	const char	*p;
	int		 n = 0;

	for (p = text; (p = strstr(p, line)) != NULL; p += len)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			n++;
	return n;
}

/* How many lines of text start with prefix. */
static int
nprefixed(const char *text, const char *prefix)
{
	const char	*p;
	int		 n = 0;

	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static const char *
type_name(enum metrics_type t)
{
	return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ?
	    "gauge" : "histogram";
}

/* Does a sample named name (up to '{' or ' ') belong to row? */
static int
belongs(const char *name, size_t len, const struct metrics_row *row)
{
	static const char *const hsuffix[] = { "_bucket", "_sum", "_count" };
	size_t	 rlen = strlen(row->name);
	int	 i;

	if (strncmp(name, row->name, rlen) != 0)
		return 0;
	if (row->type != METRICS_HISTOGRAM)
		return len == rlen;
	for (i = 0; i < 3; i++)
		if (len == rlen + strlen(hsuffix[i]) &&
		    strncmp(name + rlen, hsuffix[i], strlen(hsuffix[i])) == 0)
			return 1;
	return 0;
}

/* How many samples of text belong to row. */
static int
nsamples(const char *text, const struct metrics_row *row)
{
	const char	*p;
	int		 n = 0;

	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1)
		if (*p != '#' && belongs(p, strcspn(p, "{ "), row))
			n++;
	return n;
}

/*
 * Every row of rows[0..n) has one HELP and one TYPE line, and every
 * sample follows the TYPE line of its own row.
 */
static void
check_rows_rendered(const struct metrics_row *rows, size_t n,
    const char *text)
{
	const struct metrics_row	*cur = NULL;
	const char			*p;
	char				 line[512];
	size_t				 i, len;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "# HELP %s %s", rows[i].name,
		    rows[i].help);
		ck_assert_msg(nlines(text, line) == 1, "%s: %d HELP lines",
		    rows[i].name, nlines(text, line));
		snprintf(line, sizeof(line), "# TYPE %s %s", rows[i].name,
		    type_name(rows[i].type));
		ck_assert_msg(nlines(text, line) == 1, "%s: %d TYPE lines",
		    rows[i].name, nlines(text, line));
	}
	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "# TYPE ", 7) == 0) {
			for (i = 0, cur = NULL; i < n && cur == NULL; i++)
				if (strncmp(p + 7, rows[i].name,
				    strlen(rows[i].name)) == 0 &&
				    p[7 + strlen(rows[i].name)] == ' ')
					cur = &rows[i];
			ck_assert_ptr_nonnull(cur);
		}
		if (*p == '#')
			continue;
		len = strcspn(p, "{ ");
		ck_assert_msg(cur != NULL && belongs(p, len, cur),
		    "%.*s: a sample not under its own TYPE line", (int)len, p);
	}
}

START_TEST(every_row_appears_once_with_its_help_and_type)
{
	char	*text = render(metrics_rows, metrics_nrows, 2);
	size_t	 i;

	check_rows_rendered(metrics_rows, metrics_nrows, text);
	/* and each with samples: here every row has something to say */
	for (i = 0; i < metrics_nrows; i++)
		ck_assert_msg(nsamples(text, &metrics_rows[i]) > 0,
		    "%s: no samples", metrics_rows[i].name);
	free(text);
}
END_TEST

START_TEST(without_redis_its_rows_have_no_samples)
{
	char	*text;

	proc.redis = 0;
	text = render(metrics_rows, metrics_nrows, 2);
	proc.redis = 1;
	check_rows_rendered(metrics_rows, metrics_nrows, text);
	ck_assert_int_eq(nlines(text, "weir_redis_shared 1"), 0);
	ck_assert_int_eq(nprefixed(text, "weir_redis_duration_seconds_count"),
	    0);
	free(text);
	text = render(metrics_rows, metrics_nrows, 2);
	ck_assert_int_eq(nlines(text, "weir_redis_shared 1"), 1);
	ck_assert_int_eq(nlines(text, "weir_redis_instances 3"), 1);
	ck_assert_int_eq(nlines(text, "weir_redis_local_seconds_total 1.500"),
	    1);
	free(text);
}
END_TEST

START_TEST(with_no_tenants_every_row_still_has_help_and_type)
{
	struct metrics	*empty = metrics_new(4), *full = m;
	struct sched	*none = sched_new(cfg), *busy = sched;
	char		*text;

	m = empty;
	sched = none;
	text = render(metrics_rows, metrics_nrows, 2);
	m = full;
	sched = busy;
	check_rows_rendered(metrics_rows, metrics_nrows, text);
	ck_assert_int_eq(nprefixed(text, "weir_requests_total"), 0);
	ck_assert_int_eq(nlines(text, "weir_tenants 0"), 1);
	ck_assert_ptr_null(strstr(text, "tenant=\""));
	free(text);
	metrics_free(empty);
	sched_free(none);
}
END_TEST

START_TEST(row_names_are_prometheus_names_and_counters_end_in_total)
{
	const struct metrics_row	*r;
	size_t				 i, j, len;

	for (i = 0; i < metrics_nrows; i++) {
		r = &metrics_rows[i];
		len = strlen(r->name);
		ck_assert_msg(len > 0 && strchr("0123456789", r->name[0]) ==
		    NULL && strspn(r->name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") == len,
		    "%s: not a Prometheus name", r->name);
		ck_assert_msg(strncmp(r->name, "weir_", 5) == 0 ||
		    strncmp(r->name, "process_", 8) == 0, "%s: no prefix",
		    r->name);
		ck_assert_msg((r->type == METRICS_COUNTER) == (len > 6 &&
		    strcmp(r->name + len - 6, "_total") == 0),
		    "%s: counters, and only counters, end in _total", r->name);
		ck_assert_msg(r->help[0] != '\0' && strpbrk(r->help, "\\\n") ==
		    NULL, "%s: HELP empty or needs escaping", r->name);
		/* histograms are few series: never one per tenant */
		ck_assert_msg(r->type != METRICS_HISTOGRAM ||
		    r->labels == METRICS_L_NONE ||
		    r->labels == METRICS_L_PRIORITY, "%s", r->name);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(metrics_rows[j].name, r->name);
	}
}
END_TEST

START_TEST(histograms_have_cumulative_buckets_a_sum_and_a_count)
{
	char		*text = render(metrics_rows, metrics_nrows, 2);
	char		 prefix[128], want[160];
	const char	*p, *lab;
	double		 le, last_le;
	unsigned long long v, last_v;
	size_t		 i;
	int		 nh = 0;

	for (i = 0; i < metrics_nrows; i++) {
		if (metrics_rows[i].type != METRICS_HISTOGRAM)
			continue;
		nh++;
		/* the setup's waits were all normal ones */
		lab = metrics_rows[i].labels == METRICS_L_PRIORITY ?
		    "priority=\"normal\"" : "";
		snprintf(prefix, sizeof(prefix), "%s_bucket{%s%sle=\"",
		    metrics_rows[i].name, lab, *lab ? "," : "");
		ck_assert_int_ge(nprefixed(text, prefix), 2);
		last_le = -1;
		last_v = 0;
		for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
			if (strncmp(p, prefix, strlen(prefix)) != 0)
				continue;
			p += strlen(prefix);
			le = strncmp(p, "+Inf", 4) == 0 ? 1e300 :
			    strtod(p, NULL);
			v = strtoull(strchr(p, ' ') + 1, NULL, 10);
			ck_assert(le > last_le);
			ck_assert(v >= last_v);
			last_le = le;
			last_v = v;
		}
		ck_assert(last_le == 1e300);	/* the last is +Inf */
		/* six attempts observed; +Inf is the count */
		ck_assert_uint_eq(last_v, 6);
		snprintf(want, sizeof(want), "%s_count%s%s%s 6",
		    metrics_rows[i].name, *lab ? "{" : "", lab,
		    *lab ? "}" : "");
		ck_assert_int_eq(nlines(text, want), 1);
		snprintf(prefix, sizeof(prefix), "%s_sum%s%s%s ",
		    metrics_rows[i].name, *lab ? "{" : "", lab,
		    *lab ? "}" : "");
		ck_assert_int_eq(nprefixed(text, prefix), 1);
	}
	ck_assert_int_eq(nh, 4);	/* queue wait, by class, upstream, redis */
	ck_assert_int_eq(nlines(text,
	    "weir_upstream_duration_seconds_sum 70.352000"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_upstream_duration_seconds_bucket{le=\"60\"} 5"), 1);
	free(text);
}
END_TEST

START_TEST(the_busiest_tenants_get_labels_and_the_rest_is_other)
{
	char	*text = render(metrics_rows, metrics_nrows, 2);

	/* a (4 counted + 1 out) and b (4) are labeled; c and q are other */
	ck_assert_int_eq(nlines(text,
	    "weir_requests_total{tenant=\"a\",code=\"200\"} 3"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_requests_total{tenant=\"b\",code=\"200\"} 2"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_requests_total{tenant=\"other\",code=\"503\"} 1"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_retries_total{tenant=\"other\",reason=\"5xx\"} 1"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_retries_total{tenant=\"a\",reason=\"429\"} 1"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_429_absorbed_total{tenant=\"a\"} 1"), 1);
	ck_assert_int_eq(nlines(text, "weir_queue_depth{tenant=\"other\"} 2"),
	    1);
	ck_assert_int_eq(nlines(text, "weir_inflight{tenant=\"a\"} 1"), 1);
	ck_assert_int_eq(nlines(text, "weir_tenant_paused{tenant=\"a\"} 1"),
	    1);
	ck_assert_int_eq(nlines(text, "weir_tenants 2"), 1);
	ck_assert_int_eq(nlines(text, "weir_queued 2"), 1);
	ck_assert_ptr_null(strstr(text, "tenant=\"c\""));
	ck_assert_ptr_null(strstr(text, "tenant=\"q\""));
	free(text);
	/* none labeled: everything is other */
	text = render(metrics_rows, metrics_nrows, 0);
	ck_assert_int_eq(nlines(text,
	    "weir_requests_total{tenant=\"other\",code=\"200\"} 5"), 1);
	ck_assert_ptr_null(strstr(text, "tenant=\"a\""));
	free(text);
	/* all labeled: no other */
	text = render(metrics_rows, metrics_nrows, 10);
	ck_assert_int_eq(nlines(text, "weir_queue_depth{tenant=\"q\"} 2"), 1);
	ck_assert_ptr_null(strstr(text, "tenant=\"other\""));
	free(text);
}
END_TEST

START_TEST(queued_calls_and_waits_are_shown_by_priority_class)
{
	struct call	*c = call_new("GET", "/api/v2/users/me");
	char		*text;

	c->tenant = xstrdup("q");
	c->prio = PRIO_HIGH;
	c->deadline_ms = UINT64_MAX;
	ck_assert_int_eq(sched_submit(sched, c, NOW), WERR_NONE);
	metrics_queue_wait(m, PRIO_HIGH, 20);
	metrics_queue_wait(m, PRIO_LOW, 4000);
	metrics_queue_wait(m, PRIO_LOW, 6000);
	text = render(metrics_rows, metrics_nrows, 2);
	ck_assert_int_eq(nlines(text,
	    "weir_queued_by_priority{priority=\"high\"} 1"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_queued_by_priority{priority=\"normal\"} 2"), 1);
	ck_assert_int_eq(nlines(text,
	    "weir_queued_by_priority{priority=\"low\"} 0"), 1);
	ck_assert_int_eq(nlines(text, "weir_queue_wait_by_priority_seconds_"
	    "bucket{priority=\"high\",le=\"0.025\"} 1"), 1);
	ck_assert_int_eq(nlines(text, "weir_queue_wait_by_priority_seconds_"
	    "count{priority=\"low\"} 2"), 1);
	ck_assert_int_eq(nlines(text, "weir_queue_wait_by_priority_seconds_"
	    "sum{priority=\"low\"} 10.000000"), 1);
	ck_assert_int_eq(nlines(text, "weir_queue_wait_by_priority_seconds_"
	    "bucket{priority=\"low\",le=\"5\"} 1"), 1);
	/* the setup's six waits were normal ones */
	ck_assert_int_eq(nlines(text, "weir_queue_wait_by_priority_seconds_"
	    "count{priority=\"normal\"} 6"), 1);
	/* and every wait is in the unlabeled histogram too */
	ck_assert_int_eq(nlines(text, "weir_queue_wait_seconds_count 9"), 1);
	free(text);
}
END_TEST

START_TEST(process_gauges_print_what_the_caller_read)
{
	char	*text = render(metrics_rows, metrics_nrows, 2);

	ck_assert_int_eq(nlines(text, "process_cpu_seconds_total 1.26"), 1);
	ck_assert_int_eq(nlines(text, "process_resident_memory_bytes 123456"),
	    1);
	ck_assert_int_eq(nlines(text, "process_open_fds 9"), 1);
	ck_assert_int_eq(nlines(text,
	    "process_start_time_seconds 1700000000.500"), 1);
	ck_assert_int_eq(nlines(text, "weir_pending 3"), 1);
	ck_assert_int_eq(nlines(text, "weir_body_memory_bytes 4096"), 1);
	ck_assert_int_eq(nlines(text, "weir_draining 1"), 1);
	free(text);
}
END_TEST

/* Readers of rows the table does not have. */
static int
rd_answer(const struct metrics_at *at, struct metrics_value *v)
{
	v->d = at->src->proc->open_fds * 4.5;
	return 0;
}

static int
rd_seven(const struct metrics_at *at, struct metrics_value *v)
{
	v->u = 7 + at->k;
	return 0;
}

static int
rd_two_reasons(const struct metrics_at *at, struct metrics_value *v)
{
	if (at->k >= 2)
		return -1;
	snprintf(v->label, sizeof(v->label), "r%u", at->k);
	v->u = 10 + at->k;
	return 0;
}

START_TEST(a_row_added_to_the_table_is_rendered_like_the_others)
{
	static const struct metrics_row extra[] = {
		{ "weir_test_answer", METRICS_GAUGE, METRICS_L_NONE,
		    "A row the table does not have.", METRICS_REAL,
		    rd_answer, 0 },
		{ "weir_test_seven_total", METRICS_COUNTER, METRICS_L_TENANT,
		    "Seven per tenant.", METRICS_INT, rd_seven, 0 },
		{ "weir_test_reasons_total", METRICS_COUNTER, METRICS_L_REASON,
		    "Two reasons per tenant.", METRICS_INT, rd_two_reasons,
		    0 },
	};
	struct metrics_row	*rows;
	size_t			 n = metrics_nrows + 3;
	char			*text, *base;

	rows = xcalloc(n, sizeof(*rows));
	memcpy(rows, metrics_rows, metrics_nrows * sizeof(*rows));
	memcpy(rows + metrics_nrows, extra, sizeof(extra));
	text = render(rows, n, 2);
	base = render(metrics_rows, metrics_nrows, 2);
	check_rows_rendered(rows, n, text);
	/* the table's own rows unchanged, the new ones after them */
	ck_assert_int_eq(strncmp(text, base, strlen(base)), 0);
	ck_assert_int_eq(nlines(text, "weir_test_answer 40.5"), 1);
	/* per tenant: bounded like the others */
	ck_assert_int_eq(nlines(text, "weir_test_seven_total{tenant=\"a\"} 7"),
	    1);
	ck_assert_int_eq(nlines(text, "weir_test_seven_total{tenant=\"b\"} 7"),
	    1);
	ck_assert_int_eq(nlines(text,
	    "weir_test_seven_total{tenant=\"other\"} 7"), 1);
	ck_assert_int_eq(nprefixed(text, "weir_test_seven_total{"), 3);
	ck_assert_int_eq(nlines(text,
	    "weir_test_reasons_total{tenant=\"b\",reason=\"r1\"} 11"), 1);
	ck_assert_int_eq(nprefixed(text, "weir_test_reasons_total{"), 6);
	free(base);
	free(text);
	free(rows);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_row_appears_once_with_its_help_and_type);
	tcase_add_test(tc, with_no_tenants_every_row_still_has_help_and_type);
	tcase_add_test(tc, without_redis_its_rows_have_no_samples);
	tcase_add_test(tc,
	    row_names_are_prometheus_names_and_counters_end_in_total);
	tcase_add_test(tc,
	    histograms_have_cumulative_buckets_a_sum_and_a_count);
	tcase_add_test(tc,
	    the_busiest_tenants_get_labels_and_the_rest_is_other);
	tcase_add_test(tc, process_gauges_print_what_the_caller_read);
	tcase_add_test(tc, queued_calls_and_waits_are_shown_by_priority_class);
	tcase_add_test(tc,
	    a_row_added_to_the_table_is_rendered_like_the_others);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(metrics_suite());
}

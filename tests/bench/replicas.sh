#!/bin/sh
# replicas.sh - replicas of one app, each through its own weir, with and
# without a budget shared through Redis, against all of them through one
# weir (not part of make check).
#
# The app: REPLICAS processes (tests/bench/bulkjob.js --tenants 1 --client
# bench-app), started together, all logging in as the same client, each
# doing the same whole job on its own (not a third of a bigger one): log
# in, page through FLOWS flows (25 a page), PUT each flow, CONC calls in
# flight, never retrying (like the Node SDK).  With the defaults that is
# 3 x (1 + 2 + 50) = 159 calls, six of the fake's windows (five full ones
# and 9 calls): the one-weir run takes about 16 s (the seed measured
# 15.1 s for its job).  The fake upstream (tests/fake/fakeup) limits the
# client to LIMIT calls per fixed window of WINDOW seconds whichever weir
# sends them (it counts the Basic id and the id in "tok-<id>-<n>"), and
# takes LATENCY ms per call.
#
#   (1) every replica through ONE weir;
#   (2) each replica through its own weir, nothing shared: each weir
#       thinks it has the whole budget;
#   (3) each replica through its own weir, the weirs sharing the budget
#       through a redis-server this script starts (unix socket in its
#       scratch directory, --save '' --appendonly no; a fresh
#       redis_prefix per run so no state carries over).
#
# Every weir: rate LIMIT*60/WINDOW per minute, burst LIMIT, concurrency
# CONC, log_level LOG_LEVEL, admin on 127.0.0.1 port 0.  Each run gets a
# fresh fake and fresh weirs.  Per run: elapsed_s (wall time from the
# common start until the last replica finished), app_calls and
# app_failures (summed over the replicas: any non-2xx answer or error the
# app saw) and upstream_429s (the fake's count); under each run with
# Redis, a line per weir from its /status: mode at the end, Redis
# operations, average round trip, timeouts, reconnects, time spent in
# local mode (redis_timeout exceeded) and slots granted and wasted.  Then
# the targets, from
# the best (fastest) of RUNS runs of each: with Redis, elapsed (3)/(1) <=
# 1.05 and 429s (3) - (1) <= 2; no app failures anywhere.
#
# Usage: tests/bench/replicas.sh   (from a built tree: proxy/weir and
#        tests/fake/fakeup, e.g. ./configure && make && make
#        tests/fake/fakeup; or WEIR_BIN / FAKEUP_BIN / REDIS_SERVER set).
# Knobs: LIMIT (30) WINDOW (3) FLOWS (50) LATENCY (40) CONC (10)
#        REPLICAS (3) RUNS (1) LOG_LEVEL (warn) ONLY ("1 2 3": which runs)
#        STEAL (0: other apps of the org take that many of each window's
#        LIMIT at its start, fakeup --steal; the weirs' rate and burst are
#        then too high)
#        TRACE=1 (keep the scratch directory, with the fake's log of each
#        call's arrival, its place in its window, its status and the
#        replica that sent it in fake.RUN.MODE.log: fakeup --log)
#        STATUS_EVERY=S (poll every weir's /status every S seconds into
#        status.RUN.MODE.I; it loads a small machine) KEEP=1 (keep the
#        scratch directory: the weirs' logs, the replicas' output).
# The replicas start at a common time 2 s after they are launched; one
# that was not ready by then is reported (late_ms) since it skews the run.
# Needs node, redis-server, curl and GNU date (date +%s%3N).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WEIR_BIN=${WEIR_BIN:-$top/proxy/weir}
FAKEUP_BIN=${FAKEUP_BIN:-$top/tests/fake/fakeup}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
NODE=${NODE:-node}
LIMIT=${LIMIT:-30}
WINDOW=${WINDOW:-3}
FLOWS=${FLOWS:-50}
LATENCY=${LATENCY:-40}
CONC=${CONC:-10}
REPLICAS=${REPLICAS:-3}
RUNS=${RUNS:-1}
STEAL=${STEAL:-0}
LOG_LEVEL=${LOG_LEVEL:-warn}
ONLY=${ONLY:-1 2 3}
TRACE=${TRACE:-0}
STATUS_EVERY=${STATUS_EVERY:-}
KEEP=${KEEP:-0}
fake_log=""
if [ "$TRACE" = 1 ]; then KEEP=1; fake_log=--log; fi
[ -n "$STATUS_EVERY" ] && KEEP=1

for b in "$WEIR_BIN" "$FAKEUP_BIN"; do
	[ -x "$b" ] || { echo "replicas.sh: $b not built" >&2; exit 1; }
done
for c in "$NODE" "$REDIS_SERVER" curl; do
	command -v "$c" >/dev/null ||
	    { echo "replicas.sh: $c not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-replicas.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ "$KEEP" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for FILE REGEX: print the first match of REGEX in FILE (10 s at most)
wait_for() {
	i=0
	while [ $i -lt 200 ]; do
		m=$(grep -o "$2" "$1" 2>/dev/null | head -n 1 || true)
		if [ -n "$m" ]; then echo "$m"; return 0; fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "replicas.sh: timed out waiting for $2 in $1" >&2
	cat "$1" >&2
	exit 1
}

stop() { # pids...
	for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

now_ms() { date +%s%3N; }

# json FIELD TEXT: a number field of a one-line JSON object
json() { echo "$2" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# --- redis, for the whole script
sock=$tmp/redis.sock
"$REDIS_SERVER" --port 0 --unixsocket "$sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
pids="$pids $redis_pid"
wait_for "$tmp/redis.log" '[Rr]eady to accept connections' >/dev/null

start_fake() {
	"$FAKEUP_BIN" --latency-ms "$LATENCY" --flows "$FLOWS" \
	    --limit "$LIMIT" --window-s "$WINDOW" --steal "$STEAL" $fake_log \
	    >"$tmp/fake.out" 2>"$tmp/fake.$1.log" &
	fake_pid=$!
	pids="$pids $fake_pid"
	m=$(wait_for "$tmp/fake.out" 'port [0-9]*')
	fake_port=${m#port }
}

# start_weir NAME REDIS_LINE: sets weir_port, weir_admin, weir_pid
start_weir() {
	cat >"$tmp/$1.conf" <<CONF
listen = 127.0.0.1:0
upstream = http://127.0.0.1:$fake_port
login_upstream = http://127.0.0.1:$fake_port
rate = $((LIMIT * 60 / WINDOW))/min
burst = $LIMIT
concurrency = $CONC
log_level = $LOG_LEVEL
admin_listen = 127.0.0.1:0
$2
CONF
	"$WEIR_BIN" -c "$tmp/$1.conf" 2>"$tmp/$1.log" &
	weir_pid=$!
	pids="$pids $weir_pid"
	m=$(wait_for "$tmp/$1.log" 'listening on [0-9.]*:[0-9]*')
	weir_port=${m##*:}
	m=$(wait_for "$tmp/$1.log" 'admin listening on [0-9.]*:[0-9]*')
	weir_admin=${m##*:}
}

# wait_shared ADMIN_PORT: until that weir paces through Redis (5 s at most)
wait_shared() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s "http://127.0.0.1:$1/status" | grep -q '"mode":"shared"' &&
		    return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "replicas.sh: weir (admin :$1) never went shared" >&2
	exit 1
}

# trace NAME ADMIN_PORT: /status every STATUS_EVERY s, "<ms> <json>" a
# line, until killed
trace() {
	while :; do
		printf '%s ' "$(now_ms)"
		curl -s "http://127.0.0.1:$2/status" || echo
		sleep "$STATUS_EVERY"
	done >"$tmp/$1.status" 2>/dev/null
}

# redis_summary: a weir's /status on stdin, its redis side in one line
redis_summary() {
	tr ',' '\n' | awk -F: '
	/"mode"/ { m = $2 } /"local_s"/ { l = $2 } /"ops"/ { o = $2 }
	/"timeouts"/ { t = $2 } /"reconnects"/ { c = $2 }
	/"slots_granted"/ { g = $2 } /"slots_wasted"/ { w = $2 }
	/"rtt_avg_ms"/ { sub(/}.*/, "", $2); r = $2 }
	END { gsub(/"/, "", m); printf "    weir: redis %s, %s ops, rtt avg %s ms, " \
	    "%s timeouts, %s reconnects, local %s s, slots %s granted %s wasted",
	    m, o, r, t, c, l, g, w }'
}

# one RUN MODE: run mode 1, 2 or 3 once; prints its row and sets el, calls,
# failed, n429
one() {
	r=$1
	mode=$2
	start_fake "$r.$mode"
	weirs=""
	admins=""
	ports=""
	n=$REPLICAS
	[ "$mode" = 1 ] && n=1
	line=""
	[ "$mode" = 3 ] && line="redis = unix:$sock
redis_prefix = bench$r:"
	i=0
	while [ $i -lt "$n" ]; do
		start_weir "weir.$r.$mode.$i" "$line"
		weirs="$weirs $weir_pid"
		admins="$admins $weir_admin"
		ports="$ports $weir_port"
		i=$((i + 1))
	done
	if [ "$mode" = 3 ]; then
		for a in $admins; do wait_shared "$a"; done
	fi
	tracers=""
	if [ -n "$STATUS_EVERY" ]; then
		i=0
		for a in $admins; do
			trace "status.$r.$mode.$i" "$a" &
			tracers="$tracers $!"
			i=$((i + 1))
		done
		pids="$pids $tracers"
	fi
	# node takes a while to start on a small machine: start together later
	t0=$(( $(now_ms) + 2000 ))
	jobs=""
	i=0
	while [ $i -lt "$REPLICAS" ]; do
		if [ "$mode" = 1 ]; then
			p=${ports# }
		else
			p=$(echo $ports | cut -d' ' -f$((i + 1)))
		fi
		"$NODE" "$here/bulkjob.js" --base "http://127.0.0.1:$p" \
		    --tenants 1 --client bench-app --concurrency "$CONC" \
		    --mode noretry --start-at "$t0" --tag "r$i" \
		    >"$tmp/app.$r.$mode.$i.out" 2>&1 &
		jobs="$jobs $!"
		i=$((i + 1))
	done
	for j in $jobs; do wait "$j" || true; done
	[ -n "$tracers" ] && stop $tracers
	redis_note=""
	if [ "$mode" = 3 ]; then
		for a in $admins; do
			redis_note="$redis_note$(curl -s "http://127.0.0.1:$a/status" |
			    redis_summary)
"
		done
	fi
	n429=$(curl -s "http://127.0.0.1:$fake_port/__fake/stats" |
	    sed -n 's/.*"429":\([0-9]*\).*/\1/p')
	stop $weirs "$fake_pid"
	pids=$redis_pid		# the rest is stopped
	end=0
	calls=0
	failed=0
	i=0
	while [ $i -lt "$REPLICAS" ]; do
		out=$(cat "$tmp/app.$r.$mode.$i.out")
		e=$(json end_ms "$out")
		c=$(json calls "$out")
		f=$(json failed "$out")
		if [ -z "$e" ] || [ -z "$c" ] || [ -z "$f" ]; then
			echo "replicas.sh: replica $i of run $r ($mode) failed:" >&2
			echo "$out" >&2
			exit 1
		fi
		[ "$e" -gt "$end" ] && end=$e
		l=$(json late_ms "$out")
		[ "${l:-0}" -gt 20 ] && echo "replicas.sh: replica $i of" \
		    "run $r ($mode) was ready ${l} ms late" >&2
		calls=$((calls + c))
		failed=$((failed + f))
		i=$((i + 1))
	done
	el=$(awk -v a="$end" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1000 }')
	case $mode in
	1) label="(1) one weir" ;;
	2) label="(2) a weir each, no redis" ;;
	3) label="(3) a weir each, redis" ;;
	esac
	[ "$RUNS" -gt 1 ] && label="$label #$r"
	printf '%-36s %9s %9s %12s %14s\n' "$label" "$el" "$calls" "$failed" "$n429"
	printf '%s' "$redis_note"
}

calls_per=$((1 + (FLOWS + 24) / 25 + FLOWS))
total=$((REPLICAS * calls_per))
echo "fake upstream: $LIMIT calls / ${WINDOW}s fixed window for the one client, ${LATENCY} ms latency"
[ "$STEAL" -gt 0 ] && echo "     of which other apps take $STEAL at each window's start"
echo "app: $REPLICAS replicas x (login + $(( (FLOWS + 24) / 25 )) page(s) + $FLOWS PUTs) = $total calls, $CONC in flight each, one client"
left=$((LIMIT - STEAL))
[ "$left" -gt 0 ] || { echo "replicas.sh: STEAL must be below LIMIT" >&2; exit 1; }
echo "     (at least $(( (total + left - 1) / left )) windows: ~$(( (total - 1) / left * WINDOW ))s minimum)"
echo "weirs: rate $((LIMIT * 60 / WINDOW))/min, burst $LIMIT, concurrency $CONC; redis $("$REDIS_SERVER" --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on a unix socket"
echo
printf '%-36s %9s %9s %12s %14s\n' "run" "elapsed_s" "app_calls" "app_failures" "upstream_429s"

r=1
while [ "$r" -le "$RUNS" ]; do
	for mode in $ONLY; do
		one "$r" "$mode"
		# the best (fastest) run of each mode; on a tie, fewer 429s
		eval "b_el=\${best_el_$mode:-}; b_4=\${best_429_$mode:-}"
		if [ -z "$b_el" ] || awk -v a="$el" -v b="$b_el" -v x="$n429" \
		    -v y="$b_4" 'BEGIN { exit !(a < b || (a == b && x < y)) }'; then
			eval "best_el_$mode=$el; best_429_$mode=$n429; best_f_$mode=$failed"
		fi
		eval "allf_$mode=\$((\${allf_$mode:-0} + failed))"
	done
	r=$((r + 1))
done

echo
case " $ONLY " in
*" 1 "*" 3 "*|*" 3 "*" 1 "*)
	[ "$RUNS" -gt 1 ] && echo "best of $RUNS runs each:"
	awk -v e1="$best_el_1" -v e3="$best_el_3" -v n1="$best_429_1" \
	    -v n3="$best_429_3" 'BEGIN {
		printf "elapsed (3)/(1) = %.3f (target <= 1.05)%s\n",
		    e3 / e1, e3 / e1 <= 1.05 ? "" : "  MISSED";
		printf "429s (3) - (1) = %d (target <= 2)%s\n",
		    n3 - n1, n3 - n1 <= 2 ? "" : "  MISSED";
	}'
	;;
esac
f=""
for mode in $ONLY; do
	eval "f=\"\$f (\$mode) \$allf_$mode\""
done
echo "app failures, all runs:$f (target 0)"

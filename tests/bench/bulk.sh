#!/bin/sh
# bulk.sh - the seed's bulk job against a rate-limiting fake upstream, three
# ways, and a table of what it cost (not part of make check).
#
#   (a) through weir, with an app that never retries (like the Node SDK);
#   (b) straight at the fake, with the naive "on 429 sleep Retry-After and
#       retry" loop;
#   (c) through weir, with part of each window's budget taken by other apps
#       at the window's start, so the configured rate is too high and the
#       real one unknowable;
#   (d) the naive loop under the same conditions as (c), to compare with.
#
# The fake limits each client to LIMIT calls per fixed window of WINDOW
# seconds (from the client's first call), answers with Genesys' 429 (body,
# Retry-After), and takes LATENCY ms per call.  The job, per tenant: log in,
# page through FLOWS flows (25 a page), PUT each flow; CONC calls in flight.
#
# Usage: tests/bench/bulk.sh   (from the source tree after make check, or
#        with WEIR_BIN / FAKEUP_BIN set).  Knobs: FLOWS LIMIT WINDOW LATENCY
#        TENANTS CONC STEAL.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WEIR_BIN=${WEIR_BIN:-$top/proxy/weir}
FAKEUP_BIN=${FAKEUP_BIN:-$top/tests/fake/fakeup}
NODE=${NODE:-node}
FLOWS=${FLOWS:-300}
LIMIT=${LIMIT:-60}
WINDOW=${WINDOW:-5}
LATENCY=${LATENCY:-40}
TENANTS=${TENANTS:-3}
CONC=${CONC:-10}
STEAL=${STEAL:-20}

for b in "$WEIR_BIN" "$FAKEUP_BIN"; do
	[ -x "$b" ] || { echo "bulk.sh: $b not built (run make check)" >&2; exit 1; }
done
command -v "$NODE" >/dev/null || { echo "bulk.sh: node not found" >&2; exit 1; }

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# wait_for FILE REGEX: print the first match of REGEX in FILE (10 s at most)
wait_for() {
	i=0
	while [ $i -lt 200 ]; do
		m=$(grep -o "$2" "$1" 2>/dev/null | head -n 1 || true)
		if [ -n "$m" ]; then echo "$m"; return 0; fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "bulk.sh: timed out waiting for $2 in $1" >&2
	cat "$1" >&2
	exit 1
}

start_fake() { # $1: extra args
	# shellcheck disable=SC2086
	"$FAKEUP_BIN" --latency-ms "$LATENCY" --flows "$FLOWS" \
	    --limit "$LIMIT" --window-s "$WINDOW" $1 >"$tmp/fake.out" 2>&1 &
	pids="$pids $!"
	fake_pid=$!
	fake_port=$(wait_for "$tmp/fake.out" 'port [0-9]*' | cut -d' ' -f2)
}

start_weir() {
	per_min=$((LIMIT * 60 / WINDOW))
	cat >"$tmp/weir.conf" <<CONF
listen = 127.0.0.1:0
upstream = http://127.0.0.1:$fake_port
login_upstream = http://127.0.0.1:$fake_port
# What the API documents for this client: LIMIT per WINDOW s, all of it
# usable at a window's start.
rate = $per_min/min
burst = $LIMIT
concurrency = $CONC
log_level = warn
admin_listen = off
CONF
	"$WEIR_BIN" -c "$tmp/weir.conf" 2>"$tmp/weir.log" &
	pids="$pids $!"
	weir_pid=$!
	log_level_note=$(wait_for "$tmp/weir.log" 'listening on [0-9.]*:[0-9]*')
	weir_port=${log_level_note##*:}
}

stop() { # pids...
	for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

stats() { # fake's count of 429s sent
	curl -s "http://127.0.0.1:$fake_port/__fake/stats" |
	    sed -n 's/.*"429":\([0-9]*\).*/\1/p'
}

run() { # $1 label, $2 mode, $3 base port
	out=$("$NODE" "$here/bulkjob.js" --base "http://127.0.0.1:$3" \
	    --tenants "$TENANTS" --concurrency "$CONC" --mode "$2")
	elapsed=$(echo "$out" | sed -n 's/.*"elapsed_s":\([0-9.]*\).*/\1/p')
	failed=$(echo "$out" | sed -n 's/.*"failed":\([0-9]*\).*/\1/p')
	calls=$(echo "$out" | sed -n 's/.*"calls":\([0-9]*\).*/\1/p')
	n429=$(stats)
	printf '%-44s %9s %9s %12s %14s\n' "$1" "$elapsed" "$calls" "$failed" "$n429"
	eval "el_$2=$elapsed; r429_$2=$n429"
}

windows=$(( (TENANTS > 0 ? (FLOWS + FLOWS / 25 + 2 + LIMIT - 1) / LIMIT : 0) ))
echo "fake upstream: $LIMIT calls / ${WINDOW}s window per client, ${LATENCY} ms latency"
echo "job: $TENANTS tenants x (login + $((FLOWS / 25)) pages + $FLOWS PUTs), $CONC in flight each"
echo "     (at least $windows windows per tenant: ~$(( (windows - 1) * WINDOW ))s minimum)"
echo "weir: rate $((LIMIT * 60 / WINDOW))/min, burst $LIMIT, concurrency $CONC"
echo
printf '%-44s %9s %9s %12s %14s\n' "run" "elapsed_s" "app_calls" "app_failures" "upstream_429s"

start_fake ""
start_weir
run "(a) weir, app never retries" noretry "$weir_port"
stop "$weir_pid" "$fake_pid"
a_el=$elapsed; a_429=$n429; a_fail=$failed

start_fake ""
run "(b) direct, naive sleep-Retry-After loop" naive "$fake_port"
stop "$fake_pid"
b_el=$elapsed; b_429=$n429

start_fake "--steal $STEAL"
start_weir
run "(c) weir, $STEAL/window taken by other apps" noretry "$weir_port"
stop "$weir_pid" "$fake_pid"
c_el=$elapsed; c_fail=$failed; c_429=$n429

start_fake "--steal $STEAL"
run "(d) direct, naive loop, $STEAL/window taken" naive "$fake_port"
stop "$fake_pid"
d_el=$elapsed; d_429=$n429

echo
awk -v a="$a_el" -v b="$b_el" -v c="$c_el" -v d="$d_el" -v a4="$a_429" \
    -v b4="$b_429" -v c4="$c_429" -v d4="$d_429" -v af="$a_fail" \
    -v cf="$c_fail" 'BEGIN {
	printf "elapsed: (a)/(b) %.2fx, (c)/(d) %.2fx (target <= 1.1x)\n",
	    a / b, c / d;
	printf "upstream 429s: (a)/(b) %.2f, (c)/(d) %.2f (target <= 0.33)\n",
	    (b4 > 0 ? a4 / b4 : 0), (d4 > 0 ? c4 / d4 : 0);
	printf "failures the app saw: (a) %d, (c) %d (target 0)\n", af, cf;
}'

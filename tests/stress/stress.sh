#!/usr/bin/env bash
#
# stress.sh - the long stress run, by hand (not part of make check).
#
#   tests/stress/stress.sh            (after make; or set WEIR_BIN, NODE)
#
# Three phases, each against its own weir on 127.0.0.1 port 0, and the
# figures printed as they come:
#
#  1. load: CLIENTS (1000) concurrent clients over TENANTS (200) tenants
#     send REQUESTS (20,000) calls, GETs and POSTs, through weir to
#     mixup.js (random 200 / 429 Retry-After: 1 / 503 / slow 1-3 s).
#     Every call must be answered exactly once with its own request id;
#     statuses tallied; weir alive, /healthz ok and idle at the end; RSS
#     sampled every 0.2 s (start, peak, end).
#  2. tenants: DISTINCT (20,000) calls, each with a new random bearer
#     token, with max_tenants 1000: weir tracks at most 1000 tenants
#     afterwards, and its RSS stays flat.
#  3. waiting: RSS with 0 and then HOLD (5,000) calls waiting in queues
#     (HOLD_TENANTS (100) tenants at rate 1/min, burst 1, max_wait 1 h:
#     the k-th call of a tenant waits k minutes, so max_wait must exceed
#     HOLD / HOLD_TENANTS minutes, or weir answers the rest 503 at once),
#     clients holding their connections; prints the bytes each waiting
#     call costs; then the clients hang up and the queues must empty.
#
# PHASES="1 3" runs only some.  Exits 0 when every check held, 1
# otherwise.  Everything it starts is
# killed on exit.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
WEIR_BIN=${WEIR_BIN:-$top_srcdir/proxy/weir}
NODE=${NODE:-$(command -v node || true)}
CLIENTS=${CLIENTS:-1000}
TENANTS=${TENANTS:-200}
REQUESTS=${REQUESTS:-20000}
DISTINCT=${DISTINCT:-20000}
HOLD=${HOLD:-5000}
HOLD_TENANTS=${HOLD_TENANTS:-100}
PHASES=${PHASES:-1 2 3}

[ -n "$NODE" ] || { echo "stress.sh: node not found" >&2; exit 1; }
[ -x "$WEIR_BIN" ] || { echo "stress.sh: $WEIR_BIN not built" >&2; exit 1; }
command -v curl >/dev/null || { echo "stress.sh: curl not found" >&2; exit 1; }

. "$here/lib.sh"

failures=0
check() {
	local what=$1; shift
	if "$@"; then echo "  ok      $what"
	else echo "  FAILED  $what"; failures=$((failures + 1)); fi
}
die() { echo "stress.sh: $*" >&2; tail -n 20 "$tmp/weir.log" >&2; exit 1; }

# stop_weir: SIGTERM the current weir and wait for it.
stop_weir() {
	kill -TERM "$weir_pid" 2>/dev/null
	wait "$weir_pid" 2>/dev/null
}

echo "== fd limit $(ulimit -n); $(nproc) CPUs"

want() { [[ " $PHASES " == *" $1 "* ]]; }
mixup_pid=

if want 1; then
echo "== 1. load: $CLIENTS clients, $TENANTS tenants, $REQUESTS calls, random upstream"
start_mixup || die "mixup.js did not start"
start_weir "$mixup_port" WEIR_LOG_LEVEL=warn WEIR_RATE=100/s WEIR_BURST=50 \
    WEIR_MAX_CONNECTIONS=20000 || die "weir did not start"
sample_rss "$weir_pid" "$tmp/rss1"
"$NODE" "$here/client.js" --port "$weir_port" --clients "$CLIENTS" \
    --requests "$REQUESTS" --tenants "$TENANTS" >"$tmp/client1.out" \
    2>"$tmp/client1.err" || die "client.js failed: $(cat "$tmp/client1.err")"
touch "$tmp/rss1.stop"
r=$(cat "$tmp/client1.out")
echo "  client: $r"
echo "  mixup:  $(curl -s "http://127.0.0.1:$mixup_port/__mixup/stats")"
echo "  weir RSS: $(rss_summary "$tmp/rss1")"
check "every call answered exactly once" \
    [ "$(json "$r" 'j.answered === j.sent && j.errors + j.twice === 0')" = true ]
check "every answer carries its own request id" [ "$(json "$r" j.idMismatch)" = 0 ]
check "statuses only 200/429/503" \
    [ "$(json "$r" 'Object.keys(j.statuses).every(s => ["200","429","503"].includes(s))')" = true ]
check "weir alive, /healthz ok" curl -sf --max-time 5 -o /dev/null \
    "http://127.0.0.1:$admin_port/healthz"
check "idle afterwards (queued, inflight, pending 0)" wait_idle 20
check "no errors in weir's log" [ "$(grep -c '"level":"error"' "$tmp/weir.log")" = 0 ]
stop_weir
fi

if want 2; then
echo "== 2. tenants: $DISTINCT calls, each with a new token; max_tenants 1000"
# this phase wants answers, not 429s: a quiet mixup of its own
[ -n "$mixup_pid" ] && { kill -TERM "$mixup_pid"; wait "$mixup_pid" 2>/dev/null; }
start_mixup --p429 0 --p503 0 --pslow 0 || die "mixup.js did not start"
start_weir "$mixup_port" WEIR_LOG_LEVEL=warn WEIR_MAX_TENANTS=1000 \
    WEIR_MAX_CONNECTIONS=20000 || die "weir did not start"
sample_rss "$weir_pid" "$tmp/rss2"
"$NODE" "$here/client.js" --port "$weir_port" --clients 100 \
    --requests "$DISTINCT" --distinct-tokens 1 >"$tmp/client2.out" \
    2>"$tmp/client2.err" || die "client.js failed: $(cat "$tmp/client2.err")"
touch "$tmp/rss2.stop"
r=$(cat "$tmp/client2.out")
tenants=$(metric weir_tenants)
echo "  client: $r"
echo "  tenants tracked: $tenants; weir RSS: $(rss_summary "$tmp/rss2")"
echo "  /metrics process_resident_memory_bytes $(metric process_resident_memory_bytes)"
check "every call answered 200" [ "$(json "$r" 'j.statuses["200"] === j.sent')" = true ]
check "at most 1000 tenants ($tenants)" [ "$tenants" -le 1000 ]
stop_weir
fi

if want 3; then
echo "== 3. waiting: RSS with 0 and $HOLD calls waiting ($HOLD_TENANTS tenants, rate 1/min)"
if [ -z "$mixup_pid" ]; then
	start_mixup --p429 0 --p503 0 --pslow 0 || die "mixup.js did not start"
fi
start_weir "$mixup_port" WEIR_LOG_LEVEL=warn WEIR_RATE=1/min WEIR_BURST=1 \
    WEIR_MAX_WAIT=1h WEIR_MAX_WAIT_CAP=1h WEIR_MAX_CONNECTIONS=20000 ||
    die "weir did not start"
# each tenant's one token goes first, so every held call waits
"$NODE" "$here/client.js" --port "$weir_port" --clients "$HOLD_TENANTS" \
    --requests "$HOLD_TENANTS" --tenants "$HOLD_TENANTS" --tag hold \
    --post-ratio 0 >/dev/null 2>&1
sleep 1
rss0=$(rss_kb "$weir_pid")
"$NODE" "$here/client.js" --port "$weir_port" --hold "$HOLD" \
    --tenants "$HOLD_TENANTS" --tag hold >"$tmp/hold.out" \
    2>"$tmp/hold.err" &
hold_pid=$!
pids+=($hold_pid)
for ((i = 0; i < 120; i++)); do
	q=$(status_field queued)
	[ "$q" = "$HOLD" ] && break
	sleep 0.25
done
sleep 1
rssN=$(rss_kb "$weir_pid")
fds=$(metric process_open_fds)
echo "  queued $q; weir open fds $fds"
echo "  RSS with 0 waiting: $rss0 kB; with $q waiting: $rssN kB"
[ "$q" -gt 0 ] && echo "  memory per waiting call: $(( (rssN - rss0) * 1024 / q )) bytes"
check "all $HOLD calls waiting" [ "$q" = "$HOLD" ]
kill -TERM "$hold_pid"; wait "$hold_pid" 2>/dev/null
echo "  hold client: $(tail -n 1 "$tmp/hold.out")"
check "queues empty once the clients hung up" wait_idle 20
echo "  RSS after the clients left: $(rss_kb "$weir_pid") kB"
check "weir alive" kill -0 "$weir_pid"
stop_weir
fi

echo "== $failures checks failed"
[ "$failures" = 0 ]

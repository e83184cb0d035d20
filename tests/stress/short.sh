#!/usr/bin/env bash
#
# short.sh - a short stress run for make check (TAP, ~15 s).
#
# 200 concurrent clients over 50 tenants send 2,000 calls (GETs and POSTs)
# through weir to mixup.js, which answers at random: 200, 429 with
# Retry-After: 1, 503, and some slow 200s (1-3 s).  Checks that every call
# was answered exactly once with its own request id, that only the
# statuses weir may give came back, that weir is alive and idle at the
# end (/healthz, /status queued 0, inflight 0, pending 0), and that its
# resident set stayed bounded.  The long version is stress.sh.
#
# Environment (set by make check): WEIR_BIN, NODE.  Skips without node.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
WEIR_BIN=${WEIR_BIN:-$top_srcdir/proxy/weir}
NODE=${NODE:-$(command -v node || true)}
CLIENTS=${CLIENTS:-200}
REQUESTS=${REQUESTS:-2000}
TENANTS=${TENANTS:-50}
RUN_TIMEOUT=60		# seconds for the client run
RSS_GROWTH_KB=65536	# bound on end - start

if [ -z "$NODE" ] || ! "$NODE" --version >/dev/null 2>&1; then
	echo "1..0 # SKIP node not found (set NODE or put node on PATH)"
	exit 0
fi
if ! command -v curl >/dev/null; then
	echo "1..0 # SKIP curl not found"
	exit 0
fi

. "$here/lib.sh"

n=0
fail() { n=$((n + 1)); echo "not ok $n - $*"; }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
show() { [ -s "$2" ] && { echo "# --- $1 (last 30 lines)"; tail -n 30 "$2" | sed 's/^/# /'; }; }
bail() {
	fail "$*"
	show weir.log "$tmp/weir.log"
	show mixup.err "$tmp/mixup.err"
	echo "1..$n"
	exit 1
}

[ -x "$WEIR_BIN" ] || bail "$WEIR_BIN is not built"
start_mixup || bail "mixup.js did not print its port"
start_weir "$mixup_port" WEIR_LOG_LEVEL=warn WEIR_RATE=100/s \
    WEIR_BURST=50 WEIR_MAX_CONNECTIONS=4096 ||
    bail "weir did not start"
echo "# mixup :$mixup_port, weir :$weir_port, admin :$admin_port"

sample_rss "$weir_pid" "$tmp/rss"
timeout -k 5 "$RUN_TIMEOUT" "$NODE" "$here/client.js" --port "$weir_port" \
    --clients "$CLIENTS" --requests "$REQUESTS" --tenants "$TENANTS" \
    >"$tmp/client.out" 2>"$tmp/client.err"
rc=$?
touch "$tmp/rss.stop"
[ "$rc" -eq 0 ] || bail "client.js exited with status $rc$(
    [ "$rc" -eq 124 ] && echo " (timed out after ${RUN_TIMEOUT}s)")"
r=$(cat "$tmp/client.out")
echo "# client: $r"
echo "# mixup: $(curl -s "http://127.0.0.1:$mixup_port/__mixup/stats")"

sent=$(json "$r" j.sent)
answered=$(json "$r" j.answered)
check "all $REQUESTS calls sent" [ "$sent" = "$REQUESTS" ]
check "every call answered exactly once ($answered of $sent, errors: $(json "$r" 'JSON.stringify(j.errorKinds)'))" \
    [ "$answered" = "$sent" -a "$(json "$r" 'j.errors + j.twice')" = 0 ]
check "every answer carries its own request id" \
    [ "$(json "$r" j.idMismatch)" = 0 ]
check "statuses only 200, 429, 503 ($(json "$r" 'JSON.stringify(j.statuses)'))" \
    [ "$(json "$r" 'Object.keys(j.statuses).filter(s => !["200","429","503"].includes(s)).length')" = 0 ]
check "most calls succeed" \
    [ "$(json "$r" '(j.statuses["200"] || 0) * 10 >= j.sent * 7')" = true ]
check "weir is alive" kill -0 "$weir_pid"
check "/healthz answers" curl -sf --max-time 5 -o /dev/null \
    "http://127.0.0.1:$admin_port/healthz"
check "nothing left queued, in flight or pending" wait_idle 10
s=$(admin /status)
echo "# status: queued $(json "$s" j.queued), inflight $(json "$s" j.inflight), pending $(json "$s" j.pending), tenants $(json "$s" 'Object.keys(j.tenants).length')"
echo "# weir RSS: $(rss_summary "$tmp/rss")"
growth=$(awk 'NR == 1 { s = $2 } { e = $2 } END { print e - s }' "$tmp/rss")
if [ "${WEIR_SANITIZED:-no}" = yes ]; then
	# AddressSanitizer's quarantine keeps freed memory: RSS says nothing
	check "RSS bounded (grew $growth kB; not judged under sanitizers)" true
else
	check "RSS bounded (grew $growth kB)" [ "$growth" -lt "$RSS_GROWTH_KB" ]
fi
check "no weir errors logged" \
    [ "$(grep -c '"level":"error"' "$tmp/weir.log")" = 0 ]
[ "$(grep -c '"level":"error"' "$tmp/weir.log")" = 0 ] ||
    show weir.log "$tmp/weir.log"
echo "1..$n"

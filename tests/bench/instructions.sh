#!/usr/bin/env bash
#
# instructions.sh - user-space instructions per forwarded call, counted by
# valgrind's callgrind: a figure that, unlike requests/s on a shared
# machine, does not move with the machine's load, for A/B of builds.
#
# Starts the fake upstream, then each target under callgrind in turn
# (weir with log_level warn and pacing out of the way, as overhead.sh
# runs it; weir-info, the same with its access log on, to a file; the
# floor, tests/bench/floor.c), sends it wrk -t1 -c32 for
# BENCH_DURATION, stops it and prints its instructions over the calls it
# answered (start-up and stop included: a few hundredths of the total).
# Under callgrind a target runs some 50 times slower, so the client is
# never what limits it.  Not part of make check.
#
# Needs valgrind, wrk and curl, and a built tree (proxy/weir, and
# tests/fake/fakeup and tests/bench/floor: make check, or make
# tests/fake/fakeup tests/bench/floor), preferably configured without
# --enable-debug.  builddir=DIR points at an out-of-tree build.
#
# Environment:
#   BENCH_DURATION   wrk -d per target, default 10s
#   BENCH_TARGETS    default "weir weir-info floor"
#   BENCH_WEIRS      more weirs, "NAME=BINARY ...", run after the targets
#   BENCH_PATH       default /api/v2/flows/ID, ID the fake's first flow
#   KEEP_TMP=1       keep the temp dir: callgrind.NAME for callgrind_annotate
#   WEIR_BIN, FAKEUP_BIN, FLOOR_BIN, WRK, VALGRIND   binaries to use

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$top/tests/lib.sh"
builddir=${builddir:-$top}
weir_bin=${WEIR_BIN:-$builddir/proxy/weir}
fakeup_bin=${FAKEUP_BIN:-$builddir/tests/fake/fakeup}
floor_bin=${FLOOR_BIN:-$builddir/tests/bench/floor}
wrk_bin=${WRK:-$(command -v wrk || true)}
valgrind_bin=${VALGRIND:-$(command -v valgrind || true)}
duration=${BENCH_DURATION:-10s}
path=${BENCH_PATH:-}

die() { echo "instructions.sh: $*" >&2; exit 1; }

[ -n "$wrk_bin" ] && [ -x "$wrk_bin" ] || die "needs wrk (apt-get install -y wrk)"
[ -n "$valgrind_bin" ] && [ -x "$valgrind_bin" ] || die "needs valgrind (apt-get install -y valgrind)"
[ -x "$fakeup_bin" ] || die "$fakeup_bin not built: make tests/fake/fakeup"

declare -A bin
names=()
declare -A level
for t in ${BENCH_TARGETS:-weir weir-info floor}; do
	case $t in
	weir)		bin[weir]=$weir_bin ;;
	weir-info)	bin[weir-info]=$weir_bin level[weir-info]=info ;;
	floor)		bin[floor]=$floor_bin ;;
	*)	die "unknown target $t (weir, weir-info, floor; more weirs with BENCH_WEIRS)" ;;
	esac
	names+=("$t")
done
for w in ${BENCH_WEIRS:-}; do
	bin[${w%%=*}]=${w#*=}
	names+=("${w%%=*}")
done
for t in "${names[@]}"; do
	[ -x "${bin[$t]}" ] || die "$t: ${bin[$t]} is not a program"
done

scratch instr
START_TIMEOUT=30	# a target under callgrind starts slowly

"$fakeup_bin" >"$tmp/fakeup.out" 2>&1 &
pids+=($!)
fake_port=$(wait_for "$tmp/fakeup.out" '^port ([0-9]+)$' $!) ||
	die "the fake upstream did not start: $(cat "$tmp/fakeup.out")"
if [ -z "$path" ]; then
	id=$(curl -fsS "http://127.0.0.1:$fake_port/api/v2/flows?pageSize=1&pageNumber=1" |
	    grep -oE '"id" *: *"[^"]+"' | head -n1 | sed -E 's/.*"([^"]+)"$/\1/')
	[ -n "$id" ] || die "the fake listed no flows"
	path=/api/v2/flows/$id
fi

echo "instructions per call: $(date -u +%Y-%m-%dT%H:%M:%SZ), callgrind, wrk -t1 -c32 -d$duration, GET $path"
printf '%-16s %8s %14s\n' target calls 'instr/call'
for t in "${names[@]}"; do
	(
		for v in $(compgen -e | grep '^WEIR_' || true); do unset "$v"; done
		export WEIR_ADMIN_LISTEN=off WEIR_RATE=1000000/s WEIR_BURST=100000 \
		    WEIR_CONCURRENCY=10000 WEIR_LOG_LEVEL=${level[$t]:-warn}
		exec "$valgrind_bin" --tool=callgrind \
		    --callgrind-out-file="$tmp/callgrind.$t" "${bin[$t]}" \
		    -c /dev/null -l 127.0.0.1:0 -u "http://127.0.0.1:$fake_port" \
		    -L "http://127.0.0.1:$fake_port"
	) >"$tmp/$t.out" 2>"$tmp/$t.log" &
	pid=$!
	pids+=($pid)
	port=$(wait_for "$tmp/$t.log" '"msg" *: *"listening on 127\.0\.0\.1:([0-9]+)"' $pid) ||
		die "$t did not start: $(cat "$tmp/$t.log")"
	"$wrk_bin" -t1 -c32 -d"$duration" "http://127.0.0.1:$port$path" >"$tmp/wrk.$t"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true	# callgrind writes its counts
	n=$(awk '/ requests in / { print $1 }' "$tmp/wrk.$t")
	ir=$(grep -oE 'Collected : [0-9]+' "$tmp/$t.log" | awk '{ print $3 }')
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "$ir" ] ||
		die "$t: no count (wrk: $(tail -n 3 "$tmp/wrk.$t"); $(tail -n 3 "$tmp/$t.log"))"
	printf '%-16s %8s %14s\n' "$t" "$n" "$((ir / n))"
done

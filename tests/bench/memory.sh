#!/usr/bin/env bash
#
# memory.sh - what a waiting call costs: weir's resident memory with 0, 1k,
# 5k and 10k calls queued, and nginx's holding as many in limit_req.
#
# Starts the fake upstream (answering after 10 minutes), weir and nginx, all
# on 127.0.0.1.  tests/bench/hold.py opens client connections that each
# send one SDK-like GET head of 200 bytes (Authorization: Bearer,
# User-Agent, Accept, Host, X-Request-Id, one token for all) and hold.  The
# first one, the plug, goes upstream and stays there; the others wait:
#   weir   one tenant at its concurrency cap (concurrency 1, the plug in
#          flight), rate and burst out of the way, max_wait 1h.  Not paced at
#          1/min: weir answers at once a call that cannot go before its
#          deadline, and at 1/min at most max_wait_cap / 1 min (1,440) can.
#   nginx  limit_req at 1r/m, burst 20000 (no deadline: it holds them all),
#          one worker.
# At each step, once weir's /metrics says that many calls are queued
# (weir_queued, plus the plug in weir_inflight), or nginx's stub_status that
# many requests are in hand, it waits MEM_SETTLE (0.3 s: the calls are
# waiting ones, not arriving ones) and reads VmRSS from /proc/PID/status
# (nginx: its worker) and prints it with the growth per waiting call over
# step 0 (the plug alone).  Not part of make check: numbers depend on the machine;
# nothing here asserts a figure.
#
# Needs python3, curl, nginx (nginx-light) for the nginx rows, and a built
# tree (proxy/weir, and tests/fake/fakeup from make check).  The file
# descriptor limit is raised to the hard limit; 10k calls need about 10k
# descriptors in weir and as many in hold.py.
#
# Environment:
#   MEM_STEPS         calls waiting at each step, default "0 1000 5000 10000"
#   MEM_HEAD_BYTES    size of each request head, default 200
#   MEM_TARGETS       default "weir nginx" (nginx is skipped if missing)
#   MEM_SETTLE        seconds to wait before reading VmRSS, default 0.3
#   MEM_CONNS         default "kept new": the waiting call is its connection's
#                     second, after one answered at once (hold.py --warm),
#                     or its first
#   MEM_WEIR_ENV      extra WEIR_*=value words for weir, e.g.
#                     "WEIR_MAX_HEADER_SIZE=64k"
#   BENCH_KEEP=1      keep the temp dir (configs, logs)
#   WEIR_BIN, FAKEUP_BIN, NGINX   binaries to use

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${builddir:-$top}
weir_bin=${WEIR_BIN:-$builddir/proxy/weir}
fakeup_bin=${FAKEUP_BIN:-$builddir/tests/fake/fakeup}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
steps=${MEM_STEPS:-0 1000 5000 10000}
head_bytes=${MEM_HEAD_BYTES:-200}
targets=${MEM_TARGETS:-weir nginx}
modes=${MEM_CONNS:-kept new}

die() { echo "memory.sh: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "needs python3"
command -v curl >/dev/null || die "needs curl"
[ -x "$weir_bin" ] || die "$weir_bin not built: run ./configure && make"
[ -x "$fakeup_bin" ] || die "$fakeup_bin not built: run make check (or make tests/fake/fakeup)"

max=0
for n in $steps; do [ "$n" -gt "$max" ] && max=$n; done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ "$nofile" -lt $((max + 200)) ]; then
	die "$max calls need more than $nofile descriptors (ulimit -Hn)"
fi

# The scratch directory, the cleanup of every process in pids and
# wait_for: tests/lib.sh, as the other shell tests use them.
KEEP_TMP=${KEEP_TMP:-${BENCH_KEEP:+1}}
WEIR_BIN=$weir_bin
. "$top/tests/lib.sh"
scratch memory

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 200; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Resident KiB of PID's malloc heap ([heap]) and of its anonymous mappings
# (glibc's large blocks and libmicrohttpd's connection pools of more than
# 32 KiB are mmap()ed): where the growth is.
rss_split() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 }
	    /^Rss:/ { if (name == "[heap]") h += $2; else if (name == "") a += $2 }
	    END { print h + 0, a + 0 }' "/proc/$1/smaps"
}

# The calls a target has in hand (waiting, and the plug), for wait_held.
weir_held() {
	curl -fsS "http://127.0.0.1:$admin_port/metrics" 2>/dev/null |
	    awk '$1 == "weir_queued" { n += $2 }
		$1 ~ /^weir_inflight[{]/ { n += $2 } END { print n + 0 }'
}
nginx_held() {
	# stub_status's Writing counts the status request itself
	curl -fsS "http://127.0.0.1:$nginx_port/__status" 2>/dev/null |
	    awk '/Writing:/ { print $4 - 1 }'
}

# wait_held FN N PID: until FN says N calls are held; dies after 5 min or
# if PID exits.
wait_held() {
	local fn=$1 n=$2 pid=$3 i got
	for ((i = 0; i < ${MEM_WAIT_TENTHS:-3000}; i++)); do
		got=$($fn || true)
		[ "$got" = "$n" ] && return 0
		kill -0 "$pid" 2>/dev/null || die "$fn: the server exited"
		sleep 0.1
	done
	die "$fn: $got held, waited for $n"
}

# measure NAME PORT RSS_PID HELD_FN MODE: one run of every step; prints a
# row per step.
measure() {
	local name=$1 port=$2 pid=$3 fn=$4 mode=$5 n line base="" open answered
	local rss heap anon base_heap base_anon warm=""
	[ "$mode" = kept ] && warm=--warm
	coproc HOLD { exec python3 "$here/hold.py" $warm "$port" "$head_bytes"; }
	exec 5>&"${HOLD[1]}" 6<&"${HOLD[0]}"
	for n in $steps; do
		echo "open $((n + 1))" >&5
		read -r line <&6 || die "hold.py exited"
		wait_held "$fn" $((n + 1)) "$pid"
		echo stat >&5
		read -r line open answered <&6 || die "hold.py exited"
		[ "$answered" = 0 ] ||
			echo "memory.sh: $name answered $answered held calls" >&2
		# Waiting calls, not arriving ones: weir gives a pool's zero
		# pages back once its call has waited 100 ms (WATCH_AFTER_MS).
		sleep "${MEM_SETTLE:-0.3}"
		rss=$(rss_kib "$pid")
		read -r heap anon < <(rss_split "$pid")
		if [ -z "$base" ]; then
			base=$rss base_heap=$heap base_anon=$anon
		fi
		awk -v name="$name" -v mode="$mode" -v n="$n" -v r="$rss" \
		    -v b="$base" -v h="$((heap - base_heap))" \
		    -v a="$((anon - base_anon))" '
		BEGIN {
			printf "%-6s %-5s %7d %9.1f", name, mode, n, r / 1024
			if (n > 0)
				printf " %11.1f %9.2f %9.2f %9.2f\n",
				    (r - b) / 1024, (r - b) / n, h / n, a / n
			else
				printf " %11s %9s %9s %9s\n", "-", "-", "-", "-"
		}'
	done
	echo quit >&5
	exec 5>&- 6<&-
	wait "$HOLD_PID" 2>/dev/null || true
}

# stop PID: TERM, and wait for it to go.
stop() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# run_weir MODE
run_weir() {
	echo "# weir config: flags and WEIR_* only" >"$tmp/weir.conf"
	(
		for v in $(compgen -e | grep '^WEIR_' || true); do
			unset "$v"
		done
		export WEIR_ADMIN_LISTEN=127.0.0.1:0 \
		    WEIR_RATE=1000000/s WEIR_BURST=1 \
		    WEIR_CONCURRENCY=1 WEIR_MAX_WAIT=1h WEIR_MAX_WAIT_CAP=1h \
		    WEIR_MAX_QUEUE=$((max + 1000)) \
		    WEIR_MAX_CONNECTIONS=$((max + 100)) \
		    WEIR_CLIENT_TIMEOUT=1h
		for v in ${MEM_WEIR_ENV:-}; do export "${v?}"; done
		exec "$weir_bin" -c "$tmp/weir.conf" -l 127.0.0.1:0 \
		    -u "http://127.0.0.1:$fake_port" \
		    -L "http://127.0.0.1:$fake_port"
	) >"$tmp/weir.$1.out" 2>"$tmp/weir.$1.log" &
	weir_pid=$!
	pids+=($weir_pid)
	weir_port=$(wait_for "$tmp/weir.$1.log" '"msg" *: *"listening on 127\.0\.0\.1:([0-9]+)"' $weir_pid) ||
		die "weir did not start: $(cat "$tmp/weir.$1.log")"
	admin_port=$(wait_for "$tmp/weir.$1.log" '"msg" *: *"admin listening on 127\.0\.0\.1:([0-9]+)' $weir_pid) ||
		die "weir's admin listener did not start"
	measure weir "$weir_port" "$weir_pid" weir_held "$1"
	stop "$weir_pid"
}

# run_nginx MODE
run_nginx() {
	local user_line="" worker
	nginx_port=$(free_port)
	[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
	cat >"$tmp/nginx.conf" <<-EOF
	$user_line
	worker_processes 1;
	worker_rlimit_nofile $((2 * max + 1000));
	daemon off;
	master_process on;
	pid $tmp/nginx.pid;
	error_log $tmp/error.log warn;
	events { worker_connections $((2 * max + 1000)); }
	http {
		access_log off;
		client_body_temp_path $tmp/client_body;
		proxy_temp_path $tmp/proxy;
		limit_req_zone \$http_authorization zone=tenant:10m rate=1r/m;
		upstream fakeup {
			server 127.0.0.1:$fake_port;
			keepalive 64;
		}
		server {
			listen 127.0.0.1:$nginx_port backlog=4096;
			location = /__status { stub_status; }
			location = /__warm { return 204; }
			location / {
				limit_req zone=tenant burst=$((max + 10000));
				proxy_pass http://fakeup;
				proxy_http_version 1.1;
				proxy_set_header Connection "";
				proxy_read_timeout 1h;
			}
		}
	}
	EOF
	"$nginx_bin" -t -q -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" ||
		die "nginx rejected $tmp/nginx.conf (BENCH_KEEP=1 keeps it)"
	"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" \
	    >"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	pids+=($nginx_pid)
	wait_port "$nginx_port" "$nginx_pid" ||
		die "nginx did not start: $(cat "$tmp/error.log" "$tmp/nginx.out" 2>/dev/null)"
	worker=$(pgrep -P "$nginx_pid" | head -n1)
	[ -n "$worker" ] || die "no nginx worker"
	measure nginx "$nginx_port" "$worker" nginx_held "$1"
	stop "$nginx_pid"
}

# --- fake upstream: the plug's answer takes 10 minutes
"$fakeup_bin" --latency-ms 600000 >"$tmp/fakeup.out" 2>"$tmp/fakeup.err" &
pids+=($!)
fake_port=$(wait_for "$tmp/fakeup.out" '^port ([0-9]+)$' $!) ||
	die "fakeup did not start: $(cat "$tmp/fakeup.err")"

echo "weir memory benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
echo "  each waiting call: one GET head of $head_bytes bytes, no body, one tenant;"
echo "  conn new: the call is its connection's first; kept: its second (kept alive)"
echo "  RSS: VmRSS of weir, of nginx's one worker; KiB/call: growth over the first"
echo "  step per waiting call, and of it in the malloc heap and in anonymous"
echo "  mappings (mmap: large blocks, libmicrohttpd's pools over 32 KiB)"
echo
printf '%-6s %-5s %7s %9s %11s %9s %9s %9s\n' target conn calls 'RSS MiB' \
    'growth MiB' 'KiB/call' 'heap' 'mmap'

for t in $targets; do
	if [ "$t" = nginx ] && [ ! -x "$nginx_bin" ]; then
		echo "nginx: not installed (apt-get install nginx-light), skipped"
		continue
	fi
	for mode in $modes; do
		case $t in
		weir)	run_weir "$mode" ;;
		nginx)	run_nginx "$mode" ;;
		*)	die "unknown target $t" ;;
		esac
	done
done

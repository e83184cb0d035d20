# lib.sh - shared by short.sh and stress.sh (bash; sourced, not run).
#
# Starts mixup.js and weir on 127.0.0.1 port 0, reads their ports from
# their output, samples weir's resident set, and kills everything it
# started when the script exits, whatever happens (through ../lib.sh).
# Needs: here (this directory), WEIR_BIN, NODE.

START_TIMEOUT=${START_TIMEOUT:-10}	# seconds for a process to listen

. "$here/../lib.sh"
scratch stress

# As many descriptors as we may have: thousands of sockets per process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# start_mixup [ARGS...]: sets mixup_port and mixup_pid.
start_mixup() {
	"$NODE" "$here/mixup.js" "$@" >"$tmp/mixup.out" 2>"$tmp/mixup.err" &
	mixup_pid=$!
	pids+=($mixup_pid)
	mixup_port=$(wait_for "$tmp/mixup.out" '^port ([0-9]+)$' $mixup_pid)
}

# start_weir UPSTREAM_PORT VAR=VALUE...: weir in front of 127.0.0.1:PORT
# (API and login) with a clean WEIR_* environment plus the given
# variables and an admin listener on port 0; sets weir_port, admin_port,
# weir_pid.
start_weir() {
	local up=$1; shift
	spawn_weir weir /dev/null "$up" "$up" WEIR_ADMIN_LISTEN=127.0.0.1:0 "$@"
	weir_port=$(wait_for "$tmp/weir.log" '"listening on 127\.0\.0\.1:([0-9]+)"' $weir_pid) || return 1
	admin_port=$(wait_for "$tmp/weir.log" '"admin listening on 127\.0\.0\.1:([0-9]+)' $weir_pid)
}

# rss_kb PID: resident set in kB, or 0 when the process is gone.
rss_kb() {
	awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' \
	    "/proc/$1/status" 2>/dev/null || echo 0
}

# sample_rss PID FILE: append "ms rss_kb" every 0.2 s while PID lives and
# FILE.stop does not exist; runs in the background.
sample_rss() {
	local p=$1 f=$2
	(
		while kill -0 "$p" 2>/dev/null && [ ! -e "$f.stop" ]; do
			echo "$(date +%s%3N) $(rss_kb "$p")" >>"$f"
			sleep 0.2
		done
	) &
	pids+=($!)
}

# rss_summary FILE: "start S peak P end E" in kB.
rss_summary() {
	awk 'NR == 1 { s = $2 } $2 > p { p = $2 } { e = $2 }
	    END { printf "start %d kB, peak %d kB, end %d kB\n", s, p, e }' "$1"
}

# admin PATH: GET from weir's admin listener.
admin() {
	curl -s --max-time 5 "http://127.0.0.1:$admin_port$1"
}

# json FILE-OR-STRING EXPR: evaluate a JS expression over the parsed JSON
# (bound to j) and print it.
json() {
	"$NODE" -e 'const j = JSON.parse(process.argv[1]);
	    console.log(eval(process.argv[2]))' "$1" "$2"
}

# status_field NAME: a top-level number of /status.
status_field() {
	json "$(admin /status)" "j.$1"
}

# metric NAME: a sample of /metrics without labels.
metric() {
	admin /metrics | awk -v m="$1" '$1 == m { print $2 }'
}

# wait_idle SECONDS: until /status shows nothing queued, in flight or
# pending; 0 or 1.
wait_idle() {
	local i s
	for ((i = 0; i < $1 * 10; i++)); do
		s=$(admin /status)
		[ "$(json "$s" 'j.queued + j.inflight + j.pending')" = 0 ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

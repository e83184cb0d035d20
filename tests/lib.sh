# lib.sh - what the shell tests share (bash; sourced, not run): a scratch
# directory, killing every process a script started when it exits, waiting
# for a process to say where it listens, and starting weir on 127.0.0.1
# port 0 with a clean WEIR_* environment.
#
# Sourced by tests/browser/page.sh, tests/node/sdk.sh and
# tests/stress/lib.sh; it only defines functions.  A script appends the
# pid of every process it starts to the array pids.

# scratch NAME [POLLS]: make the scratch directory $tmp
# ($TMPDIR/weir-NAME.XXXXXX) and, on exit, SIGTERM everything in pids,
# wait up to POLLS x 0.05 s (default 100) for each, SIGKILL what is left
# and remove $tmp ($KEEP_TMP keeps it).  Exits the script if mktemp fails.
scratch() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-$1.XXXXXX") || exit 1
	cleanup_polls=${2:-100}
	pids=()
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

cleanup() {
	local p i
	# || true: a process already gone is no failure, under set -e too
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for ((i = 0; i < cleanup_polls; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${KEEP_TMP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}

# wait_for FILE REGEX PID: poll until FILE has a line matching the extended
# REGEX and print its first capture group; fail if PID dies or
# START_TIMEOUT seconds (default 10) run out.
wait_for() {
	local file=$1 re=$2 pid=$3 i line
	for ((i = 0; i < ${START_TIMEOUT:-10} * 20; i++)); do
		line=$(grep -m1 -oE "$re" "$file" 2>/dev/null)
		if [ -n "$line" ]; then
			[[ $line =~ $re ]] && echo "${BASH_REMATCH[1]}"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# spawn_weir NAME CONF API_PORT LOGIN_PORT VAR=VALUE...: start $WEIR_BIN
# in the background, listening on 127.0.0.1 port 0, with config file CONF,
# in front of http://127.0.0.1:API_PORT and :LOGIN_PORT, with every WEIR_*
# variable of the environment removed and the given ones added; stdout
# to $tmp/NAME.out, stderr (its log) to $tmp/NAME.log.  Sets weir_pid and
# adds it to pids.
spawn_weir() {
	local name=$1 conf=$2 up=$3 login=$4 bin=$WEIR_BIN v; shift 4
	(
		for v in $(compgen -e | grep '^WEIR_'); do unset "$v"; done
		exec env "$@" "$bin" -c "$conf" -l 127.0.0.1:0 \
		    -u "http://127.0.0.1:$up" -L "http://127.0.0.1:$login"
	) >"$tmp/$name.out" 2>"$tmp/$name.log" &
	weir_pid=$!
	pids+=($weir_pid)
}

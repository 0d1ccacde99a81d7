#!/usr/bin/env bash
# Runs the Autobahn|Testsuite against weir's WebSocket server or client, on loopback only.
#
#   scripts/autobahn.sh server [quick|full]   wstest's fuzzingclient against the `ws_echo` example
#   scripts/autobahn.sh client [quick|full]   the `ws_autobahn_client` example against wstest's
#                                             fuzzingserver
#
# quick runs cases 1-7 and 10 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
# closing, misc: 247 cases); full adds 9 (limits and performance), 12 and 13 (permessage-deflate):
# 517 cases. A case passes when its behavior is OK, NON-STRICT or INFORMATIONAL and its close
# behavior is OK or INFORMATIONAL; the script lists every other case, prints
#   autobahn <direction> <mode>: <n> cases, <ok> OK, <ns> NON-STRICT, <inf> INFORMATIONAL, <fail> FAILED
# and exits 1 if any failed. Reports and logs: target/autobahn/<direction>-<mode>/ (open
# report/index.html). Peers are installed first by scripts/ws-peers.sh (quick when done).
#
# Environment:
#   WS_ECHO_CMD       server to test instead of `cargo run --release --example ws_echo --`;
#                     gets `--port P` appended, must print `listening on 127.0.0.1:P`
#   WS_CLIENT_CMD     client to test instead of `cargo run --release --example ws_autobahn_client --`;
#                     gets `--url ws://127.0.0.1:P --agent NAME` appended
#   WS_AGENT          agent name in the reports (default weir)
#   WS_BUILD_TIMEOUT  seconds for building the example (default 1200)
#   WS_START_TIMEOUT  seconds for a server to print its listening line (default 120)
#   WS_RUN_TIMEOUT    seconds for the whole suite run (default 900 quick, 3600 full)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() {
    echo "usage: $0 server|client [quick|full]" >&2
    exit 2
}

direction=${1:-}
mode=${2:-quick}
[[ $direction == server || $direction == client ]] || usage
case $mode in
quick) cases='"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"' default_run=900 ;;
full) cases='"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*"' default_run=3600 ;;
*) usage ;;
esac

AGENT=${WS_AGENT:-weir}
[[ $AGENT =~ ^[A-Za-z0-9._-]+$ ]] || { echo "WS_AGENT must match [A-Za-z0-9._-]+" >&2; exit 2; }
BUILD_TIMEOUT=${WS_BUILD_TIMEOUT:-1200}
START_TIMEOUT=${WS_START_TIMEOUT:-120}
RUN_TIMEOUT=${WS_RUN_TIMEOUT:-$default_run}

say() { printf 'autobahn: %s\n' "$*"; }
fail() { printf 'autobahn: error: %s\n' "$*" >&2; exit 1; }

# Process groups this script started (each the id of its leader) and the log drains.
started_groups=()
drains=()

# Stops the process group led by $1: SIGTERM, then SIGKILL if the leader has not gone in 10 s.
stop_group() {
    local pid=$1 killer
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        # The timer is a session of its own, so stopping it stops its sleep too.
        setsid bash -c 'sleep 10; kill -KILL -- "-$1" 2>/dev/null' _ "$pid" &
        killer=$!
        wait "$pid" 2>/dev/null || true
        kill -TERM -- "-$killer" 2>/dev/null || true
        wait "$killer" 2>/dev/null || true
    else
        wait "$pid" 2>/dev/null || true
    fi
    # Members that outlived their leader.
    if kill -0 -- "-$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
}

cleanup() {
    local pid
    for pid in "${started_groups[@]}"; do
        stop_group "$pid"
    done
    started_groups=()
    for pid in "${drains[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    drains=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_bounded LIMIT LOG CMD...: runs CMD in a session of its own, output to LOG, for at most
# LIMIT seconds; sets `status` to its exit status (124 on time-out).
run_bounded() {
    local limit=$1 log=$2 pid
    shift 2
    setsid timeout -k 10 "$limit" "$@" >"$log" 2>&1 </dev/null &
    pid=$!
    started_groups+=("$pid")
    status=0
    wait "$pid" || status=$?
    stop_group "$pid"
    unset 'started_groups[-1]'
}

# start_server LOG LIMIT CMD...: starts CMD in a session of its own with its output going to
# LOG, and waits at most LIMIT seconds for its `listening on 127.0.0.1:PORT` line. Sets
# `server_pid` and `server_port`. The output is read line by line from a pipe, so the wait ends
# as soon as the line arrives (or the server exits).
start_server() {
    local log=$1 limit=$2 fifo fd line left read_status deadline
    shift 2
    fifo=$(mktemp -u "$out/.pipe.XXXXXX")
    mkfifo "$fifo"
    setsid "$@" >"$fifo" 2>&1 </dev/null &
    server_pid=$!
    started_groups+=("$server_pid")
    exec {fd}<"$fifo"
    rm -f "$fifo"
    : >"$log"
    server_port=
    deadline=$((SECONDS + limit))
    while :; do
        left=$((deadline - SECONDS))
        if ((left <= 0)); then
            exec {fd}<&-
            tail -n 20 "$log" >&2
            fail "no 'listening on 127.0.0.1:PORT' line within $limit s from: $* (log: $log)"
        fi
        read_status=0
        IFS= read -r -t "$left" -u "$fd" line || read_status=$?
        if ((read_status == 0)); then
            printf '%s\n' "$line" >>"$log"
            if [[ $line =~ listening\ on\ 127\.0\.0\.1:([0-9]+) ]]; then
                server_port=${BASH_REMATCH[1]}
                break
            fi
        elif ((read_status > 128)); then
            continue # timed out: the check above ends the loop
        else
            [[ -n $line ]] && printf '%s\n' "$line" >>"$log"
            exec {fd}<&-
            tail -n 20 "$log" >&2
            fail "the server exited before listening: $* (log: $log)"
        fi
    done
    # Keep draining its output into the log so it never blocks on a full pipe.
    cat <&"$fd" >>"$log" &
    drains+=($!)
    exec {fd}<&-
}

free_port() {
    "$PY3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

elapsed() { printf '%d s' $((SECONDS - $1)); }

scripts/ws-peers.sh install | sed 's/^/  /'
PY2=$ROOT/target/ws-peers/py2/bin/python
PY3=$ROOT/target/ws-peers/py3/bin/python
WSTEST=("$PY2" -u "$ROOT/conformance/ws/wstest_loopback.py")

out=$ROOT/target/autobahn/$direction-$mode
# One run per report directory at a time: a second one would delete the first one's files.
mkdir -p "$ROOT/target/autobahn"
exec {lock}>"$ROOT/target/autobahn/.$direction-$mode.lock"
flock -n "$lock" || fail "another '$direction $mode' run is in progress in this worktree"
rm -rf "$out"
mkdir -p "$out/report"
spec=$out/spec.json

# build_example NAME: builds weir's example, bounded.
build_example() {
    local start=$SECONDS
    say "building example $1 (log: $out/build.log, at most $BUILD_TIMEOUT s)"
    run_bounded "$BUILD_TIMEOUT" "$out/build.log" cargo build --release --example "$1"
    if ((status != 0)); then
        tail -n 30 "$out/build.log" >&2
        fail "cargo build --release --example $1 failed (status $status)"
    fi
    say "built $1 in $(elapsed "$start")"
}

write_spec() { # write_spec KEY VALUE: the testee part of the spec
    cat >"$spec" <<EOF
{
   "outdir": "$out/report",
   $1,
   "options": {"failByDrop": false},
   "cases": [$cases],
   "exclude-cases": [],
   "exclude-agent-cases": {}
}
EOF
    "${WSTEST[@]}" --list-cases "$spec" >"$out/cases.txt"
}

report() {
    "$PY3" "$ROOT/scripts/autobahn_report.py" --outdir "$out/report" \
        --expected "$out/cases.txt" --agent "$AGENT" --label "$direction $mode"
}

start=$SECONDS
case $direction in
server)
    if [[ -n ${WS_ECHO_CMD:-} ]]; then
        echo_cmd=$WS_ECHO_CMD
    else
        build_example ws_echo
        echo_cmd="cargo run --release --example ws_echo --"
    fi
    port=$(free_port)
    say "starting: $echo_cmd --port $port (log: $out/testee.log)"
    start_server "$out/testee.log" "$START_TIMEOUT" bash -c "exec $echo_cmd --port $port"
    write_spec "\"servers\": [{\"agent\": \"$AGENT\", \"url\": \"ws://127.0.0.1:$server_port\"}]"
    say "running $(wc -l <"$out/cases.txt") cases against ws://127.0.0.1:$server_port" \
        "(log: $out/wstest.log, at most $RUN_TIMEOUT s)"
    run_start=$SECONDS
    run_bounded "$RUN_TIMEOUT" "$out/wstest.log" "${WSTEST[@]}" -m fuzzingclient -s "$spec"
    say "wstest fuzzingclient finished in $(elapsed "$run_start") (status $status)"
    if ((status == 124)); then
        say "wstest timed out after $RUN_TIMEOUT s; the report is missing or partial"
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        say "the server exited during the run (see $out/testee.log)"
    fi
    ;;
client)
    if [[ -n ${WS_CLIENT_CMD:-} ]]; then
        client_cmd=$WS_CLIENT_CMD
    else
        build_example ws_autobahn_client
        client_cmd="cargo run --release --example ws_autobahn_client --"
    fi
    port=$(free_port)
    write_spec "\"url\": \"ws://127.0.0.1:$port\""
    say "starting wstest fuzzingserver (log: $out/wstest.log)"
    start_server "$out/wstest.log" "$START_TIMEOUT" "${WSTEST[@]}" -m fuzzingserver -s "$spec" -u 0
    [[ $server_port == "$port" ]] || fail "fuzzingserver listens on $server_port, not $port"
    say "running: $client_cmd --url ws://127.0.0.1:$port --agent $AGENT" \
        "($(wc -l <"$out/cases.txt") cases, log: $out/testee.log, at most $RUN_TIMEOUT s)"
    run_start=$SECONDS
    run_bounded "$RUN_TIMEOUT" "$out/testee.log" \
        bash -c "exec $client_cmd --url ws://127.0.0.1:$port --agent $AGENT"
    say "client finished in $(elapsed "$run_start") (status $status)"
    if ((status == 124)); then
        say "the client timed out after $RUN_TIMEOUT s"
    fi
    if ((status != 0)); then
        tail -n 10 "$out/testee.log" | sed 's/^/  client: /'
    fi
    ;;
esac
cleanup
say "total $(elapsed "$start"); report: $out/report/index.html"
report

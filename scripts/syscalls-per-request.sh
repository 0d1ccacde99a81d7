#!/usr/bin/env bash
# Counts the system calls per request of the HTTP/1.1 hello-world servers of
# `cargo bench --bench http_server` (weir and hyper on tokio, each in its own process with two
# worker threads) under wrk on loopback. A measuring aid for the notes, not a test: it needs
# `perf` (tracepoints) and `wrk`, which the test scripts do not install.
#
#   scripts/syscalls-per-request.sh [weir|hyper] [CONNECTIONS] [SECONDS]
#
# Prints the requests served, then one line per system call: `<name> <count per request>`.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${1:-weir}
connections=${2:-64}
seconds=${3:-3}
for tool in perf wrk; do
    command -v "$tool" >/dev/null || { echo "syscalls-per-request: $tool is needed" >&2; exit 1; }
done

bench=$(cargo bench --bench http_server --no-run 2>&1 |
    grep -o 'target/release/deps/http_server-[0-9a-f]*' | head -n 1)
[[ -x $bench ]] || { echo "syscalls-per-request: the bench did not build" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
    [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The server runs until its standard input closes: a fifo held open by this script.
mkfifo "$work/stdin"
WEIR_WORKER_THREADS=2 "$bench" --serve "$server" <"$work/stdin" >"$work/out" 2>&1 &
pid=$!
exec 3>"$work/stdin"
for _ in $(seq 100); do
    grep -q '127.0.0.1:[0-9]' "$work/out" && break
    sleep 0.1
done
address=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | head -n 1)
[[ -n $address ]] || { echo "syscalls-per-request: the server did not start" >&2; exit 1; }

calls=(recvfrom sendto read write readv writev epoll_wait epoll_pwait epoll_ctl timerfd_settime futex)
events=$(printf 'syscalls:sys_enter_%s,' "${calls[@]}")
perf stat -x, -e "${events%,}" -p "$pid" -o "$work/perf" -- sleep "$((seconds + 1))" &
perf_pid=$!
sleep 0.5
requests=$(wrk -t2 -c"$connections" -d"${seconds}s" "http://$address/" |
    awk '/requests in/ {print $1}')
wait "$perf_pid"
exec 3>&-

echo "requests $requests ($server, wrk -t2 -c$connections -d${seconds}s, perf attached)"
awk -F, -v requests="$requests" '/sys_enter_/ {
    name = $3; sub(/.*sys_enter_/, "", name)
    if ($1 + 0 > 0) printf "%s %.3f\n", name, $1 / requests
}' "$work/perf"

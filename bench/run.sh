#!/usr/bin/env bash
# bench/run.sh: every server through every case, interleaved, several rounds;
# then the table of medians (bench/report.lua).  See bench/README.md.
#
#   bench/run.sh [--quick] [--rounds N] [--secs S] [--servers a,b] [--cases x,y]
#
# Environment: LNET=path/to/lnet (default: a release build made here, in
# $OUT/lnet-build), OUT=dir for binaries and results (default /tmp/lnet-bench).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
OUT=${OUT:-/tmp/lnet-bench}
quick=0
rounds=3
secs=2
warm=0.5
servers_arg=""
cases_arg=""

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --rounds) rounds=$2; shift ;;
    --secs) secs=$2; shift ;;
    --servers) servers_arg=$2; shift ;;
    --cases) cases_arg=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done

# Quick mode: one round of the 50-connection cases, short windows, fewer
# idle connections: under a minute, to check that everything still works
# and to see large changes.
idle_n=10000
if [ $quick = 1 ]; then
  rounds=1
  secs=0.6
  warm=0.2
  idle_n=2000
fi

mkdir -p "$OUT"
make -s -C "$here" O="$OUT"

if [ -z "${LNET:-}" ]; then
  if [ ! -d "$OUT/lnet-build" ]; then
    meson setup "$OUT/lnet-build" "$top" -Dbuildtype=release >/dev/null
  fi
  ninja -C "$OUT/lnet-build" >/dev/null
  LNET=$OUT/lnet-build/lnet
fi

# name -> command line (port 0: the server prints the one it got)
declare -A cmd=(
  [lnet-pipe]="$LNET $here/servers/lnet-pipe.lua 0"
  [lnet-data]="$LNET $here/servers/lnet-data.lua 0"
  [node-pipe]="node $here/servers/node-pipe.js 0"
  [node-data]="node $here/servers/node-data.js 0"
  [luv]="lua5.4 $here/servers/luv-echo.lua 0"
  [uv-c]="$OUT/uv-echo 0"
)
servers=(lnet-pipe lnet-data node-pipe node-data luv uv-c)
if ! lua5.4 -e 'require("luv")' 2>/dev/null; then
  echo "run.sh: no luv for Lua 5.4 (apt-get install lua-luv): skipping it" >&2
  servers=(lnet-pipe lnet-data node-pipe node-data uv-c)
fi
[ -n "$servers_arg" ] && IFS=, read -ra servers <<<"$servers_arg"

# case -> loadgen arguments.  "1cpu" cases run server and load generator
# on the same CPU (the issue's 1-connection ping-pong: on a VM, a wake-up
# across CPUs costs more than the round trip itself).
declare -A args=(
  [echo-64-c1]="echo -c 1 -s 64 -d 16"
  [echo-64-c50]="echo -c 50 -s 64 -d 16"
  [echo-64-c1000]="echo -c 1000 -s 64 -d 16"
  [echo-4k-c1]="echo -c 1 -s 4096 -d 4"
  [echo-4k-c50]="echo -c 50 -s 4096 -d 4"
  [echo-4k-c1000]="echo -c 1000 -s 4096 -d 4"
  [echo-64k-c1]="echo -c 1 -s 65536 -d 2"
  [echo-64k-c50]="echo -c 50 -s 65536 -d 2"
  [echo-64k-c1000]="echo -c 1000 -s 65536 -d 2"
  [pingpong-c1-1cpu]="pingpong -c 1"
  [pingpong-c50]="pingpong -c 50"
  [pingpong-c1000]="pingpong -c 1000"
  [connect-k50]="connect -k 50"
  [idle]="idle -n $idle_n -k 100"
)
if [ $quick = 1 ]; then
  cases=(echo-64-c50 echo-4k-c50 pingpong-c1-1cpu connect-k50 idle)
else
  cases=(echo-64-c1 echo-64-c50 echo-64-c1000 echo-4k-c1 echo-4k-c50
         echo-4k-c1000 echo-64k-c1 echo-64k-c50 echo-64k-c1000
         pingpong-c1-1cpu pingpong-c50 pingpong-c1000 connect-k50 idle)
fi
[ -n "$cases_arg" ] && IFS=, read -ra cases <<<"$cases_arg"

# Two CPUs or more: load generator on CPU 0, server on CPU 1.
lg_pin=() srv_pin=() one_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  lg_pin=(taskset -c 0) srv_pin=(taskset -c 1) one_pin=(taskset -c 1)
fi

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
results=$OUT/results-$(date +%Y%m%d-%H%M%S).txt
: >"$results"
srv_pid=""
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; true' EXIT

start_server() {  # name pinning... -> sets srv_pid, port
  local name=$1; shift
  local pf=$OUT/port.$$
  : >"$pf"
  # shellcheck disable=SC2086
  "$@" ${cmd[$name]} >"$pf" 2>"$OUT/server.err" &
  srv_pid=$!
  local i
  for i in $(seq 200); do
    port=$(head -n1 "$pf" 2>/dev/null || true)
    [ -n "$port" ] && return 0
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "run.sh: server $name did not start:" >&2
  cat "$OUT/server.err" >&2
  exit 1
}

stop_server() {
  kill "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true
  srv_pid=""
}

total=$(( rounds * ${#cases[@]} * ${#servers[@]} ))
n=0
for r in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    # Rotate the server order each round: no server always runs first.
    k=${#servers[@]}
    for j in $(seq 0 $((k - 1))); do
      s=${servers[$(( (j + r - 1) % k ))]}
      n=$((n + 1))
      pin=("${srv_pin[@]}") lpin=("${lg_pin[@]}")
      case $c in *-1cpu) pin=("${one_pin[@]}") lpin=("${one_pin[@]}") ;; esac
      start_server "$s" "${pin[@]}"
      # shellcheck disable=SC2086
      if line=$("${lpin[@]}" "$OUT/loadgen" ${args[$c]} -p "$port" \
                -t "$secs" -w "$warm" -P "$srv_pid" 2>"$OUT/loadgen.err"); then
        echo "round=$r case=$c server=$s $line" >>"$results"
        printf '\r[%d/%d] %-18s %-10s' "$n" "$total" "$c" "$s" >&2
      else
        echo >&2
        echo "run.sh: $c on $s failed: $(cat "$OUT/loadgen.err")" >&2
        echo "round=$r case=$c server=$s failed=1" >>"$results"
      fi
      stop_server
    done
  done
done
echo >&2
echo "results: $results" >&2
lua5.4 "$here/report.lua" "$results"

#!/usr/bin/env bash
# bench/profile.sh: where an lnet echo server's user-space time goes.
#
#   bench/profile.sh callgrind [SERVER] [SIZE] [SECS]
#   bench/profile.sh perf      [SERVER] [SIZE] [SECS]
#
# SERVER: lnet-pipe (default), lnet-data, luv or uv-c (the last two as
# baselines); SIZE: message size (default 4096).
#
# callgrind: instruction counts, stable on a noisy machine.  One connection,
# one message in flight (depth 1), so every read is exactly one message and
# "Ir per message" does not depend on how reads happen to batch.  Only the
# measured window is instrumented (callgrind_control -i on/off).
#
# perf: cpu-clock samples (no hardware counters on this VM) of the server
# under the 50-connection pipelined load of bench/run.sh, kernel included.
#
# Lua's internals (luaV_execute, luaH_*, luaC_*) are hidden symbols in
# Debian's liblua5.4.so.0; with LUA_DBG=dir holding a liblua5.4.so.0 built
# from the same Lua release with -g (see bench/README.md), the server runs
# on that instead and the profile names them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
OUT=${OUT:-/tmp/lnet-bench}
tool=${1:-callgrind}
server=${2:-lnet-pipe}
size=${3:-4096}
secs=${4:-}

make -s -C "$here" O="$OUT"
if [ -z "${LNET:-}" ]; then
  # Optimised as release, with symbols for the annotations.
  if [ ! -d "$OUT/lnet-prof" ]; then
    meson setup "$OUT/lnet-prof" "$top" -Dbuildtype=release -Dc_args=-g \
      >/dev/null
  fi
  ninja -C "$OUT/lnet-prof" >/dev/null
  LNET=$OUT/lnet-prof/lnet
fi
env=()
[ -n "${LUA_DBG:-}" ] && env=(env "LD_LIBRARY_PATH=$LUA_DBG")
case $server in
  lnet-*) srv=("$LNET" "$here/servers/$server.lua" 0) ;;
  luv) srv=(lua5.4 "$here/servers/luv-echo.lua" 0) ;;
  uv-c) srv=("$OUT/uv-echo" 0) ;;
  *) echo "profile.sh: unknown server $server" >&2; exit 1 ;;
esac

pin_srv=() pin_lg=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_srv=(taskset -c 1) pin_lg=(taskset -c 0)
fi

pf=$OUT/prof-port.$$
tag=$server-$size
wait_port() {
  local i
  for i in $(seq 600); do
    port=$(head -n1 "$pf" 2>/dev/null || true)
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "profile.sh: the server did not start" >&2
  exit 1
}

case $tool in
  callgrind)
    secs=${secs:-5}
    out=$OUT/callgrind.$tag.out
    rm -f "$out"
    "${env[@]}" valgrind --tool=callgrind --instr-atstart=no \
      --callgrind-out-file="$out" \
      "${srv[@]}" >"$pf" 2>"$OUT/valgrind.err" &
    pid=$!
    wait_port
    callgrind_control -i on "$pid" >/dev/null
    line=$("$OUT/loadgen" echo -c 1 -d 1 -s "$size" -t "$secs" -w 0 -p "$port")
    callgrind_control -i off "$pid" >/dev/null
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    msgs=$(sed -n 's/.* msgs=\([0-9]*\).*/\1/p' <<<"$line")
    ir=$(callgrind_annotate "$out" 2>/dev/null |
         sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    echo "$line"
    echo "callgrind: $ir Ir over $msgs messages: $(( ir / msgs )) Ir/message"
    echo "profile: $out (callgrind_annotate --inclusive=yes $out)"
    callgrind_annotate "$out" 2>/dev/null | sed -n '1,60p' |
      grep -E '^ *[0-9,]+ ' | head -40
    ;;
  perf)
    secs=${secs:-5}
    out=$OUT/perf.$tag.data
    "${env[@]}" "${pin_srv[@]}" "${srv[@]}" >"$pf" &
    pid=$!
    wait_port
    depth=4
    [ "$size" -le 64 ] && depth=16
    "${pin_lg[@]}" "$OUT/loadgen" echo -c 50 -d "$depth" -s "$size" \
      -t "$secs" -w 0.5 -P "$pid" -p "$port" &
    lg=$!
    sleep 0.5
    perf record -e cpu-clock -F 4999 -g -p "$pid" -o "$out" \
      -- sleep "$secs" 2>/dev/null >/dev/null
    wait "$lg"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    perf report -i "$out" --no-children -g none --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -45
    ;;
  *)
    echo "usage: profile.sh callgrind|perf [lnet-pipe|lnet-data] [SIZE] [SECS]" >&2
    exit 1
    ;;
esac
rm -f "$pf"

#!/usr/bin/env bash
# bench-idle.sh [BIN]: idle cost of timebridge with its window hidden (issue 9).
#
# Run it under a desktop (`make bench-idle` does: .ci/with-desktop.sh .ci/bench-idle.sh
# bin/timebridge). It starts a minimal StatusNotifierWatcher (.ci/snwatcher) so that
# a tray exists and `--autostart` can start hidden, and the Bitrix24 + TimeLog
# emulators (.ci/benchemu) in their own process. timebridge is signed in to them
# (webhook + TimeLog token, in with-desktop's throw-away keyring) and synced once
# with `sync --once`: not signed in, it opens its window by design ("the window
# opens by itself only when the user must act"), so TIMEBRIDGE_KEYRING=memory
# (secrets for one process) cannot give a hidden window. Then, one after the other:
#   timebridge  BIN --autostart, fresh TIMEBRIDGE_HOME, HOME and XDG_CONFIG_HOME
#   baretray    .ci/baretray: a Fyne app that only sets a tray icon and menu
#   baretray+window  the same with a never-shown window holding one label
# Each one settles for BENCH_SETTLE seconds (10; timebridge runs its start-up sync
# cycle then), then for BENCH_WINDOW seconds (30) the script reads utime+stime from
# /proc/PID/stat and VmRSS every second. It prints a Markdown table: CPU seconds
# in the settle time and in the window, CPU % of one core in the window, RSS at the
# end and its mean, peak RSS (VmHWM), threads, and mean RSS relative to baretray.
# The programs are built to binaries first (not `go run`), so that PID is the app.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin/timebridge}
settle=${BENCH_SETTLE:-10}
window=${BENCH_WINDOW:-30}
go=${GO:-go}

if [[ -z ${DISPLAY:-} || -z ${DBUS_SESSION_BUS_ADDRESS:-} ]]; then
  echo "bench-idle: needs a display and a session bus: run it as .ci/with-desktop.sh $0 $*" >&2
  exit 2
fi
[[ -x $bin ]] || { echo "bench-idle: $bin not found (make build)" >&2; exit 2; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Same build flags as `make build`: the Fyne packages come from the cache.
mkdir -p "$tmp/bin"
"$go" build -o "$tmp/bin/baretray" .ci/baretray/main.go
"$go" build -o "$tmp/bin/snwatcher" .ci/snwatcher/main.go
"$go" build -o "$tmp/bin/benchemu" .ci/benchemu/main.go

"$tmp/bin/snwatcher" >"$tmp/snwatcher.out" 2>"$tmp/snwatcher.err" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/snwatcher.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$tmp/snwatcher.out" || { cat "$tmp/snwatcher.err" >&2; echo "bench-idle: no StatusNotifierWatcher" >&2; exit 1; }

"$tmp/bin/benchemu" >"$tmp/benchemu.out" 2>"$tmp/benchemu.err" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/benchemu.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$tmp/benchemu.out" || { cat "$tmp/benchemu.err" >&2; echo "bench-idle: the emulators did not start" >&2; exit 1; }
B24_WEBHOOK= TL_URL= TL_TOKEN=
source <(grep '^[A-Z0-9_]*=' "$tmp/benchemu.out")

# appenv NAME CMD...: CMD with the per-program home directories (exec'd by env,
# so that in "appenv NAME CMD &" in a subshell that execs, $! is CMD's PID).
appenv() {
  local name=$1; shift
  mkdir -p "$tmp/run-$name/home" "$tmp/run-$name/xdg"
  exec env HOME="$tmp/run-$name" XDG_CONFIG_HOME="$tmp/run-$name/xdg" TIMEBRIDGE_HOME="$tmp/run-$name/home" \
    TIMEBRIDGE_KEYRING= LANG="${LANG:-en_US.UTF-8}" "$@"
}
{
  (appenv timebridge "$bin" config set bitrix24.webhook "$B24_WEBHOOK")
  (appenv timebridge "$bin" config set trackers timelog)
  (appenv timebridge "$bin" config set timelog.api_url "$TL_URL")
  (appenv timebridge "$bin" config set sync.default_project "Website relaunch")
  printf '%s\n' "$TL_TOKEN" | (appenv timebridge "$bin" authorize timelog)
  (appenv timebridge "$bin" sync --once)
} >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; echo "bench-idle: signing timebridge in to the emulators failed" >&2; exit 1; }

hz=$(getconf CLK_TCK)
# ticks PID: utime+stime in clock ticks (fields 14 and 15; the name may hold spaces).
ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; awk '{ print $12 + $13 }' <<<"$s"; }
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

declare -A cpu0 cpu cpupct rss rssmean hwm thr anon file
measure() { # NAME CMD...
  local name=$1; shift
  (appenv "$name" "$@") >"$tmp/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  sleep 0.2
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$1")" ]] ||
    { echo "bench-idle: PID $pid is not $1" >&2; exit 1; }
  sleep "$settle"
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; echo "bench-idle: $name exited during the settle time" >&2; exit 1; }
  local t0 t1 sum=0 n=0 r
  t0=$(ticks "$pid")
  for _ in $(seq "$window"); do
    sleep 1
    r=$(status "$pid" VmRSS)
    sum=$((sum + r)); n=$((n + 1))
  done
  t1=$(ticks "$pid")
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; echo "bench-idle: $name exited during the window" >&2; exit 1; }
  cpu0[$name]=$(awk -v d="$t0" -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }')
  cpu[$name]=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }')
  cpupct[$name]=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v w="$window" 'BEGIN { printf "%.2f", 100 * d / hz / w }')
  rss[$name]=$(status "$pid" VmRSS)
  rssmean[$name]=$((sum / n))
  hwm[$name]=$(status "$pid" VmHWM)
  thr[$name]=$(status "$pid" Threads)
  anon[$name]=$(status "$pid" RssAnon)
  file[$name]=$(status "$pid" RssFile)
  if [[ $name == timebridge ]] && command -v xdotool >/dev/null; then
    # Hidden means no mapped window of ours (Fyne names it "timebridge").
    visible=$(xdotool search --onlyvisible --name '^timebridge$' 2>/dev/null | wc -l || true)
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

measure timebridge "$bin" --autostart
measure baretray "$tmp/bin/baretray"
measure baretray+window "$tmp/bin/baretray" -hidden-window

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "idle over ${window} s after ${settle} s settling; $(nproc) cores, $("$go" env GOVERSION), clock ${hz} Hz"
echo "timebridge windows visible: ${visible:-unknown}; tray items registered: $(grep -c registered "$tmp/snwatcher.err" || true)"
echo
echo "| program | CPU s, first ${settle} s | CPU s, next ${window} s | CPU % | RSS MiB (end) | RSS MiB (mean) | anon / file MiB | peak RSS MiB | threads | RSS vs baretray |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in timebridge baretray baretray+window; do
  rel=$(awk -v a="${rssmean[$n]}" -v b="${rssmean[baretray]}" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }')
  echo "| $n | ${cpu0[$n]} | ${cpu[$n]} | ${cpupct[$n]} | $(mib "${rss[$n]}") | $(mib "${rssmean[$n]}") | $(mib "${anon[$n]}") / $(mib "${file[$n]}") | $(mib "${hwm[$n]}") | ${thr[$n]} | $rel |"
done

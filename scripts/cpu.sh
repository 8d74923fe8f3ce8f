#!/usr/bin/env bash
# CPU of the dashboard, idle or during a 50-packet/s call: the demo peer runs as its own
# process, the dashboard runs in tmux at 80x24, and the client's utime+stime is read from
# /proc over SECS seconds.  Usage: scripts/cpu.sh [idle|call] [SECS]   (after cargo build --release;
# BIN=path measures another build; PERF=file also records a perf profile of the client
# over the same seconds; the per-thread split and voluntary context switches are printed)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/sipdeck}
MODE=${1:-idle}; SECS=${2:-20}
PORT=$((20000 + RANDOM % 20000))
DIR=$(mktemp -d)
"$BIN" demo-server --listen 127.0.0.1:$PORT >/dev/null 2>&1 & SRV=$!
SOCK=$DIR/tmux; S=cpu$$
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; kill $SRV 2>/dev/null || true; rm -rf "$DIR"' EXIT
until (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do sleep 0.1; done
tmux -S "$SOCK" new-session -d -s $S -x 80 -y 24 -c "$DIR" "$BIN --url ws://127.0.0.1:$PORT"
until tmux -S "$SOCK" capture-pane -p -t $S | grep -q connected; do sleep 0.1; done
PID=$(tmux -S "$SOCK" display -p -t $S '#{pane_pid}')
if [ "$MODE" = call ]; then
  tmux -S "$SOCK" send-keys -t $S 1
  until tmux -S "$SOCK" capture-pane -p -t $S | grep -q "in call with"; do sleep 0.1; done
fi
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
switches() { awk '/^voluntary_ctxt_switches/ {n += $2} END {print n}' /proc/$1/task/*/status; }
threads() { for t in /proc/$1/task/*; do printf '%s=%s ' "$(cat $t/comm)" "$(awk '{print $14+$15}' $t/stat)"; done; }
a=$(ticks $PID); wa=$(switches $PID); ta=$(threads $PID)
if [ -n "${PERF:-}" ]; then perf record -q -F 499 -g -p $PID -o "$PERF" -- sleep "$SECS" >/dev/null 2>&1; else sleep "$SECS"; fi
b=$(ticks $PID); wb=$(switches $PID)
echo "threads (ticks) before: $ta"; echo "threads (ticks) after:  $(threads $PID)"
echo "voluntary context switches: $(( (wb - wa) / SECS ))/s"
HZ=$(getconf CLK_TCK)
awk -v t=$((b-a)) -v hz=$HZ -v s=$SECS -v m=$MODE 'BEGIN { printf "%s: %.2f %% of a core (%d ticks in %d s)\n", m, 100*t/hz/s, t, s }'

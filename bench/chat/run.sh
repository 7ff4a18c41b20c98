#!/usr/bin/env bash
# Chat benchmark: acknowledged messages per second from one sockit chat to
# another (window 64, SENDMSG|SENDCHECKOPT answered by RECVMSG), timed from
# the sender's start to its exit, which comes after the last `delivered`.
#  1. loopback (127.0.0.1)
#  2. two network namespaces over a veth pair, 20% of datagrams dropped each
#     way (iptables statistic; this kernel has no netem). Needs root; skipped
#     with a note otherwise.
# Environment: SOCKIT (default build/release/sockit), N messages (20000),
# ROUNDS (3). Prints one line per round and the median.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOCKIT=${SOCKIT:-$ROOT/build/release/sockit}
N=${N:-20000}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
ns_a=sockit-bench-a$$ ns_b=sockit-bench-b$$
cleanup() {
  [ -n "${bob_pid:-}" ] && kill "$bob_pid" 2>/dev/null || true
  [ -n "${hold_pid:-}" ] && kill "$hold_pid" 2>/dev/null || true
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
seq -f 'benchmark message %g, a line of ordinary chat length' "$N" >"$work/messages"

# one_round PREFIX_A PREFIX_B LISTEN_A LISTEN_B: prints messages/s.
one_round() {
  local pa=$1 pb=$2 la=$3 lb=$4
  mkfifo "$work/bob.in"
  sleep 1000 >"$work/bob.in" & hold_pid=$!
  $pb "$SOCKIT" chat --listen "$lb" --name bob <"$work/bob.in" >"$work/bob.out" & bob_pid=$!
  for _ in $(seq 100); do grep -q '^listening' "$work/bob.out" 2>/dev/null && break; sleep 0.05; done
  local bob_addr; bob_addr=$(awk '/^listening/{print $2; exit}' "$work/bob.out")
  local start end
  start=$(date +%s.%N)
  $pa "$SOCKIT" chat --listen "$la" --name alice --to "$bob_addr" --timeout 30 <"$work/messages" >"$work/alice.out"
  end=$(date +%s.%N)
  local delivered; delivered=$(grep -c '^delivered ' "$work/alice.out" || true)
  kill "$hold_pid" 2>/dev/null || true; wait "$bob_pid" 2>/dev/null || true
  local shown; shown=$(grep -c '^received ' "$work/bob.out" || true)
  bob_pid='' hold_pid=''
  rm -f "$work/bob.in"
  [ "$delivered" = "$N" ] && [ "$shown" = "$N" ] || { echo "chat: delivered $delivered, shown $shown of $N" >&2; exit 1; }
  awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", n / (e - s) }'
}

rounds() {
  local label=$1; shift
  local results=()
  for r in $(seq "$ROUNDS"); do
    local rate; rate=$(one_round "$@")
    echo "chat $label round $r: $rate acknowledged messages/s ($N messages)"
    results+=("$rate")
  done
  printf '%s\n' "${results[@]}" | sort -n | awk -v l="$label" '{a[NR]=$1} END {print "chat " l " median: " a[int((NR+1)/2)] " messages/s"}'
}

rounds loopback "" "" 127.0.0.1:0 127.0.0.1:0

if [ "$(id -u)" -ne 0 ]; then
  echo "chat lossy: skipped (needs root for network namespaces)"
  exit 0
fi
ip netns add "$ns_a"; ip netns add "$ns_b"
ip link add scba$$ netns "$ns_a" type veth peer name scbb$$ netns "$ns_b"
for spec in "$ns_a scba$$ 10.78.0.1/24" "$ns_b scbb$$ 10.78.0.2/24"; do
  set -- $spec
  ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" link set "$2" up; ip -n "$1" link set lo up
  ip netns exec "$1" iptables -A OUTPUT -o "$2" -p udp -m statistic --mode random --probability 0.2 -j DROP
done
rounds "20% loss each way" "ip netns exec $ns_a" "ip netns exec $ns_b" 10.78.0.1:2425 10.78.0.2:2425

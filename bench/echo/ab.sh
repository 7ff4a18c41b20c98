#!/usr/bin/env bash
# Paired A/B of two sockit binaries on the echo benchmark: both servers run
# at once, and at every point of every round the two take turns, so a slow
# phase of the machine hits both alike. For judging one change; the full
# comparison with the other servers is run.sh.
#
#   bash bench/echo/ab.sh OLD_SOCKIT NEW_SOCKIT [ROUNDS]
#   POINTS="pingpong 16384 1000;rr 64 100" bash bench/echo/ab.sh ...   (only those points)
#
# Prints one line per run ("old|new MODE b=BLOCK n=CONNS RESULT...") and, per
# point, the ratio new/old of the medians. Needs build/bench/loadgen (run.sh
# builds it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
old=${1:?usage: ab.sh OLD_SOCKIT NEW_SOCKIT [ROUNDS]}
new=${2:?usage: ab.sh OLD_SOCKIT NEW_SOCKIT [ROUNDS]}
rounds=${3:-3}
loadgen=$top/build/bench/loadgen
[ -x "$loadgen" ] || { echo "ab.sh: $loadgen missing: run bench/echo/run.sh once" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for side in old new; do
  "${!side}" echo serve --tcp 127.0.0.1:0 --print-address --max-connections 20000 --max-per-ip 20000 \
    --log-level warn >"$tmp/$side.addr" 2>/dev/null &
  pids+=($!)
  echo $! >"$tmp/$side.pid"
done
sleep 0.5
# POINTS="pingpong 16384 1000;rr 64 100" measures only those points.
if [ -n "${POINTS:-}" ]; then
  IFS=';' read -ra points <<<"$POINTS"
else
  points=("pingpong 16384 1000" "pingpong 4096 1000" "rr 64 1000" "pingpong 16384 100" "pingpong 4096 100"
          "rr 64 100" "pingpong 16384 10" "rr 64 10")
fi
for round in $(seq 1 "$rounds"); do
  for point in "${points[@]}"; do
    read -r mode block conns <<<"$point"
    for side in old new; do
      result=$("$loadgen" "$mode" "$(head -1 "$tmp/$side.addr")" -c "$conns" -b "$block" -d 2 -w 0.3 \
                 -p "$(cat "$tmp/$side.pid")" | grep '^RESULT')
      echo "$side $mode b=$block n=$conns $result" | tee -a "$tmp/results"
    done
  done
done
echo
echo "new / old, medians of $rounds rounds (MiB/s or round trips/s):"
awk '{ key = $2 " b=" substr($3, 3) " n=" substr($4, 3); v = $6; sub(/^[a-z]+=/, "", v)
       vals[$1 SUBSEP key] = vals[$1 SUBSEP key] " " v; keys[key] = 1 }
     function median(list,   n, a, i, j, t) { n = split(list, a, " ")
       for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
       return a[int((n + 1) / 2)] }
     END { for (k in keys) { o = median(vals["old" SUBSEP k]); w = median(vals["new" SUBSEP k])
           printf "  %-24s old %10.1f  new %10.1f  %.2fx\n", k, o, w, w / o } }' "$tmp/results" | sort

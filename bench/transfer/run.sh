#!/usr/bin/env bash
# sockit's file transfer benchmark: `sockit send` / `sockit recv` against
# iperf3, nc, socat and tar | nc, in the same run, on tmpfs over loopback.
#
#   bash bench/transfer/run.sh
#
# Everything lives in a temporary directory on /dev/shm (tmpfs): the source
# files, the received copies, and nothing touches a disk. Two tests:
#
#   1. one file of SIZE random bytes (2 GiB), MB/s (10^6 bytes per second):
#        sockit         sockit recv --listen 127.0.0.1:0 --dir OUT  /  sockit send ADDR FILE
#                       (the default end-to-end xxh3 check on)
#        sockit-sha256  the same with `sockit send --checksum sha256`
#        iperf3         iperf3 -s -1  /  iperf3 -c -F FILE (reads the file, the
#                       server discards it: the ceiling). Two figures: iperf3's
#                       own (its receiver's bytes/s, used for the goal) and the
#                       wall time measured like the others.
#        nc             nc -l 127.0.0.1 PORT > OUT  /  nc -N 127.0.0.1 PORT < FILE
#                       (netcat-openbsd)
#        socat          socat -u -b 131072 TCP-LISTEN:PORT OPEN:OUT,creat,trunc  /
#                       socat -u -b 131072 OPEN:FILE TCP:127.0.0.1:PORT
#        cat            a reference without network: cat FILE > OUT, what
#                       reading and writing tmpfs alone cost on this machine
#   2. a tree of FILES files of FILE_BYTES random bytes (10,000 of 4 KiB, 100
#      per directory), files/s and MB/s:
#        sockit         sockit send ADDR TREE
#        tar-nc         nc -l 127.0.0.1 PORT | tar x -C OUT  /  tar c TREE | nc -N 127.0.0.1 PORT
#
# A run is timed from the start of the sending command to the moment the
# receiver has exited (its output complete; sockit's renamed into place after
# the check). The receiver is started first and is listening before the clock
# starts. Each round runs every tool once; the order rotates from round to
# round; the median over rounds is reported with the ratio sockit / tool. The
# output is checked after every run (size, file count) and compared byte for
# byte (cmp, diff -r) in the first round, outside the timed part.
#
# CPU: user + system seconds of each side, from bash's `times` in the subshell
# that ran it (the side's processes, reaped). "other" is the CPU that neither
# side used during the run (from /proc/stat, in cores), "steal" the CPU the
# hypervisor took from this VM: a run that lost more than 0.15 cores to the
# two is measured again (BUSY_RETRIES times at most, BUSY_PAUSE s apart) and
# the least disturbed one is kept; a * marks a figure whose run stayed
# disturbed.
#
# Memory: in a VM whose balloon reports free pages to the host (virtio-balloon
# free page reporting), writing a file into tmpfs is slow when its pages were
# given back to the host (a host page fault for each) and fast when they were
# freed a moment ago: on the machine of docs/benchmarks.md 2 GiB took 4-4.7 s
# 10 s after the last delete and 0.7-1.2 s right after one. So that each tool
# starts from the same state, each timed run is preceded (untimed) by writing
# and deleting a ballast file of the size the run will write plus 256 MiB
# (PRIME=0 turns this off).
#
# Goals (issue): with the integrity check on, sockit >= 0.9x iperf3 and
# >= 1.0x nc on the big file; sockit >= 1.0x tar | nc on the small files.
#
# Environment:
#   SOCKIT=build/release/sockit  the binary under test
#   SIZE=2G        size of the big file (numfmt IEC: 2G = 2 GiB, 512M, or bytes)
#   FILES=10000    small files; FILE_BYTES=4096 each
#   ROUNDS=3       runs per tool and test; the median is reported
#   QUICK=1        smoke run: SIZE=256M, FILES=2000, ROUNDS=1
#   TOOLS="sockit sockit-sha256 iperf3 nc socat cat tar-nc"   a subset
#   BUSY_RETRIES=2 BUSY_PAUSE=5   see CPU above (BUSY_RETRIES=0 turns it off)
#   LIMIT=600      seconds after which a side is killed and the run fails
#   PRIME=1        the ballast write before each run (see Memory above)
#   PERF=1         afterwards, one more sockit run of each test under
#                  `perf record --call-graph dwarf` (sender and receiver apart):
#                  build/bench/perf-transfer-{big,small}-{send,recv}.{data,txt}
# Results: stdout, and build/bench/transfer-results.md (markdown tables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
mkdir -p "$OUT"

# The command line that reproduces this run (the knobs that were set).
CMDLINE=""
for v in SOCKIT QUICK SIZE FILES FILE_BYTES ROUNDS TOOLS BUSY_RETRIES PRIME PERF; do
  [ -n "${!v+x}" ] && CMDLINE+="$v=$(printf '%q' "${!v}") "
done
CMDLINE+="bash bench/transfer/run.sh"

SOCKIT=${SOCKIT:-build/release/sockit}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SIZE=${SIZE:-256M}; FILES=${FILES:-2000}; ROUNDS=${ROUNDS:-1}
fi
SIZE=${SIZE:-2G}
FILES=${FILES:-10000}
FILE_BYTES=${FILE_BYTES:-4096}
ROUNDS=${ROUNDS:-3}
TOOLS=${TOOLS:-"sockit sockit-sha256 iperf3 nc socat cat tar-nc"}
BUSY_RETRIES=${BUSY_RETRIES:-2}
BUSY_PAUSE=${BUSY_PAUSE:-5}
LIMIT=${LIMIT:-600}
PERF=${PERF:-0}
PRIME=${PRIME:-1}

die() { echo "bench/transfer: $*" >&2; exit 1; }
log() { echo "bench/transfer: $*" >&2; }

BYTES=$(numfmt --from=iec "$SIZE" 2>/dev/null) || die "SIZE=$SIZE is not a size (2G, 512M, 1048576)"
[ "$BYTES" -gt 0 ] || die "SIZE must be > 0"
if [ "$FILES" -le 0 ] || [ "$FILE_BYTES" -lt 0 ]; then die "FILES must be > 0 and FILE_BYTES >= 0"; fi
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be >= 1"

# ---- the tools ----
BIG_TOOLS=(); SMALL_TOOLS=()
for t in $TOOLS; do
  case $t in
    sockit) BIG_TOOLS+=(sockit); SMALL_TOOLS+=(sockit) ;;
    sockit-sha256 | iperf3 | nc | socat | cat) BIG_TOOLS+=("$t") ;;
    tar-nc) SMALL_TOOLS+=("$t") ;;
    *) die "unknown tool '$t' in TOOLS (known: sockit sockit-sha256 iperf3 nc socat cat tar-nc)" ;;
  esac
done
need() { command -v "$1" >/dev/null || die "$1 not found (scripts/install-deps bench installs $2)"; }
uses() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
need python3 python3
need ss iproute2
need numfmt coreutils
if uses sockit || uses sockit-sha256; then
  [ -x "$SOCKIT" ] || die "$SOCKIT not found: run 'make build' first (or TOOLS without sockit)"
  "$SOCKIT" send --help 2>&1 | grep -q -- '--checksum' \
    || die "$SOCKIT has no 'send' subcommand with --checksum: build one that has"
fi
if uses nc || uses tar-nc; then
  need nc netcat-openbsd
  nc -h 2>&1 | grep -q OpenBSD || die "nc is not netcat-openbsd (its -N is needed)"
fi
uses iperf3 && need iperf3 iperf3
uses socat && need socat socat
uses tar-nc && need tar tar
[ "$PERF" = 1 ] && need perf linux-perf

TREE_BYTES=$(( FILES * FILE_BYTES ))
avail=$(df --output=avail -B1 /dev/shm | tail -1 | tr -d ' ')
want=$(( 2 * BYTES + 2 * TREE_BYTES + FILES * 8192 + 256 * 1024 * 1024 ))
[ "$avail" -gt "$want" ] \
  || die "/dev/shm has $avail bytes free; a $SIZE file and its copy need $want (set SIZE lower)"

TMP=$(mktemp -d /dev/shm/sockit-bench-transfer.XXXXXX)
OUTD=$TMP/out
RECV_PID=""; SEND_PID=""   # the sides of the run in progress

descendants() { # pid -> its descendants, deepest first
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done
}
stop_tree() { # pid: TERM to it and its descendants, KILL after 2 s
  local p=$1 d
  kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
  d=$(descendants "$p")
  # shellcheck disable=SC2086  # a list of pids
  kill -TERM $d "$p" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  # shellcheck disable=SC2086
  kill -KILL $d "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  [ -n "$SEND_PID" ] && stop_tree "$SEND_PID"
  [ -n "$RECV_PID" ] && stop_tree "$RECV_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HZ=$(getconf CLK_TCK)
busy_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $9}' /proc/stat; }  # busy, steal
# CPU busy share (percent) over one second, to flag a machine that is not quiet
cpu_busy() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; printf "%d", (busy + idle) ? 100 * busy / (busy + idle) : 0 }'
}
times_cpu() { # file written by `times` -> user+sys seconds of the children
  [ -s "$1" ] || { echo 0; return; }
  sed -n 2p "$1" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the data ----
BIG=$TMP/big.bin
WARM=$TMP/warm.bin
TREE=$TMP/tree
WARMTREE=$TMP/warmtree
log "writing $BYTES random bytes to $BIG"
head -c "$BYTES" /dev/urandom >"$BIG"
head -c $(( BYTES < 67108864 ? BYTES : 67108864 )) "$BIG" >"$WARM"
make_tree() { # dir nfiles bytes: 100 files per directory, 10 directories per parent
  python3 - "$@" <<'EOF'
import os, sys
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i // 1000), "d%02d" % (i // 100 % 10))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.bin" % i), "wb") as f:
        f.write(os.urandom(size))
EOF
}
log "writing $FILES files of $FILE_BYTES bytes to $TREE"
make_tree "$TREE" "$FILES" "$FILE_BYTES"
make_tree "$WARMTREE" 200 "$FILE_BYTES"

# ---- one run: receiver, then sender, timed ----
# do_recv tool port: the receiving side, in the foreground (run in a subshell)
do_recv() {
  local t=$1 port=$2
  case $t in
    sockit | sockit-sha256)
      timeout "$LIMIT" "${PERF_RECV[@]}" "$SOCKIT" recv --listen 127.0.0.1:0 --print-address --dir "$OUTD" -q \
        >"$TMP/recv.out" 2>"$TMP/recv.err" </dev/null ;;
    iperf3) timeout "$LIMIT" iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$TMP/recv.out" 2>"$TMP/recv.err" </dev/null ;;
    nc) timeout "$LIMIT" nc -l 127.0.0.1 "$port" >"$OUTD/$DST" 2>"$TMP/recv.err" </dev/null ;;
    socat)
      timeout "$LIMIT" socat -u -b 131072 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "OPEN:$OUTD/$DST,creat,trunc" \
        >"$TMP/recv.out" 2>"$TMP/recv.err" </dev/null ;;
    tar-nc)
      timeout "$LIMIT" nc -l 127.0.0.1 "$port" </dev/null 2>"$TMP/recv.err" \
        | timeout "$LIMIT" tar x -C "$OUTD" 2>>"$TMP/recv.err" ;;
    cat) : ;;  # no receiver: the sender writes the copy
  esac
}
# do_send tool path target: the sending side (target: HOST:PORT for sockit, else the port)
do_send() {
  local t=$1 src=$2 target=$3
  case $t in
    sockit) timeout "$LIMIT" "${PERF_SEND[@]}" "$SOCKIT" send -q "$target" "$src" ;;
    sockit-sha256) timeout "$LIMIT" "${PERF_SEND[@]}" "$SOCKIT" send -q --checksum sha256 "$target" "$src" ;;
    iperf3) timeout "$LIMIT" iperf3 -c 127.0.0.1 -p "$target" -F "$src" -J >"$TMP/iperf.json" ;;
    nc) timeout "$LIMIT" nc -N 127.0.0.1 "$target" <"$src" ;;
    socat) timeout "$LIMIT" socat -u -b 131072 "OPEN:$src" "TCP:127.0.0.1:$target" ;;
    tar-nc) tar c -C "$(dirname "$src")" "$(basename "$src")" | timeout "$LIMIT" nc -N 127.0.0.1 "$target" ;;
    cat) timeout "$LIMIT" cat "$src" >"$OUTD/$DST" ;;
  esac >"$TMP/send.out" 2>"$TMP/send.err" </dev/null
}
# PERF=1 sets these to a `perf record ... --` prefix of the sockit commands
PERF_SEND=(); PERF_RECV=()

wait_ready() { # tool port pid -> sets TARGET; 0 when the receiver listens
  local t=$1 port=$2 p=$3 line
  for _ in $(seq 500); do
    case $t in
      sockit*)
        line=$(grep -m1 '^tcp://' "$TMP/recv.out" 2>/dev/null || true)
        [ -n "$line" ] && { TARGET=${line#tcp://}; return 0; } ;;
      cat) TARGET=none; return 0 ;;
      *)
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && { TARGET=$port; return 0; } ;;
    esac
    kill -0 "$p" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# measure kind tool src verify: one timed run -> RESULT="RESULT k=v ..."; fails
# (its reasons on stderr) when a side failed or the output is wrong. Runs in
# the main shell (not in $(...)), so that cleanup can stop its sides.
measure() {
  local kind=$1 t=$2 src=$3 verify=$4 port a b ta tb t0 t1 src_rc rcv_rc attempt cs cr secs other steal ready=0
  local name; name=$(basename "$src")
  RESULT=""
  DST=$name
  for attempt in 1 2 3; do
    rm -rf "$OUTD"; mkdir -p "$OUTD"
    rm -f "$TMP"/recv.* "$TMP"/send.* "$TMP/iperf.json"
    if [ "$PRIME" = 1 ]; then
      # memory freed a moment ago, not yet given back to the host (see Memory)
      local mib
      mib=$(( ($(du -sb "$src" | cut -f1) >> 20) + 256 ))
      dd if=/dev/zero of="$TMP/ballast" bs=1M count="$mib" status=none
      rm -f "$TMP/ballast"
    fi
    port=0
    case $t in sockit* | cat) ;; *) port=$(free_port) ;; esac
    a=$(busy_ticks); ta=$EPOCHREALTIME
    ( do_recv "$t" "$port" && rc=0 || rc=$?; times >"$TMP/recv.times"; exit "$rc" ) &
    RECV_PID=$!
    if wait_ready "$t" "$port" "$RECV_PID"; then ready=1; break; fi
    stop_tree "$RECV_PID"; RECV_PID=""
    log "$t: the receiver did not listen (attempt $attempt): $(tr '\n' ' ' <"$TMP/recv.err" 2>/dev/null)"
  done
  [ $ready = 1 ] || return 1
  t0=$EPOCHREALTIME
  ( do_send "$t" "$src" "$TARGET" && rc=0 || rc=$?; times >"$TMP/send.times"; exit "$rc" ) &
  SEND_PID=$!
  wait "$SEND_PID" && src_rc=0 || src_rc=$?
  SEND_PID=""
  if [ "$src_rc" != 0 ]; then
    # a sender that failed can leave the receiver waiting: a moment, then stop it
    for _ in $(seq 20); do kill -0 "$RECV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$RECV_PID" 2>/dev/null && stop_tree "$RECV_PID"
  fi
  wait "$RECV_PID" && rcv_rc=0 || rcv_rc=$?
  RECV_PID=""
  t1=$EPOCHREALTIME
  b=$(busy_ticks); tb=$EPOCHREALTIME
  if [ "$src_rc" != 0 ] || [ "$rcv_rc" != 0 ]; then
    log "$t $kind: sender exit $src_rc, receiver exit $rcv_rc"
    log "  sender: $(tr '\n' ' ' <"$TMP/send.err" 2>/dev/null | cut -c1-400)"
    log "  receiver: $(tr '\n' ' ' <"$TMP/recv.err" 2>/dev/null | cut -c1-400)"
    return 1
  fi
  cs=$(times_cpu "$TMP/send.times"); cr=$(times_cpu "$TMP/recv.times")
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  # other: cores that other processes used; steal: cores the hypervisor took
  read -r other steal < <(awk -v a="$a" -v b="$b" -v hz="$HZ" -v c="$cs" -v d="$cr" -v x="$ta" -v y="$tb" \
            'BEGIN { split(a, p, " "); split(b, q, " ")
                     o = ((q[1] - p[1]) / hz - c - d) / (y - x); if (o < 0) o = 0
                     printf "%.2f %.2f", o, (q[2] - p[2]) / hz / (y - x) }')

  # ---- the output, checked outside the timed part ----
  local own="" got want
  if [ "$t" = iperf3 ]; then
    # (its server's count can miss the last few KB that arrive after its
    # timer stopped; the client's count is the file's size)
    read -r got own < <(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
print(int(e["sum_sent"]["bytes"]), "%.1f" % (e["sum_received"]["bits_per_second"] / 8e6))' "$TMP/iperf.json") \
      || { log "iperf3: cannot read its JSON report"; return 1; }
    want=$(stat -c %s "$src")
    [ "$got" = "$want" ] || { log "iperf3: sent $got bytes, not $want"; return 1; }
  elif [ "$kind" = big ]; then
    [ -f "$OUTD/$name" ] || { log "$t: no $OUTD/$name after the run ($(find "$OUTD" -mindepth 1 -maxdepth 1 -printf '%f ')))"; return 1; }
    got=$(stat -c %s "$OUTD/$name"); want=$(stat -c %s "$src")
    [ "$got" = "$want" ] || { log "$t: received $got bytes, not $want"; return 1; }
    if [ "$verify" = 1 ]; then cmp -s "$src" "$OUTD/$name" || { log "$t: the received file differs"; return 1; }; fi
  else
    got=$(find "$OUTD/$name" -type f 2>/dev/null | wc -l); want=$(find "$src" -type f | wc -l)
    [ "$got" = "$want" ] || { log "$t: received $got files, not $want"; return 1; }
    if [ "$verify" = 1 ]; then diff -rq "$src" "$OUTD/$name" >/dev/null || { log "$t: the received tree differs"; return 1; }; fi
  fi
  rm -rf "$OUTD"
  RESULT="RESULT secs=$secs cpu_send=$cs cpu_recv=$cr other=$other steal=$steal own_mbps=$own"
}

field() { # "RESULT k=v ..." key -> v
  local k
  for k in $1; do case $k in "$2="*) echo "${k#*=}"; return ;; esac; done
  echo ""
}

# cores taken from the run by other processes and by the hypervisor (steal)
disturbance() { awk -v o="$(field "$1" other)" -v s="$(field "$1" steal)" 'BEGIN { printf "%.2f", o + s }'; }

# measure with retries while other processes (or the hypervisor) take the
# CPU; keeps the least disturbed run in RESULT
measure_quiet() { # kind tool src verify
  local r o retry
  measure "$@" || return 1
  r=$RESULT
  for ((retry = 0; retry < BUSY_RETRIES; retry++)); do
    o=$(disturbance "$r")
    awk -v o="$o" 'BEGIN { exit !(o + 0 > 0.15) }' || break
    log "$2 $1: other processes and steal took $o cores, measuring again in ${BUSY_PAUSE} s"
    sleep "$BUSY_PAUSE"
    measure "$1" "$2" "$3" 0 || return 1
    awk -v a="$(disturbance "$RESULT")" -v b="$o" 'BEGIN { exit !(a < b) }' && r=$RESULT
  done
  RESULT=$r
}

# ---- versions, for the record ----
ver() { "$@" 2>&1 | head -1 | tr -d '\r' || true; }
VERSIONS="sockit $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
uses iperf3 && VERSIONS+="; $(ver iperf3 --version | cut -d' ' -f1-2)"
{ uses nc || uses tar-nc; } && VERSIONS+="; nc $(dpkg-query -W -f='${Package} ${Version}' netcat-openbsd 2>/dev/null || echo '?')"
uses socat && VERSIONS+="; $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p' | head -1)"
uses tar-nc && VERSIONS+="; $(ver tar --version)"

BUSY=$(cpu_busy)
[ "$BUSY" -gt 15 ] && log "WARNING: the machine was ${BUSY}% busy before the run: other work skews these figures"

# ---- warm-up: every tool once, unmeasured (the binaries, the page cache) ----
for t in "${BIG_TOOLS[@]}"; do
  measure big "$t" "$WARM" 1 || die "$t: warm-up transfer of $WARM failed"
done
for t in "${SMALL_TOOLS[@]}"; do
  measure small "$t" "$WARMTREE" 1 || die "$t: warm-up transfer of $WARMTREE failed"
done

# ---- the measurements: each round every tool once, the first tool rotating ----
declare -A RES
started=$(date +%s)
for kind in big small; do
  if [ $kind = big ]; then tools=("${BIG_TOOLS[@]}"); src=$BIG; else tools=("${SMALL_TOOLS[@]}"); src=$TREE; fi
  n=${#tools[@]}
  [ "$n" -gt 0 ] || continue
  for ((round = 0; round < ROUNDS; round++)); do
    for ((k = 0; k < n; k++)); do
      t=${tools[$(( (round + k) % n ))]}
      verify=0; [ "$round" = 0 ] && verify=1
      measure_quiet "$kind" "$t" "$src" "$verify" || die "$t: the $kind transfer failed (round $((round + 1)))"
      r=$RESULT
      RES["$kind,$t,$round"]=$r
      log "$kind round $((round + 1)) $t: ${r#RESULT }"
      sleep 0.2
    done
  done
done
log "measured in $(( $(date +%s) - started )) s"
BUSY_AFTER=$(cpu_busy)
[ "$BUSY_AFTER" -gt 15 ] && log "WARNING: the machine was ${BUSY_AFTER}% busy right after the run: other work skews these figures"

# ---- figures ----
# value of a run: MB/s (big; iperf3-own: iperf3's own figure) or files/s (small)
value() { # kind tool round [own]
  local r=${RES["$1,$2,$3"]} secs
  secs=$(field "$r" secs)
  if [ "${4:-}" = own ]; then field "$r" own_mbps; return; fi
  if [ "$1" = big ]; then
    awk -v b="$BYTES" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }'
  else
    awk -v n="$FILES" -v s="$secs" 'BEGIN { printf "%.1f", n / s }'
  fi
}
median_round() { # kind tool [own] -> the round whose value is the median (lower median for even counts)
  local round
  for ((round = 0; round < ROUNDS; round++)); do echo "$(value "$1" "$2" "$round" "${3:-}") $round"; done \
    | sort -g | awk '{ r[NR] = $2 } END { print r[int((NR + 1) / 2)] }'
}
median() { # kind tool [own]
  local rd; rd=$(median_round "$@"); value "$1" "$2" "$rd" "${3:-}"
}
per_round() { # kind tool [own] -> "v1 / v2 / v3" in round order, * marks disturbed runs
  local round out="" r
  for ((round = 0; round < ROUNDS; round++)); do
    r=${RES["$1,$2,$round"]}
    out+="${out:+ / }$(value "$1" "$2" "$round" "${3:-}")$(awk -v o="$(disturbance "$r")" 'BEGIN { if (o + 0 > 0.15) print "*" }')"
  done
  echo "$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
verdict() { # ratio goal
  awk -v r="${1%x}" -v g="$2" 'BEGIN { if (r == "n/a" || r == "") print "n/a"; else if (r + 0 >= g) print "PASS"; else print "MISS" }'
}
has() { local x; for x in "${@:2}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
OTHER_MAX=$(for k in "${!RES[@]}"; do field "${RES[$k]}" other; done | sort -g | tail -1)
STEAL_MAX=$(for k in "${!RES[@]}"; do field "${RES[$k]}" steal; done | sort -g | tail -1)

MD=$OUT/transfer-results.md
{
  echo "Transfer benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r), tmpfs (/dev/shm) over loopback; CPU ${BUSY}% busy before the run and ${BUSY_AFTER}% right after it; during the kept runs other processes took at most ${OTHER_MAX:-0} cores and the hypervisor (steal) at most ${STEAL_MAX:-0} cores (a * marks a run disturbed by more than 0.15 cores); rounds ${ROUNDS} (median), the order of the tools rotating."
  echo "Versions: $VERSIONS."
  echo "Command: \`$CMDLINE\`"
  echo
  declare -A V=()
  if [ ${#BIG_TOOLS[@]} -gt 0 ]; then
    echo "One file of $BYTES random bytes ($SIZE), MB/s = 10^6 bytes/s from the start of the sender to the exit of the receiver; CPU = user + system seconds of each side (median run):"
    echo
    echo "| tool | MB/s (median) | per round | sender CPU s | receiver CPU s | sockit / tool |"
    echo "|---|---|---|---|---|---|"
    for t in "${BIG_TOOLS[@]}"; do
      V[$t]=$(median big "$t")
      [ "$t" = iperf3 ] && V[iperf3-own]=$(median big iperf3 own)
    done
    for t in "${BIG_TOOLS[@]}"; do
      rd=$(median_round big "$t"); r=${RES["big,$t,$rd"]}
      case $t in
        sockit) label="sockit (xxh3 check, default)" ;;
        sockit-sha256) label="sockit --checksum sha256" ;;
        iperf3) label="iperf3 -F (wall time)" ;;
        nc) label="nc (netcat-openbsd)" ;;
        socat) label="socat -b 131072" ;;
        cat) label="reference, no network: cat FILE > tmpfs" ;;
      esac
      if [ "$t" = iperf3 ]; then
        ro=$(median_round big iperf3 own); r2=${RES["big,iperf3,$ro"]}
        echo "| iperf3 -F (its own figure; the ceiling) | ${V[iperf3-own]} | $(per_round big iperf3 own) | $(field "$r2" cpu_send) | $(field "$r2" cpu_recv) | $(ratio "${V[sockit]:-}" "${V[iperf3-own]}") |"
      fi
      echo "| $label | ${V[$t]} | $(per_round big "$t") | $(field "$r" cpu_send) | $(field "$r" cpu_recv) | $(ratio "${V[sockit]:-}" "${V[$t]}") |"
    done
    echo
  fi
  if [ ${#SMALL_TOOLS[@]} -gt 0 ]; then
    echo "$FILES files of $FILE_BYTES random bytes in $(( (FILES + 99) / 100 )) directories, files/s (MB/s of file contents), timed the same way:"
    echo
    echo "| tool | files/s (median) | MB/s | per round (files/s) | sender CPU s | receiver CPU s | sockit / tool |"
    echo "|---|---|---|---|---|---|---|"
    for t in "${SMALL_TOOLS[@]}"; do V[small-$t]=$(median small "$t"); done
    for t in "${SMALL_TOOLS[@]}"; do
      rd=$(median_round small "$t"); r=${RES["small,$t,$rd"]}
      case $t in sockit) label="sockit (xxh3 check, default)" ;; tar-nc) label="tar c \\| nc -N  ->  nc -l \\| tar x" ;; esac
      mbps=$(awk -v b="$TREE_BYTES" -v s="$(field "$r" secs)" 'BEGIN { printf "%.1f", b / s / 1e6 }')
      echo "| $label | ${V[small-$t]} | $mbps | $(per_round small "$t") | $(field "$r" cpu_send) | $(field "$r" cpu_recv) | $(ratio "${V[small-sockit]:-}" "${V[small-$t]}") |"
    done
    echo
  fi
  echo "Goals (issue), integrity check on:"
  echo
  echo "| goal | sockit / peer | verdict |"
  echo "|---|---|---|"
  if has sockit "${BIG_TOOLS[@]}" && has iperf3 "${BIG_TOOLS[@]}"; then
    x=$(ratio "${V[sockit]}" "${V[iperf3-own]}"); xw=$(ratio "${V[sockit]}" "${V[iperf3]}")
    echo "| big file: sockit >= 0.9x iperf3 | $x (against iperf3's wall time: $xw) | $(verdict "$x" 0.9) |"
  fi
  if has sockit "${BIG_TOOLS[@]}" && has nc "${BIG_TOOLS[@]}"; then
    x=$(ratio "${V[sockit]}" "${V[nc]}")
    echo "| big file: sockit >= 1.0x nc | $x | $(verdict "$x" 1.0) |"
  fi
  if has sockit "${SMALL_TOOLS[@]}" && has tar-nc "${SMALL_TOOLS[@]}"; then
    x=$(ratio "${V[small-sockit]}" "${V[small-tar-nc]}")
    echo "| $FILES small files: sockit >= 1.0x tar \\| nc (files/s) | $x | $(verdict "$x" 1.0) |"
  fi
  echo
} >"$MD.tmp"
mv "$MD.tmp" "$MD"
echo
cat "$MD"
echo "(also written to $MD)"

# ---- PERF=1: one more sockit run of each test, each side under perf record ----
if [ "$PERF" = 1 ]; then
  for kind in big small; do
    if [ $kind = big ]; then has sockit "${BIG_TOOLS[@]}" || continue; src=$BIG
    else has sockit "${SMALL_TOOLS[@]}" || continue; src=$TREE; fi
    pre=(perf record --call-graph "dwarf,16384" -F 499 -q)
    PERF_SEND=("${pre[@]}" -o "$OUT/perf-transfer-$kind-send.data" --)
    PERF_RECV=("${pre[@]}" -o "$OUT/perf-transfer-$kind-recv.data" --)
    measure "$kind" sockit "$src" 0 || die "the perf run of sockit ($kind) failed"
    PERF_SEND=(); PERF_RECV=()
    log "perf run $kind (slowed by perf itself): ${RESULT#RESULT }"
    for side in send recv; do
      data=$OUT/perf-transfer-$kind-$side.data
      perf report -i "$data" --stdio --no-children --sort dso,symbol --percent-limit 0.5 -g none 2>/dev/null \
        | sed -e 's/ *- *- *$//' -e 's/ *$//' | grep -v '^$' >"$OUT/perf-transfer-$kind-$side.txt" \
        || log "perf report of $data failed"
      log "profile: $OUT/perf-transfer-$kind-$side.txt (call graphs: perf report -i $data)"
    done
  done
fi

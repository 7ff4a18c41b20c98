#!/usr/bin/env bash
# sockit's FTP server benchmark (issue 5): `sockit ftp serve` against vsftpd
# and pyftpdlib, the same workloads in the same run, on loopback, files on
# tmpfs (/dev/shm).
#
#   bash bench/ftp/run.sh
#
# The script builds bench/ftp/ftpload.c (one FTP client load generator, C,
# epoll; the same for every server) with cc -O2 into its temp dir, makes the
# files, starts the three servers (each on its own free port, from a config it
# generates, in its temp dir) and keeps them up for the whole run; at the end
# (trap) it stops them and their session processes by PID.
#
#   sockit     sockit ftp serve --accounts FILE ([anonymous] incoming = "incoming"),
#              --max-connections/--max-per-ip 10000, --passive-ports 10000-17999,
#              --log-level warn; one event loop per core (2 here)
#   vsftpd     listen=YES background=NO seccomp_sandbox=NO, anonymous with
#              anon_upload_enable=YES write_enable=YES, use_sendfile=YES,
#              max_clients/max_per_ip 10000, pasv ports 18000-25999, no
#              xferlog; one process per session plus its privileged parent
#              (privsep: two per session), otherwise vsftpd's defaults
#   pyftpdlib  bench/ftp/pyftpd.py: FTPServer (one process, one epoll loop),
#              max_cons 2000, sendfile, pasv ports 26000-31999, logging at
#              warning level
#
# Login: anonymous on all three (USER anonymous, PASS bench@example.com):
# vsftpd's local users need PAM and system accounts, which a benchmark should
# not create. Every server gets the same layout: a root owned by root, not
# writable, the files world-readable, and a writable `incoming/` where
# anonymous may only add new files. REAL=1 (default) adds one informational
# row to the login table: sockit with a real account from its accounts file
# (USER bench, an argon2id hash checked on sockit's hashing pool).
#
# Workloads, each measured by ftpload (its own clock, monotonic):
#   retr1   one session, RETR of one SIZE file (1 GiB), MB/s (10^6 bytes/s)
#   stor1   one session, STOR of one SIZE file, MB/s
#   login   SESSIONS (200) sessions connect + USER/PASS (at most CONC = 32
#           connecting at once: vsftpd listens with a backlog of 32, and more
#           would measure SYN retransmission timeouts), sessions/s from the
#           first connect to the last 230; LOGIN_REPEAT (5) such runs of
#           SESSIONS each make one figure (one lasts ~25 ms on the fast
#           servers: too short to time alone). The sessions QUIT after the
#           measurement.
#   retrN   SESSIONS sessions log in (untimed), then all RETR a distinct
#           FILE_SIZE file (10 MiB) at once; aggregate MB/s from that moment
#           to the last transfer complete (data at EOF and 226 read)
#   storN   the same with STOR of SESSIONS distinct new files
#   rss     SESSIONS sessions logged in and idle: the RSS summed over the
#           server's processes (VmRSS of the server and every descendant:
#           all of vsftpd's session processes are counted) and, because RSS
#           counts shared pages once per process, the PSS sum as well. Taken
#           on the fresh servers (after 10 warm-up logins) and again after
#           all rounds.
# Each round runs every workload against every server, the first server
# rotating from workload to workload; the median over ROUNDS is reported.
# Server CPU: the run time of every thread of the server's process tree over
# the timed part (/proc/PID/task/TID/schedstat, read by ftpload before any
# session quits); client CPU: ftpload's own. On loopback the kernel does part
# of one side's TCP work in the other side's context (an ACK that opens the
# window sends the queued data, and delivers it, in the acknowledging
# process): read the two columns together.
# Downloads are compared byte for byte with the sources in a warm-up pass
# before the rounds (untimed); uploads are checked by size after every run
# and compared (cmp) in the first round. Before each STOR a ballast of the
# bytes to be written is written to and deleted from tmpfs (PRIME=0: off):
# this VM gives freed pages back to the host, and writing into such pages is
# several times slower (docs/benchmarks.md, Transfer).
#
# Goal (issue 5): sockit at least the best of vsftpd and pyftpdlib on every
# figure. The ratio columns are sockit / best other for rates, and
# best other / sockit for memory: >= 1.00x meets the goal either way.
#
# Environment:
#   SOCKIT=build/release/sockit   the server under test
#   SIZE=1G  FILE_SIZE=10M  SESSIONS=200  CONC=32  LOGIN_REPEAT=5  ROUNDS=3
#   QUICK=1       SIZE=128M, FILE_SIZE=1M, ROUNDS=1: a smoke run (~1 minute)
#   SERVERS="sockit vsftpd pyftpdlib"   a subset
#   REAL=1        the sockit real-account login row (0: off)
#   THREADS=2     ftpload threads (one would be the bottleneck of the 200-session RETR)
#   PRIME=1       the ballast write before each STOR
#   LIMIT=600     seconds after which a run is abandoned (failure)
#   BUSY_RETRIES=2 BUSY_PAUSE=3   a run during which other processes and the
#                 hypervisor (steal) took more than 0.15 cores (ftpload's
#                 other= and steal=, from /proc/stat) is measured again, up to
#                 BUSY_RETRIES times BUSY_PAUSE s apart, and the least
#                 disturbed run is kept; a * marks a figure still disturbed
#   PERF=1        afterwards, each workload once more against sockit under
#                 `perf record -g -p PID`: build/bench/perf-ftp-WORKLOAD.{data,txt}
#   PYTHON=/usr/bin/python3   the interpreter that has pyftpdlib (Debian's)
#   VSFTPD_OPTS="isolate_network=NO"   extra vsftpd.conf lines (space-separated)
# Results: stdout, and build/bench/ftp-results.md (markdown tables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
mkdir -p "$OUT"

CMDLINE=""
for v in SOCKIT QUICK SIZE FILE_SIZE SESSIONS CONC LOGIN_REPEAT ROUNDS SERVERS REAL THREADS PRIME BUSY_RETRIES VSFTPD_OPTS PERF; do
  [ -n "${!v+x}" ] && CMDLINE+="$v=$(printf '%q' "${!v}") "
done
CMDLINE+="bash bench/ftp/run.sh"

SOCKIT=${SOCKIT:-$ROOT/build/release/sockit}
if [ "${QUICK:-0}" = 1 ]; then
  SIZE=${SIZE:-128M}; FILE_SIZE=${FILE_SIZE:-1M}; ROUNDS=${ROUNDS:-1}
fi
SIZE=${SIZE:-1G}
FILE_SIZE=${FILE_SIZE:-10M}
SESSIONS=${SESSIONS:-200}
CONC=${CONC:-32}
LOGIN_REPEAT=${LOGIN_REPEAT:-5}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-"sockit vsftpd pyftpdlib"}
REAL=${REAL:-1}
THREADS=${THREADS:-2}
PRIME=${PRIME:-1}
LIMIT=${LIMIT:-600}
BUSY_RETRIES=${BUSY_RETRIES:-2}
BUSY_PAUSE=${BUSY_PAUSE:-3}
PERF=${PERF:-0}
PYTHON=${PYTHON:-/usr/bin/python3}
VSFTPD_OPTS=${VSFTPD_OPTS:-}

die() { echo "bench/ftp: $*" >&2; exit 1; }
log() { echo "bench/ftp: $*" >&2; }

read -ra servers <<<"$SERVERS"
uses() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
for s in "${servers[@]}"; do
  case $s in sockit | vsftpd | pyftpdlib) ;; *) die "unknown server '$s' in SERVERS (sockit vsftpd pyftpdlib)" ;; esac
done
size=$(numfmt --from=iec "$SIZE") || die "SIZE=$SIZE is not a size"
fsize=$(numfmt --from=iec "$FILE_SIZE") || die "FILE_SIZE=$FILE_SIZE is not a size"
[ "$SESSIONS" -ge 1 ] && [ "$ROUNDS" -ge 1 ] || die "SESSIONS and ROUNDS must be >= 1"
command -v cc >/dev/null || die "cc not found (scripts/install-deps build)"
if uses sockit; then [ -x "$SOCKIT" ] || die "no $SOCKIT (make build)"; fi
if uses vsftpd; then
  command -v vsftpd >/dev/null || [ -x /usr/sbin/vsftpd ] || die "vsftpd is missing (scripts/install-deps bench)"
  [ "$(id -u)" = 0 ] || die "vsftpd must be started as root (it chroots and drops privileges)"
  getent passwd ftp >/dev/null || die "vsftpd's anonymous user 'ftp' does not exist (the vsftpd package makes it)"
fi
if uses pyftpdlib; then
  "$PYTHON" -c 'import pyftpdlib' 2>/dev/null || die "$PYTHON has no pyftpdlib (scripts/install-deps bench installs python3-pyftpdlib)"
fi
[ "$PERF" = 1 ] && { command -v perf >/dev/null || die "perf not found (linux-perf)"; }
VSFTPD=$(command -v vsftpd || echo /usr/sbin/vsftpd)

# ---- the work dir: everything on tmpfs ----
work=$(mktemp -d /dev/shm/sockit-bench-ftp.XXXXXX)
chmod 755 "$work"
declare -A PID=() PORT=()
HOLD_PID=""
descendants() { # pid -> every descendant's pid (one ps for the whole table)
  ps -e -o pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 }
    END { for (p in parent) { q = p; for (i = 0; i < 32 && q > 1; i++) { q = parent[q]; if (q == root) { print p; break } } } }'
}
cleanup() {
  local s p
  [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
  for s in "${!PID[@]}"; do
    p=${PID[$s]}
    kill -TERM $(descendants "$p") "$p" 2>/dev/null || true
  done
  for s in "${!PID[@]}"; do wait "${PID[$s]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOADGEN=$work/ftpload
cc -O2 -Wall -pthread -o "$LOADGEN" bench/ftp/ftpload.c || die "failed to build bench/ftp/ftpload.c"

droot=$work/root
mkdir -p "$droot/files" "$droot/incoming" "$work/empty" "$work/check"
chmod 755 "$droot" "$droot/files"
chmod 777 "$droot/incoming"
log "making the files: one of $SIZE, $SESSIONS of $FILE_SIZE"
head -c "$size" /dev/urandom >"$droot/big.bin"
head -c "$fsize" /dev/urandom >"$droot/files/f000.bin"
for ((i = 1; i < SESSIONS; i++)); do cp "$droot/files/f000.bin" "$(printf '%s/files/f%03d.bin' "$droot" "$i")"; done
chmod 644 "$droot/big.bin" "$droot"/files/*

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the servers ----
REAL_PASS=bench-real-password
start_sockit() {
  mkdir -p "$work/sockit"
  local hash
  hash=$(echo "$REAL_PASS" | "$SOCKIT" ftp passwd) || die "sockit ftp passwd failed"
  cat >"$work/sockit/accounts.toml" <<EOF
[anonymous]
root = "$droot"
incoming = "incoming"

[user.bench]
password = "$hash"
root = "$droot"
EOF
  "$SOCKIT" ftp serve --listen "127.0.0.1:${PORT[sockit]}" --root "$droot" --accounts "$work/sockit/accounts.toml" \
    --passive-ports 10000-17999 --max-connections 10000 --max-per-ip 10000 --log-level warn \
    >"$work/sockit/log" 2>&1 &
  PID[sockit]=$!
}
start_vsftpd() {
  mkdir -p "$work/vsftpd"
  cat >"$work/vsftpd/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=${PORT[vsftpd]}
background=NO
seccomp_sandbox=NO
anonymous_enable=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=NO
anon_other_write_enable=NO
no_anon_password=YES
anon_root=$droot
secure_chroot_dir=$work/empty
max_clients=10000
max_per_ip=10000
pasv_enable=YES
pasv_min_port=18000
pasv_max_port=25999
use_sendfile=YES
xferlog_enable=NO
dirmessage_enable=NO
connect_from_port_20=NO
EOF
  for o in $VSFTPD_OPTS; do echo "$o" >>"$work/vsftpd/vsftpd.conf"; done
  "$VSFTPD" "$work/vsftpd/vsftpd.conf" >"$work/vsftpd/log" 2>&1 &
  PID[vsftpd]=$!
}
start_pyftpdlib() {
  mkdir -p "$work/pyftpdlib"
  "$PYTHON" bench/ftp/pyftpd.py "${PORT[pyftpdlib]}" "$droot" 26000 31999 >"$work/pyftpdlib/log" 2>&1 &
  PID[pyftpdlib]=$!
}
for s in "${servers[@]}"; do
  PORT[$s]=$(free_port)
  "start_$s"
done
for s in "${servers[@]}"; do
  up=0
  for _ in $(seq 200); do
    kill -0 "${PID[$s]}" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$s]}") 2>/dev/null; then up=1; break; fi
    sleep 0.05
  done
  [ $up = 1 ] || die "$s did not start: $(tail -c 600 "$work/$s/log")"
done
sleep 0.3 # the probe connections above are gone

prime() {
  [ "$PRIME" = 1 ] || return 0
  head -c "$1" /dev/zero >"$work/ballast" 2>/dev/null || true
  rm -f "$work/ballast"
}
# quiet SERVER: waits (up to 3 s) until the server has no session processes
# left from the previous run (vsftpd's exit a moment after QUIT)
quiet() {
  local n
  for _ in $(seq 60); do
    n=$(descendants "${PID[$1]}" | wc -l)
    [ "$n" = 0 ] && return 0
    sleep 0.05
  done
}

field() { # "RESULT k=v ..." key -> v
  local k
  for k in $1; do case $k in "$2="*) echo "${k#*=}"; return ;; esac; done
  echo ""
}

# load SERVER ARGS...: one ftpload run -> RESULT
load() {
  local s=$1; shift
  local mode=$1; shift
  quiet "$s"
  RESULT=$(timeout "$LIMIT" "$LOADGEN" "$mode" "127.0.0.1:${PORT[$s]}" -p "${PID[$s]}" -t "$THREADS" -c "$CONC" \
             -d "$LIMIT" "$@" 2>"$work/load.err" | grep '^RESULT') \
    || die "$s $mode $*: $(tr '\n' ' ' <"$work/load.err" | cut -c1-600)"
}

# load_repeat N SERVER ARGS...: N ftpload runs, one RESULT: the sums of
# seconds and CPU, other and steal averaged over the time
load_repeat() {
  local n=$1 i all=""; shift
  for ((i = 0; i < n; i++)); do load "$@"; all+="${RESULT#RESULT } "$'\n'; done
  RESULT=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                  t += v["seconds"]; l += v["login_seconds"]; c += v["client_cpu"]; s += v["server_cpu"]
                  o += v["other"] * v["seconds"]; st += v["steal"] * v["seconds"]; b += v["bytes"] }
                END { printf "RESULT seconds=%.6f bytes=%d login_seconds=%.6f client_cpu=%.3f server_cpu=%.3f other=%.2f steal=%.2f\n",
                      t, b, l, c, s, o / t, st / t }' <<<"$all")
}
# run_once WORKLOAD SERVER ROUND: one measured run -> RESULT
run_once() {
  local w=$1 s=$2 r=$3 n
  case $w in
    retr1) load "$s" retr -n 1 -f big.bin -s "$size" ;;
    stor1)
      prime "$size"
      load "$s" stor -n 1 -f "incoming/big-$s.bin" -i "$droot/big.bin"
      [ "$(stat -c %s "$droot/incoming/big-$s.bin" 2>/dev/null)" = "$size" ] || die "$s stor1: the upload is not $size bytes"
      if [ "$r" = 0 ]; then cmp -s "$droot/big.bin" "$droot/incoming/big-$s.bin" || die "$s stor1: the upload differs"; fi
      rm -f "$droot/incoming/big-$s.bin" ;;
    login) load_repeat "$LOGIN_REPEAT" "$s" login -n "$SESSIONS" ;;
    login-real) load sockit login -n "$SESSIONS" -u bench -w "$REAL_PASS" ;;
    retrN) load "$s" retr -n "$SESSIONS" -f "files/f%03d.bin" -s "$fsize" ;;
    storN)
      prime $((SESSIONS * fsize))
      load "$s" stor -n "$SESSIONS" -f "incoming/u-$s-%03d.bin" -i "$droot/files/f000.bin"
      n=$(find "$droot/incoming" -name "u-$s-*" -size "${fsize}c" | wc -l)
      [ "$n" = "$SESSIONS" ] || die "$s storN: $n of $SESSIONS uploads have $fsize bytes"
      if [ "$r" = 0 ]; then
        for f in "$droot/incoming/u-$s-"*; do cmp -s "$droot/files/f000.bin" "$f" || die "$s storN: $f differs"; done
      fi
      rm -f "$droot/incoming/u-$s-"* ;;
  esac
}
# cores taken from a run by other processes and by the hypervisor
disturbance() { awk -v o="$(field "$1" other)" -v s="$(field "$1" steal)" 'BEGIN { printf "%.2f", o + s }'; }
disturbed() { awk -v d="$(disturbance "$1")" 'BEGIN { exit !(d > 0.15) }'; }
# run WORKLOAD SERVER ROUND: one measured run, stored in RES; measured again
# (BUSY_RETRIES times at most) while other work took more than 0.15 cores,
# keeping the least disturbed run
declare -A RES=()
run() {
  local w=$1 s=$2 r=$3 keep retry label="round $(($3 + 1))"
  [ "$r" -ge "$ROUNDS" ] && label="perf run"
  run_once "$w" "$s" "$r"
  keep=$RESULT
  for ((retry = 0; retry < BUSY_RETRIES; retry++)); do
    disturbed "$keep" || break
    log "$label $w $s: other work took $(disturbance "$keep") cores (${keep#RESULT }), measuring again in $BUSY_PAUSE s"
    sleep "$BUSY_PAUSE"
    run_once "$w" "$s" "$r"
    awk -v a="$(disturbance "$RESULT")" -v b="$(disturbance "$keep")" 'BEGIN { exit !(a < b) }' && keep=$RESULT
  done
  RES[$w,$s,$r]=$keep
  log "$label $w $s: ${keep#RESULT }"
}

# rss SERVER WHEN: SESSIONS logged-in sessions held; sums over the tree
declare -A MEM=()
mem_of_tree() { # pid -> "rss_kib pss_kib processes"
  local p status=() rollup=() rss pss n
  for p in "$1" $(descendants "$1"); do status+=("/proc/$p/status"); rollup+=("/proc/$p/smaps_rollup"); done
  rss=$(cat "${status[@]}" 2>/dev/null | awk '/^VmRSS:/ { s += $2; n++ } END { print s + 0, n + 0 }' || true)
  pss=$(cat "${rollup[@]}" 2>/dev/null | awk '/^Pss:/ { s += $2 } END { print s + 0 }' || true)
  read -r rss n <<<"$rss"
  echo "$rss $pss $n"
}
rss() {
  local s=$1 when=$2 before during
  quiet "$s"
  sleep 0.2
  before=$(mem_of_tree "${PID[$s]}")
  rm -f "$work/hold.in"; mkfifo "$work/hold.in"
  timeout "$LIMIT" "$LOADGEN" login "127.0.0.1:${PORT[$s]}" -n "$SESSIONS" -c "$CONC" -H -d "$LIMIT" \
    <"$work/hold.in" >"$work/hold.out" 2>"$work/load.err" &
  HOLD_PID=$!
  exec 4>"$work/hold.in"
  for _ in $(seq $((LIMIT * 20))); do
    grep -q '^READY' "$work/hold.out" 2>/dev/null && break
    kill -0 "$HOLD_PID" 2>/dev/null || break
    sleep 0.05
  done
  grep -q '^READY' "$work/hold.out" || die "$s rss: the sessions did not log in: $(tr '\n' ' ' <"$work/load.err")"
  sleep 0.5 # let the server settle (vsftpd's processes finish starting)
  during=$(mem_of_tree "${PID[$s]}")
  exec 4>&-
  wait "$HOLD_PID" || die "$s rss: ftpload failed: $(tr '\n' ' ' <"$work/load.err")"
  HOLD_PID=""
  MEM[$s,$when]="$before $during"
  log "rss $when $s: before (rss pss procs) $before, with $SESSIONS sessions $during"
}

rotate() { # ROUND ITEMS... -> the items, starting at ROUND mod count
  local r=$1; shift; local n=$#; local i
  for ((i = 0; i < n; i++)); do local k=$(((r + i) % n + 1)); echo "${!k}"; done
}

# ---- versions ----
VERSIONS="sockit $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
uses vsftpd && VERSIONS+=", vsftpd $(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null || echo '?')"
uses pyftpdlib && VERSIONS+=", pyftpdlib $("$PYTHON" -c 'import pyftpdlib; print(pyftpdlib.__ver__)') on Python $("$PYTHON" -c 'import platform; print(platform.python_version())')"

# ---- fresh servers: warm-up logins, then the memory with SESSIONS sessions ----
for s in "${servers[@]}"; do
  "$LOADGEN" login "127.0.0.1:${PORT[$s]}" -n 10 >/dev/null 2>"$work/load.err" || die "$s: warm-up login failed: $(cat "$work/load.err")"
  rss "$s" fresh
done

# ---- warm-up and check: every download once, compared with its source ----
for s in "${servers[@]}"; do
  rm -rf "$work/check"; mkdir -p "$work/check"
  load "$s" retr -n 1 -f big.bin -s "$size" -o "$work/check"
  cmp -s "$droot/big.bin" "$work/check/big.bin" || die "$s: RETR big.bin differs from the file"
  rm -rf "$work/check"; mkdir -p "$work/check"
  load "$s" retr -n "$SESSIONS" -f "files/f%03d.bin" -s "$fsize" -o "$work/check"
  for ((i = 0; i < SESSIONS; i++)); do
    f=$(printf 'f%03d.bin' "$i")
    cmp -s "$droot/files/$f" "$work/check/$f" || die "$s: RETR files/$f differs from the file"
  done
  rm -rf "$work/check"
  log "$s: downloads checked"
done

# ---- the rounds ----
workloads=(retr1 stor1 login retrN storN)
started=$(date +%s)
k=0
for ((r = 0; r < ROUNDS; r++)); do
  for w in "${workloads[@]}"; do
    for s in $(rotate "$k" "${servers[@]}"); do run "$w" "$s" "$r"; done
    k=$((k + 1))
    if [ "$w" = login ] && [ "$REAL" = 1 ] && uses sockit; then run login-real sockit "$r"; fi
  done
done
for s in "${servers[@]}"; do rss "$s" after; done
log "measured in $(($(date +%s) - started)) s"

# ---- figures ----
value() { # workload server round -> MB/s or sessions/s
  local r=${RES[$1,$2,$3]}
  case $1 in
    login) awk -v n="$((SESSIONS * LOGIN_REPEAT))" -v t="$(field "$r" seconds)" 'BEGIN { printf "%.1f", n / t }' ;;
    login-real) awk -v n="$SESSIONS" -v t="$(field "$r" seconds)" 'BEGIN { printf "%.1f", n / t }' ;;
    *) awk -v b="$(field "$r" bytes)" -v t="$(field "$r" seconds)" 'BEGIN { printf "%.1f", b / t / 1e6 }' ;;
  esac
}
median_round() { # workload server -> the round with the median value (lower median)
  local r
  for ((r = 0; r < ROUNDS; r++)); do echo "$(value "$1" "$2" "$r") $r"; done |
    sort -g | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }'
}
per_round() { # workload server -> "v1 / v2 / v3", a * on a run disturbed by other work
  local r o=""
  for ((r = 0; r < ROUNDS; r++)); do
    o+="${o:+ / }$(value "$1" "$2" "$r")"
    disturbed "${RES[$1,$2,$r]}" && o+="*"
  done
  echo "$o"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || a == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
label() {
  case $1 in
    sockit) echo "sockit (anonymous)" ;;
    vsftpd) echo "vsftpd (anonymous)" ;;
    pyftpdlib) echo "pyftpdlib (anonymous)" ;;
    login-real) echo "sockit, real account (argon2id; not compared)" ;;
  esac
}
declare -A MED=()
others=()
for s in "${servers[@]}"; do [ "$s" != sockit ] && others+=("$s"); done
best_other() { # workload [min] -> the best value among the others
  local s b="" v
  for s in "${others[@]}"; do
    v=${MED[$1,$s]}
    if [ -z "$b" ]; then b=$v; elif [ "${2:-}" = min ]; then b=$(awk -v a="$b" -v c="$v" 'BEGIN { print (c < a) ? c : a }')
    else b=$(awk -v a="$b" -v c="$v" 'BEGIN { print (c > a) ? c : a }'); fi
  done
  echo "$b"
}
table() { # workload unit title
  local w=$1 unit=$2 s rd r best
  for s in "${servers[@]}"; do MED[$w,$s]=$(value "$w" "$s" "$(median_round "$w" "$s")"); done
  best=$(best_other "$w")
  echo "$3"
  echo
  echo "| server | $unit (median) | per round | server CPU s | ftpload CPU s | sockit / best other |"
  echo "|---|---|---|---|---|---|"
  for s in "${servers[@]}"; do
    rd=$(median_round "$w" "$s"); r=${RES[$w,$s,$rd]}
    local x=""; [ "$s" = sockit ] && x=$(ratio "${MED[$w,sockit]}" "$best")
    echo "| $(label "$s") | ${MED[$w,$s]} | $(per_round "$w" "$s") | $(field "$r" server_cpu) | $(field "$r" client_cpu) | $x |"
  done
  if [ "$w" = login ] && [ "$REAL" = 1 ] && uses sockit; then
    rd=$(median_round login-real sockit); r=${RES[login-real,sockit,$rd]}
    echo "| $(label login-real) | $(value login-real sockit "$rd") | $(per_round login-real sockit) | $(field "$r" server_cpu) | $(field "$r" client_cpu) | |"
  fi
  echo
  if [ -n "$best" ] && uses sockit; then GOALS+="| $4 | $(ratio "${MED[$w,sockit]}" "$best") |"$'\n'; fi
}
mem_table() {
  local s when b d best=""
  echo "Server memory with $SESSIONS anonymous sessions logged in and idle, KiB, summed over the server's processes (vsftpd: the listener and both processes of every session, all counted). RSS counts a shared page once in every process that maps it; PSS shares it out:"
  echo
  echo "| server | when | processes | RSS sum | PSS sum | RSS before (no session) | RSS per session | best other / sockit (RSS) |"
  echo "|---|---|---|---|---|---|---|---|"
  for when in fresh after; do
    for s in "${others[@]}"; do
      read -r _ _ _ d _ _ <<<"${MEM[$s,$when]}"
      if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d; fi
    done
    for s in "${servers[@]}"; do
      read -r b _ _ d pd n <<<"${MEM[$s,$when]}"
      local x=""; [ "$s" = sockit ] && x=$(ratio "${best:-}" "$d")
      echo "| $(label "$s") | $when | $n | $d | $pd | $b | $(((d - b) / SESSIONS)) | $x |"
    done
    if uses sockit && [ -n "$best" ]; then
      read -r _ _ _ d _ _ <<<"${MEM[sockit,$when]}"
      GOALS+="| memory, $SESSIONS sessions ($when servers) | $(ratio "$best" "$d") |"$'\n'
    fi
    best=""
  done
  echo
}

MD=$OUT/ftp-results.md
GOALS=""
OTHER_MAX=$(for k in "${!RES[@]}"; do field "${RES[$k]}" other; done | sort -g | tail -1)
STEAL_MAX=$(for k in "${!RES[@]}"; do field "${RES[$k]}" steal; done | sort -g | tail -1)
{
  echo "FTP server benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r), loopback, files on tmpfs; $ROUNDS rounds (median), the first server rotating; during the kept runs other processes took at most ${OTHER_MAX:-0} cores and the hypervisor at most ${STEAL_MAX:-0} (a * marks a run disturbed by more than 0.15 cores)."
  echo "Versions: $VERSIONS."
  echo "Command: \`$CMDLINE\`"
  echo "Login: anonymous (USER anonymous, PASS bench@example.com) on every server; uploads into the anonymous incoming folder. One load generator (bench/ftp/ftpload.c, $THREADS thread(s), EPSV, TYPE I) for all."
  echo
  table retr1 MB/s "One session, RETR of one file of $SIZE ($size bytes), MB/s:" "RETR $SIZE, one session"
  table stor1 MB/s "One session, STOR of one file of $SIZE, MB/s:" "STOR $SIZE, one session"
  table login sessions/s "$SESSIONS sessions connect + log in (at most $CONC at once), sessions/s from the first connect to the last 230, over $LOGIN_REPEAT such runs (the real-account row: one run); CPU for all the runs:" "$SESSIONS sessions connect + login"
  table retrN MB/s "$SESSIONS sessions, each RETR of a distinct $FILE_SIZE file at once, aggregate MB/s:" "$SESSIONS concurrent RETR of $FILE_SIZE"
  table storN MB/s "$SESSIONS sessions, each STOR of a distinct new $FILE_SIZE file at once, aggregate MB/s:" "$SESSIONS concurrent STOR of $FILE_SIZE"
  mem_table
  if uses sockit && [ ${#others[@]} -gt 0 ]; then
    echo "Goal (issue 5): sockit at least the best of the others on every figure:"
    echo
    echo "| figure | sockit vs best other (>= 1.00x meets it) |"
    echo "|---|---|"
    printf '%s' "$GOALS"
    echo
  fi
} >"$MD.tmp"
mv "$MD.tmp" "$MD"
echo
cat "$MD"
echo "(also written to $MD)"

# ---- PERF=1: each workload once more against sockit, under perf record ----
if [ "$PERF" = 1 ] && uses sockit; then
  for w in "${workloads[@]}" login-real; do
    [ "$w" = login-real ] && [ "$REAL" != 1 ] && continue
    data=$OUT/perf-ftp-$w.data
    perf record -g -q -o "$data" -p "${PID[sockit]}" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
    run "$w" sockit 99
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    perf report -i "$data" --stdio --no-children --sort dso,symbol --percent-limit 1 -g none 2>/dev/null |
      grep -v '^$' >"$OUT/perf-ftp-$w.txt" || log "perf report of $data failed"
    log "profile: $OUT/perf-ftp-$w.txt (call graphs: perf report -i $data)"
  done
fi

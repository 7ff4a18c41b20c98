#!/usr/bin/env bash
# sockit's echo benchmark (issue 2): one load generator, every server, same run.
#
#   bash bench/echo/run.sh
#
# Builds the baselines into build/bench/, starts every server once (port 0,
# address read back from its first stdout line), then runs the matrix point by
# point, alternating the servers at each point (the starting server rotates):
#   pingpong 16 KiB and 4 KiB blocks, N = 1, 10, 100, 1000   -> MiB/s echoed
#   rr 64-byte request/response,     N = 1, 10, 100, 1000   -> round trips/s, p50, p99
# and then, with a fresh instance of each server, the RSS growth per idle
# connection at IDLE_CONNS connections.
#
# Environment:
#   SOCKIT=build/release/sockit  the binary under test; when missing, the sockit
#                                rows say n/a (REQUIRE_SOCKIT=1 makes it an error)
#   DURATION=3   seconds measured per point and server (WARMUP=0.5 before it)
#   QUICK=1      DURATION=1, WARMUP=0.2, no extra reference servers
#   ROUNDS=1     runs per point and server; the median is reported
#   EXTRA=1      also run the references: the C server with 1 thread (c-1t), sockit
#                with one loop per usable core (sockit-pc, its default before
#                session 7), and sockit --threads 1 (sockit-1t) when its default is
#                not one loop already (more than 2 usable cores)
#   CONNS="1 10 100 1000"   connection counts N of the matrix (CONNS=1000 for one)
#   IDLE_CONNS=10000   connections for the idle-memory test (0 skips it)
#   SERVERS="sockit c asio node python"   to run a subset (plus the EXTRA ones)
#   LOADGEN_THREADS=1  threads of the load generator
#   BUSY_RETRIES=3  a run during which other processes took > 0.15 cores is
#                measured again, up to this many times, BUSY_PAUSE=5 s apart;
#                the least disturbed run is kept (0 turns this off)
#   PERF=1       record `perf record --call-graph dwarf` of sockit during the 16 KiB / 100
#                connection pingpong into build/bench/perf-sockit.data
# Results: stdout, and build/bench/echo-results.md (markdown tables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
mkdir -p "$OUT"

SOCKIT=${SOCKIT:-build/release/sockit}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  DURATION=${DURATION:-1}; WARMUP=${WARMUP:-0.2}; EXTRA=${EXTRA:-0}
fi
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-0.5}
EXTRA=${EXTRA:-1}
ROUNDS=${ROUNDS:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
PERF=${PERF:-0}
BUSY_RETRIES=${BUSY_RETRIES:-3}
BUSY_PAUSE=${BUSY_PAUSE:-5}
CONNS=${CONNS:-"1 10 100 1000"}
PYTHON=${PYTHON:-/usr/bin/python3}
NODE=${NODE:-$(command -v node || echo /usr/bin/node)}

die() { echo "bench/echo: $*" >&2; exit 1; }
for n in $CONNS; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "CONNS: '$n' is not a number of connections (e.g. CONNS=\"10 1000\")"
done
[ -n "${CONNS// /}" ] || die "CONNS is empty (e.g. CONNS=\"10 1000\")"
log() { echo "bench/echo: $*" >&2; }

# ---- build the baselines (only when a source is newer than its binary) ----
build() { # out src compiler flags...
  local out=$1 src=$2; shift 2
  if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
    log "building $out"
    "$@" -o "$out.tmp" "$src" || die "failed to build $src"
    mv "$out.tmp" "$out"
  fi
}
command -v gcc >/dev/null || die "gcc not found (scripts/install-deps bench)"
build "$OUT/loadgen" bench/echo/loadgen.c gcc -O2 -Wall -pthread
build "$OUT/epoll_echo" bench/echo/epoll_echo.c gcc -O2 -Wall -pthread
build "$OUT/asio_echo" bench/echo/asio_echo.cpp g++ -O2 -std=c++20 -Wall -pthread
[ -x "$NODE" ] || die "node not found (scripts/install-deps bench installs nodejs)"
[ -x "$PYTHON" ] || die "$PYTHON not found"
LOADGEN=$OUT/loadgen

# ---- file descriptors: the idle test holds IDLE_CONNS sockets on each side ----
want_fds=$(( IDLE_CONNS + 1000 ))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want_fds" ]; then
  ulimit -Hn "$want_fds" 2>/dev/null || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  die "ulimit -n is $(ulimit -n); the idle test needs $want_fds (raise it or set IDLE_CONNS lower)"
fi

# ---- servers ----
declare -A CMD
CMD[sockit]="$SOCKIT echo serve --tcp 127.0.0.1:0 --print-address --max-connections 20000 --max-per-ip 20000 --log-level warn"
CMD[sockit-1t]="${CMD[sockit]} --threads 1"
# sockit's default (src/net/loop_count.hpp): one loop per usable core minus one.
CORES=$(nproc)  # the affinity mask, as sockit counts it
SOCKIT_LOOPS=$(( CORES > 1 ? CORES - 1 : 1 ))
CMD[sockit-pc]="${CMD[sockit]} --threads $CORES"
CMD[c]="$OUT/epoll_echo 0 2"
CMD[c-1t]="$OUT/epoll_echo 0 1"
CMD[asio]="$OUT/asio_echo 0 2"
CMD[node]="$NODE bench/echo/node_echo.js 0"
CMD[python]="$PYTHON bench/echo/asyncio_echo.py 0"

SERVERS=${SERVERS:-"sockit c asio node python"}
if [ "$EXTRA" = 1 ]; then
  case " $SERVERS " in *" c-1t "*) ;; *) SERVERS="$SERVERS c-1t" ;; esac
  case " $SERVERS " in *" sockit "*)
    case " $SERVERS " in *" sockit-pc "*) ;; *) SERVERS="$SERVERS sockit-pc" ;; esac
    if [ "$SOCKIT_LOOPS" -gt 1 ]; then
      case " $SERVERS " in *" sockit-1t "*) ;; *) SERVERS="$SERVERS sockit-1t" ;; esac
    fi ;;
  esac
fi
SOCKIT_OK=1
if [ ! -x "$SOCKIT" ]; then
  [ "${REQUIRE_SOCKIT:-0}" = 1 ] && die "$SOCKIT not found: run 'make build' first"
  log "WARNING: $SOCKIT not found (run 'make build'); the sockit rows will say n/a"
  SOCKIT_OK=0
fi
read -r -a ALL <<<"$SERVERS"
ACTIVE=()
for s in "${ALL[@]}"; do
  [ -n "${CMD[$s]:-}" ] || die "unknown server '$s' (known: ${!CMD[*]})"
  case $s in sockit*) [ $SOCKIT_OK = 1 ] || continue ;; esac
  ACTIVE+=("$s")
done
[ ${#ACTIVE[@]} -gt 0 ] || die "no server to run"

TMP=$(mktemp -d /dev/shm/sockit-bench-echo.XXXXXX)
declare -A PID ADDR
EXTRA_PIDS=()

stop_pid() { # pid: TERM, then KILL after 3 s
  local p=$1 i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${EXTRA_PIDS[@]}" "${PID[@]}"; do stop_pid "$p"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # name: sets PID[name] and ADDR[name]
  local name=$1 i line
  # shellcheck disable=SC2086  # the command lines are word lists on purpose
  ${CMD[$name]} >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID[$name]=$!
  for i in $(seq 100); do
    line=$(grep -m1 '^tcp://' "$TMP/$name.out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$line" ]; then
    log "$name did not print its address within 10 s: ${CMD[$name]}"
    sed 's/^/  /' "$TMP/$name.err" >&2
    exit 1
  fi
  ADDR[$name]=$line
  log "$name: ${ADDR[$name]} (pid ${PID[$name]})"
}

run_point() { # name mode block conns -> prints the RESULT fields or ERR
  local name=$1 mode=$2 block=$3 conns=$4 limit res
  limit=$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN{printf "%d", d + w + 90}')
  if res=$(timeout "$limit" "$LOADGEN" "$mode" "${ADDR[$name]}" -c "$conns" -b "$block" \
             -d "$DURATION" -w "$WARMUP" -t "$LOADGEN_THREADS" -p "${PID[$name]}" 2>"$TMP/loadgen.err"); then
    echo "$res" | grep '^RESULT' | head -1
  else
    log "$name $mode b=$block n=$conns failed: $(tr '\n' ' ' <"$TMP/loadgen.err")"
    kill -0 "${PID[$name]}" 2>/dev/null && echo ERR || echo DIED
  fi
}

field() { # "RESULT k=v ..." key -> v
  local k
  for k in $1; do case $k in "$2="*) echo "${k#*=}"; return ;; esac; done
  echo ""
}

# CPU busy share (percent) over one second, to flag a machine that is not quiet
cpu_busy() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; printf "%d", (busy + idle) ? 100 * busy / (busy + idle) : 0 }'
}
BUSY=$(cpu_busy)
if [ "$BUSY" -gt 15 ]; then
  log "WARNING: the machine was ${BUSY}% busy before the run: other work skews these figures"
fi

# ---- the matrix ----
for s in "${ACTIVE[@]}"; do start_server "$s"; done
# One unmeasured second per server first: a fresh interpreter (Python, Node's
# JIT) or allocator is slower on its first connections than it stays.
for s in "${ACTIVE[@]}"; do
  timeout 60 "$LOADGEN" pingpong "${ADDR[$s]}" -c 10 -b 16384 -d 1 -w 0 >/dev/null 2>"$TMP/loadgen.err" \
    || die "warm-up of $s failed: $(tr '\n' ' ' <"$TMP/loadgen.err")"
done
points=()
for n in $CONNS; do points+=("pingpong 16384 $n"); done
for n in $CONNS; do points+=("pingpong 4096 $n"); done
for n in $CONNS; do points+=("rr 64 $n"); done
declare -A RES
nact=${#ACTIVE[@]}
started=$(date +%s)
for pi in "${!points[@]}"; do
  read -r mode block n <<<"${points[$pi]}"
  for ((round = 0; round < ROUNDS; round++)); do
    for ((k = 0; k < nact; k++)); do
      s=${ACTIVE[$(( (pi + round + k) % nact ))]}
      perf_pid=""
      if [ "$PERF" = 1 ] && [ "$s" = sockit ] && [ "$mode $block $n" = "pingpong 16384 100" ] && [ "$round" = 0 ]; then
        perf record --call-graph dwarf,8192 -F 499 -o "$OUT/perf-sockit.data" -p "${PID[$s]}" -- sleep "$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN{print d + w}')" \
          >"$TMP/perf.log" 2>&1 &
        perf_pid=$!; EXTRA_PIDS+=("$perf_pid")
      fi
      r=$(run_point "$s" "$mode" "$block" "$n")
      # A run that other processes disturbed is repeated (BUSY_RETRIES times at
      # most, after a pause); the least disturbed one is kept.
      for ((retry = 0; retry < BUSY_RETRIES; retry++)); do
        [ -z "$perf_pid" ] && [ "$r" != ERR ] && [ "$r" != DIED ] || break
        busy=$(field "$r" other_cores)
        awk -v o="$busy" 'BEGIN { exit !(o + 0 > 0.15) }' || break
        log "${points[$pi]} $s: other processes took $busy cores, measuring again"
        sleep "$BUSY_PAUSE"
        r2=$(run_point "$s" "$mode" "$block" "$n")
        [ "$r2" = DIED ] && { r=DIED; break; }
        [ "$r2" = ERR ] && break
        awk -v a="$(field "$r2" other_cores)" -v b="$busy" 'BEGIN { exit !(a < b) }' && r=$r2
      done
      [ -n "$perf_pid" ] && { wait "$perf_pid" || log "perf record failed: $(tail -1 "$TMP/perf.log")"; }
      if [ "$r" = DIED ]; then
        log "$s died during ${points[$pi]}; its stderr:"; sed 's/^/  /' "$TMP/$s.err" >&2
        exit 1
      fi
      RES["$pi,$s,$round"]=$r
      [ "$r" = ERR ] || echo "$(field "$r" other_cores)" >>"$TMP/other"
      log "${points[$pi]} $s: ${r#RESULT }"
      sleep 0.2  # let the server reap the closed connections
    done
  done
done
log "matrix done in $(( $(date +%s) - started )) s"
BUSY_AFTER=$(cpu_busy)  # our servers are idle now: anything busy is someone else
# CPU used by neither the server nor the load generator during the measured
# seconds (loadgen's other_cores): a mean well above 0 means shared cores.
OTHER=$(awk 'NF { s += $1; n++; if ($1 > m) m = $1; if ($1 > 0.15) k++ }
             END { printf "%.2f cores on average, at most %.2f; %d of %d runs above 0.15", n ? s / n : 0, m, k, n }' "$TMP/other" 2>/dev/null || echo "n/a")
log "other processes during the measurements: $OTHER"
[ "$BUSY_AFTER" -gt 15 ] && log "WARNING: the machine was ${BUSY_AFTER}% busy right after the matrix: other work skews these figures"

# median over rounds: for pingpong of mibps; for rr the run with median rtps
median_result() { # pi server -> RESULT line or ERR
  local pi=$1 s=$2 key=$3 round lines=""
  for ((round = 0; round < ROUNDS; round++)); do
    r=${RES["$pi,$s,$round"]}
    [ "$r" = ERR ] && continue
    lines+="$(field "$r" "$key") $round"$'\n'
  done
  [ -z "$lines" ] && { echo ERR; return; }
  local cnt pick
  cnt=$(printf '%s' "$lines" | grep -c .)
  pick=$(printf '%s' "$lines" | sort -g | sed -n "$(( (cnt + 1) / 2 ))p" | cut -d' ' -f2)
  echo "${RES["$pi,$s,$pick"]}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
best_of() { # values... -> max (ignores empty)
  printf '%s\n' "$@" | awk 'NF && ($1 > m || m == "") {m = $1} END {print m}'
}
median_range() { # ratios like 1.02x... (n/a ignored) -> "1.02x (0.95x-1.10x)"
  printf '%s\n' "$@" | tr -d x | grep -v '^n/a$' | sort -g |
    awk '{ v[NR] = $1 } END { if (!NR) { print "n/a"; exit }
          printf "%.2fx (%.2fx-%.2fx)", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}
least_of() { # values... -> min (ignores empty)
  printf '%s\n' "$@" | awk 'NF && ($1 < m || m == "") {m = $1} END {print m}'
}

MD=$OUT/echo-results.md
ALLNAMES=("${ALL[@]}")
{
  echo "Echo benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (sockit: its default of ${SOCKIT_LOOPS} loop(s); sockit-pc: ${CORES}), $(uname -r), duration ${DURATION} s per point (warm-up ${WARMUP} s), rounds ${ROUNDS}, load generator threads ${LOADGEN_THREADS}, CPU ${BUSY}% busy before the matrix and ${BUSY_AFTER}% right after it (servers idle); other processes during the measurements: ${OTHER}. A * marks a figure whose run had more than 0.15 cores taken by other processes."
  echo
  for which in pingpong rr; do
    if [ $which = pingpong ]; then
      echo "Pingpong, MiB/s echoed (higher is better):"
    else
      echo "64-byte request/response: round trips/s, p50 / p99 latency in us:"
    fi
    echo
    hdr="| point |"; sep="|---|"
    for s in "${ALLNAMES[@]}"; do hdr+=" $s |"; sep+="---|"; done
    hdr+=" sockit / best(asio,node,python) | sockit / c |"; sep+="---|---|"
    echo "$hdr"; echo "$sep"
    for pi in "${!points[@]}"; do
      read -r mode block n <<<"${points[$pi]}"
      [ "$mode" = $which ] || continue
      key=mibps; [ "$mode" = rr ] && key=rtps
      label="$(( block / 1024 )) KiB, N=$n"; [ "$mode" = rr ] && label="64 B, N=$n"
      row="| $label |"
      declare -A V=()
      for s in "${ALLNAMES[@]}"; do
        case " ${ACTIVE[*]} " in *" $s "*) ;; *) row+=" n/a |"; continue ;; esac
        r=$(median_result "$pi" "$s" "$key")
        if [ "$r" = ERR ]; then row+=" error |"; continue; fi
        V[$s]=$(field "$r" "$key")
        mark=$(awk -v o="$(field "$r" other_cores)" 'BEGIN { if (o + 0 > 0.15) print "*" }')
        if [ "$mode" = rr ]; then
          row+=" $(printf '%.0f' "${V[$s]}")$mark ($(field "$r" p50_us) / $(field "$r" p99_us)) |"
        else
          row+=" ${V[$s]}$mark |"
        fi
      done
      best=$(best_of "${V[asio]:-}" "${V[node]:-}" "${V[python]:-}")
      row+=" $(ratio "${V[sockit]:-}" "$best") | $(ratio "${V[sockit]:-}" "${V[c]:-}") |"
      echo "$row"
    done
    echo
  done
  if [ "$ROUNDS" -gt 1 ]; then
    echo "Paired by round: at each point the servers run back to back within a round, so a slow phase of the machine hits them alike. The ratio of sockit to the best of asio, node and python (and to c) in each round, median and range over the $ROUNDS rounds:"
    echo
    echo "| point | sockit / best(asio,node,python) | sockit / c |"
    echo "|---|---|---|"
    for pi in "${!points[@]}"; do
      read -r mode block n <<<"${points[$pi]}"
      key=mibps; label="$(( block / 1024 )) KiB, N=$n"
      [ "$mode" = rr ] && { key=rtps; label="64 B, N=$n"; }
      vs_best=""; vs_c=""
      for ((round = 0; round < ROUNDS; round++)); do
        declare -A V=()
        for s in sockit c asio node python; do
          r=${RES["$pi,$s,$round"]:-ERR}
          [ "$r" = ERR ] || V[$s]=$(field "$r" "$key")
        done
        best=$(best_of "${V[asio]:-}" "${V[node]:-}" "${V[python]:-}")
        vs_best+="$(ratio "${V[sockit]:-}" "$best") "
        vs_c+="$(ratio "${V[sockit]:-}" "${V[c]:-}") "
      done
      echo "| $label | $(median_range $vs_best) | $(median_range $vs_c) |"
    done
    echo
  fi
  echo "Server CPU time (user + system, from /proc/PID/stat) per unit of work: ms per MiB echoed (pingpong), ms per 1000 round trips (rr); lower is better. It moves less than throughput when other work shares the cores:"
  echo
  hdr="| point |"; sep="|---|"
  for s in "${ALLNAMES[@]}"; do hdr+=" $s |"; sep+="---|"; done
  hdr+=" sockit / least(asio,node,python) | sockit / c |"; sep+="---|---|"
  echo "$hdr"; echo "$sep"
  for pi in "${!points[@]}"; do
    read -r mode block n <<<"${points[$pi]}"
    key=mibps; cpukey=cpu_ms_per_mib; label="$(( block / 1024 )) KiB, N=$n"
    [ "$mode" = rr ] && { key=rtps; cpukey=cpu_ms_per_krt; label="64 B, N=$n"; }
    row="| $label |"
    declare -A V=()
    for s in "${ALLNAMES[@]}"; do
      case " ${ACTIVE[*]} " in *" $s "*) ;; *) row+=" n/a |"; continue ;; esac
      r=$(median_result "$pi" "$s" "$key")
      V[$s]=""
      [ "$r" = ERR ] || V[$s]=$(field "$r" "$cpukey")
      row+=" ${V[$s]:-error} |"
    done
    least=$(least_of "${V[asio]:-}" "${V[node]:-}" "${V[python]:-}")
    row+=" $(ratio "${V[sockit]:-}" "$least") | $(ratio "${V[sockit]:-}" "${V[c]:-}") |"
    echo "$row"
  done
  echo
} >"$MD.tmp"

# ---- idle memory: a fresh instance of each server ----
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
if [ "$IDLE_CONNS" -gt 0 ]; then
  for s in "${ACTIVE[@]}"; do stop_pid "${PID[$s]}"; unset "PID[$s]"; done
  {
    echo "Idle connections: server RSS growth with $IDLE_CONNS connections open (each did one 1-byte round trip), after 100 warm-up connections:"
    echo
    echo "| server | RSS before (KiB) | RSS with $IDLE_CONNS (KiB) | per connection (KiB) |"
    echo "|---|---|---|---|"
  } >>"$MD.tmp"
  for s in "${ALLNAMES[@]}"; do
    case " ${ACTIVE[*]} " in *" $s "*) ;; *) echo "| $s | n/a | n/a | n/a |" >>"$MD.tmp"; continue ;; esac
    start_server "$s"
    timeout 60 "$LOADGEN" idle "${ADDR[$s]}" -c 100 -d 1 </dev/null >/dev/null 2>"$TMP/loadgen.err" \
      || log "$s warm-up failed: $(cat "$TMP/loadgen.err")"
    sleep 0.5
    before=$(rss_kib "${PID[$s]}")
    mkfifo "$TMP/idle.in"
    timeout 300 "$LOADGEN" idle "${ADDR[$s]}" -c "$IDLE_CONNS" -d 120 <"$TMP/idle.in" >"$TMP/idle.out" 2>"$TMP/loadgen.err" &
    lg=$!; EXTRA_PIDS+=("$lg")
    exec 9>"$TMP/idle.in"   # the load generator holds its connections until this closes
    for i in $(seq 1200); do
      grep -q '^READY' "$TMP/idle.out" && break
      kill -0 "$lg" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q '^READY' "$TMP/idle.out"; then
      sleep 1  # let the server finish the last round trips
      after=$(rss_kib "${PID[$s]}")
      per=$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN{printf "%.2f", (a - b) / n}')
      echo "| $s | $before | $after | $per |" >>"$MD.tmp"
      log "idle $s: RSS $before -> $after KiB, $per KiB per connection"
    else
      log "idle $s failed: $(tr '\n' ' ' <"$TMP/loadgen.err")"
      echo "| $s | $before | error | error |" >>"$MD.tmp"
    fi
    exec 9>&-
    wait "$lg" 2>/dev/null || true
    rm -f "$TMP/idle.in"
    stop_pid "${PID[$s]}"; unset "PID[$s]"
    sleep 0.5
  done
  echo >>"$MD.tmp"
fi

mv "$MD.tmp" "$MD"
echo
cat "$MD"
echo "(also written to $MD)"

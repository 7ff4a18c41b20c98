#!/usr/bin/env bash
# sockit's exec benchmark: `sockit exec` against ssh to a local sshd, same run.
#
#   bash bench/exec/run.sh
#
# Starts, as the current user (root is not needed), an sshd on 127.0.0.1 at a
# free port with keys generated into a temporary directory on tmpfs, and a
# `sockit exec serve` with TLS (--tls-self-signed, fingerprint pinned by the
# clients) on port 0. Then, alternating the two at each point:
#   commands/s of `true` over one connection:
#     ssh:    N processes `ssh ... true` through one OpenSSH multiplexed master
#             connection (ControlMaster / ControlPath, the master started first)
#     sockit: N lines of `true` piped into one `sockit exec ADDR` (no command:
#             one command per stdin line, all over one connection)
#   commands/s of `true` with a fresh connection each:
#     ssh:    N processes `ssh -o ControlPath=none ... true`
#     sockit: N processes `sockit exec ADDR -- true`
#   throughput of `cat FILE > /dev/null` of a 1 GiB file of random bytes in
#   /dev/shm, in MB/s (10^6 bytes per second)
# sockit runs with TLS on; PLAIN=1 (default) also measures a plain-TCP sockit
# server as a reference. Goal (issue): sockit >= 2x ssh's commands/s and
# >= 1.0x ssh's throughput.
#
# Environment:
#   SOCKIT=build/release/sockit  the binary under test (needs `sockit exec`)
#   QUICK=1       N_ONE=200, N_FRESH=50, a 256 MiB file
#   N_ONE=1000    commands over one connection
#   N_FRESH=200   commands with a fresh connection each
#   FILE_MIB=1024 size of the file that `cat` reads
#   ROUNDS=1      runs of each point and side; the median is reported
#   PLAIN=1       also measure sockit without TLS (0 skips it)
#   SIDES="ssh sockit"  SIDES=ssh runs the ssh half alone (no sockit needed)
#   SSH_OPTS=""   extra ssh client options (e.g. "-c aes128-gcm@openssh.com");
#                 by default ssh negotiates its own default cipher
#   SSH_RC=0      1 lets the remote bash read ~/.bashrc as it does by default
#                 under sshd (0 sets SHLVL=1 in sshd_config, so it does not:
#                 sockit's server runs /bin/sh -c, which reads no such file)
# Results: stdout, and build/bench/exec-results.md (a markdown table).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
mkdir -p "$OUT"

# The command line that reproduces this run (the knobs that were set).
CMDLINE=""
for v in SOCKIT QUICK N_ONE N_FRESH FILE_MIB ROUNDS PLAIN SIDES SSH_OPTS SSH_RC; do
  [ -n "${!v+x}" ] && CMDLINE+="$v=$(printf '%q' "${!v}") "
done
CMDLINE+="bash bench/exec/run.sh"

SOCKIT=${SOCKIT:-build/release/sockit}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  N_ONE=${N_ONE:-200}; N_FRESH=${N_FRESH:-50}; FILE_MIB=${FILE_MIB:-256}
fi
N_ONE=${N_ONE:-1000}
N_FRESH=${N_FRESH:-200}
FILE_MIB=${FILE_MIB:-1024}
ROUNDS=${ROUNDS:-1}
PLAIN=${PLAIN:-1}
SIDES=${SIDES:-"ssh sockit"}
SSH_OPTS=${SSH_OPTS:-}
SSH_RC=${SSH_RC:-0}

die() { echo "bench/exec: $*" >&2; exit 1; }
log() { echo "bench/exec: $*" >&2; }

want_ssh=0; want_sockit=0
for s in $SIDES; do
  case $s in
    ssh) want_ssh=1 ;;
    sockit) want_sockit=1 ;;
    *) die "unknown side '$s' in SIDES (use ssh and/or sockit)" ;;
  esac
done
[ $want_ssh = 1 ] || [ $want_sockit = 1 ] || die "SIDES is empty"

# ---- what the run needs ----
if [ $want_sockit = 1 ]; then
  [ -x "$SOCKIT" ] || die "$SOCKIT not found: run 'make build' first (or SIDES=ssh for the ssh half alone)"
  # (a sockit without the subcommand prints its top-level help for `exec --help`)
  if ! "$SOCKIT" exec serve --help 2>&1 | grep -q -- '--tls-self-signed'; then
    die "$SOCKIT has no 'exec' subcommand yet ('$SOCKIT exec serve --help' does not show it): build one that has (or SIDES=ssh)"
  fi
  command -v openssl >/dev/null || die "openssl not found (scripts/install-deps bench)"
fi
if [ $want_ssh = 1 ]; then
  SSHD=$(command -v sshd || true)
  [ -n "$SSHD" ] || { [ -x /usr/sbin/sshd ] && SSHD=/usr/sbin/sshd; } || true
  [ -n "$SSHD" ] || die "sshd not found (scripts/install-deps bench installs openssh-server)"
  { command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; } \
    || die "ssh / ssh-keygen not found (scripts/install-deps bench installs openssh-client)"
  command -v python3 >/dev/null || die "python3 not found (picks the free port)"
  # sshd started by root checks that its privilege separation directory exists
  if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
    mkdir -m 0755 /run/sshd || die "cannot create /run/sshd, which sshd needs when run as root"
  fi
fi

FILE_BYTES=$(( FILE_MIB * 1024 * 1024 ))
avail=$(df --output=avail -B1 /dev/shm | tail -1 | tr -d ' ')
[ "$avail" -gt $(( FILE_BYTES + 64 * 1024 * 1024 )) ] \
  || die "/dev/shm has $avail bytes free; the ${FILE_MIB} MiB file needs more (set FILE_MIB lower)"

TMP=$(mktemp -d /dev/shm/sockit-bench-exec.XXXXXX)
chmod 700 "$TMP"
mkdir -p "$TMP/home"
PIDS=()

stop_pid() { # pid: TERM, then KILL after 3 s
  local p=$1 i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local i
  # the newest first: the ssh master before the sshd it is connected to
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# CPU busy share (percent) over one second, to flag a machine that is not quiet
cpu_busy() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; printf "%d", (busy + idle) ? 100 * busy / (busy + idle) : 0 }'
}

# ---- sshd: own config, own keys, a free loopback port, the current user ----
SSH_PORT=""
SSH_CIPHER=n/a
if [ $want_ssh = 1 ]; then
  ssh-keygen -q -t ed25519 -N '' -C sockit-bench-host -f "$TMP/host_key" </dev/null
  ssh-keygen -q -t ed25519 -N '' -C sockit-bench-client -f "$TMP/client_key" </dev/null
  cp "$TMP/client_key.pub" "$TMP/authorized_keys"
  chmod 600 "$TMP/authorized_keys"
  free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  }
  ME=$(id -un)
  # shellcheck disable=SC2206  # SSH_OPTS is a word list on purpose
  SSH_BASE=(ssh -F /dev/null -i "$TMP/client_key" -o IdentitiesOnly=yes -o IdentityAgent=none
            -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
            -o LogLevel=ERROR -o ConnectTimeout=10 $SSH_OPTS -l "$ME")
  started_sshd=0
  for _ in 1 2 3 4 5; do
    SSH_PORT=$(free_port)
    cat >"$TMP/sshd_config" <<EOF
ListenAddress 127.0.0.1:$SSH_PORT
HostKey $TMP/host_key
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
MaxSessions 64
MaxStartups 100:30:200
LogLevel ERROR
EOF
    # sshd runs commands with the user's login shell; bash then reads ~/.bashrc
    # (it does when SSH_CLIENT is set and SHLVL is not), which on a developer's
    # machine can cost more than ssh itself (pyenv: 0.4 s). sockit's server
    # runs /bin/sh -c, which reads nothing, so ssh's shell skips it too.
    [ "$SSH_RC" = 1 ] || echo "SetEnv SHLVL=1" >>"$TMP/sshd_config"
    "$SSHD" -f "$TMP/sshd_config" -D -e >"$TMP/sshd.log" 2>&1 </dev/null &
    SSHD_PID=$!
    PIDS+=("$SSHD_PID")
    for i in $(seq 100); do
      if ! kill -0 "$SSHD_PID" 2>/dev/null; then break; fi
      if "${SSH_BASE[@]}" -o ControlPath=none -p "$SSH_PORT" 127.0.0.1 true </dev/null 2>"$TMP/ssh.err"; then
        started_sshd=1; break
      fi
      sleep 0.1
    done
    [ $started_sshd = 1 ] && break
    stop_pid "$SSHD_PID"
    if grep -qi 'address already in use' "$TMP/sshd.log"; then
      log "port $SSH_PORT was taken meanwhile, trying another"; continue
    fi
    log "sshd did not come up ($SSHD -f $TMP/sshd_config -D -e); its log and the client's error:"
    sed 's/^/  sshd: /' "$TMP/sshd.log" >&2
    sed 's/^/  ssh: /' "$TMP/ssh.err" >&2
    exit 1
  done
  [ $started_sshd = 1 ] || die "sshd could not bind a free port in 5 attempts"
  SSH_CIPHER=$("${SSH_BASE[@]}" -v -o ControlPath=none -p "$SSH_PORT" 127.0.0.1 true </dev/null 2>&1 \
                 | sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -1)
  log "sshd: 127.0.0.1:$SSH_PORT (pid $SSHD_PID, user $ME, $("$SSHD" -V 2>&1 | head -1), cipher ${SSH_CIPHER:-?})"

  # One multiplexed master connection, started here so that its PID is ours;
  # the measured clients attach to it (ControlMaster=no: they never become one).
  CTL=$TMP/ctl
  "${SSH_BASE[@]}" -M -N -o ControlPath="$CTL" -o ControlPersist=no -p "$SSH_PORT" 127.0.0.1 \
    </dev/null >"$TMP/master.log" 2>&1 &
  MASTER_PID=$!
  PIDS+=("$MASTER_PID")
  for i in $(seq 100); do
    "${SSH_BASE[@]}" -o ControlPath="$CTL" -O check -p "$SSH_PORT" 127.0.0.1 >/dev/null 2>&1 && break
    kill -0 "$MASTER_PID" 2>/dev/null || die "the ssh master connection exited: $(tr '\n' ' ' <"$TMP/master.log")"
    sleep 0.1
  done
  "${SSH_BASE[@]}" -o ControlPath="$CTL" -O check -p "$SSH_PORT" 127.0.0.1 >/dev/null 2>&1 \
    || die "the ssh master connection did not come up: $(tr '\n' ' ' <"$TMP/master.log")"
  SSH_MUX=("${SSH_BASE[@]}" -o ControlMaster=no -o ControlPath="$CTL" -p "$SSH_PORT" 127.0.0.1)
  SSH_FRESH=("${SSH_BASE[@]}" -o ControlMaster=no -o ControlPath=none -p "$SSH_PORT" 127.0.0.1)
  # the master must serve the clients: ssh silently connects anew when it cannot
  # shellcheck disable=SC2016  # $SSH_CONNECTION is the remote shell's
  [ "$("${SSH_MUX[@]}" 'echo $SSH_CONNECTION' </dev/null)" = \
    "$("${SSH_MUX[@]}" 'echo $SSH_CONNECTION' </dev/null)" ] \
    || die "ssh clients do not share the master connection"
fi

# ---- sockit exec serve, with TLS (and without, as a reference) ----
declare -A SADDR
SOCKIT_FP=""
if [ $want_sockit = 1 ]; then
  head -c 32 /dev/urandom | base64 >"$TMP/token"
  chmod 600 "$TMP/token"
  TOKEN=$(cat "$TMP/token")
  start_sockit() { # name args...: sets SADDR[name]
    local name=$1 i line p; shift
    HOME=$TMP/home "$SOCKIT" exec serve --listen 127.0.0.1:0 --print-address --token-file "$TMP/token" "$@" \
      >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
    p=$!
    PIDS+=("$p")
    line=""
    for i in $(seq 100); do
      line=$(grep -m1 '^tcp://' "$TMP/$name.out" 2>/dev/null || true)
      [ -n "$line" ] && break
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    if [ -z "$line" ]; then
      log "sockit exec serve ($name) did not print its address within 10 s; its stdout and stderr:"
      sed 's/^/  out: /' "$TMP/$name.out" >&2
      sed 's/^/  err: /' "$TMP/$name.err" >&2
      exit 1
    fi
    SADDR[$name]=${line#tcp://}
    log "sockit exec serve ($name): ${SADDR[$name]} (pid $p)"
  }
  start_sockit tls --tls-self-signed --tls-dir "$TMP/tls"
  [ -f "$TMP/tls/cert.pem" ] || die "no $TMP/tls/cert.pem after 'sockit exec serve --tls-self-signed' (files: $(ls "$TMP/tls" 2>/dev/null | tr '\n' ' '))"
  SOCKIT_FP=$(openssl x509 -noout -fingerprint -sha256 -in "$TMP/tls/cert.pem" | sed 's/^[^=]*=//')
  [ -n "$SOCKIT_FP" ] || die "could not read the fingerprint of $TMP/tls/cert.pem"
  log "sockit TLS fingerprint: $SOCKIT_FP"
  if [ "$PLAIN" = 1 ]; then start_sockit plain; fi
fi
# sockit client: the token from the environment, state files in the temp dir
sx() { HOME=$TMP/home SOCKIT_TOKEN=$TOKEN "$SOCKIT" exec "$@"; }
sx_tls() { local a=$1; shift; sx --tls --fingerprint "$SOCKIT_FP" "$a" "$@"; }
sx_plain() { local a=$1; shift; sx "$a" "$@"; }

# ---- the sides measured ----
RUNNERS=()
if [ $want_ssh = 1 ]; then RUNNERS+=(ssh); fi
if [ $want_sockit = 1 ]; then
  RUNNERS+=(sockit-tls)
  if [ "$PLAIN" = 1 ]; then RUNNERS+=(sockit-plain); fi
fi

client() { # runner addr-args... -> runs one command with a fresh connection
  local r=$1; shift
  case $r in
    ssh) "${SSH_FRESH[@]}" "$@" ;;
    sockit-tls) sx_tls "${SADDR[tls]}" -- "$@" ;;
    sockit-plain) sx_plain "${SADDR[plain]}" -- "$@" ;;
  esac
}

# Checks, untimed: each side runs commands, returns exit status and output.
for r in "${RUNNERS[@]}"; do
  out=$(client "$r" 'echo ok; exit 3' </dev/null) && rc=0 || rc=$?
  { [ "$out" = ok ] && [ "$rc" = 3 ]; } || die "$r: 'echo ok; exit 3' gave '$out' and exit status $rc"
  case $r in
    ssh) out=$(for i in 1 2 3; do "${SSH_MUX[@]}" echo x </dev/null; done | grep -c '^x$') ;;
    sockit-tls) out=$(printf 'echo x\necho x\necho x\n' | sx_tls "${SADDR[tls]}" 2>"$TMP/one.err" | grep -c '^\(>> \)*x$' || true) ;;
    sockit-plain) out=$(printf 'echo x\necho x\necho x\n' | sx_plain "${SADDR[plain]}" 2>"$TMP/one.err" | grep -c '^\(>> \)*x$' || true) ;;
  esac
  [ "$out" = 3 ] || die "$r: three 'echo x' over one connection printed $out lines of x, not 3 $( [ -s "$TMP/one.err" ] && tr '\n' ' ' <"$TMP/one.err")"
done

# ---- the file ----
FILE=$TMP/data.bin
log "writing ${FILE_MIB} MiB of random bytes to $FILE"
head -c "$FILE_BYTES" /dev/urandom >"$FILE"
# a check that the whole file arrives, on a small prefix-sized copy
head -c $(( 4 * 1024 * 1024 )) "$FILE" >"$TMP/small.bin"
want_sum=$(sha256sum <"$TMP/small.bin" | cut -d' ' -f1)
for r in "${RUNNERS[@]}"; do
  got=$(client "$r" cat "$TMP/small.bin" </dev/null | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want_sum" ] || die "$r: 'cat' of a 4 MiB file arrived altered"
done

# ---- measurements: each prints a figure, or fails ----
lines_of_true() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) print "true" }'; }
one_conn() { # runner n -> commands/s
  local r=$1 n=$2 t0 t1 i
  t0=$(now)
  case $r in
    ssh)
      for ((i = 0; i < n; i++)); do "${SSH_MUX[@]}" true </dev/null || return 1; done
      kill -0 "$MASTER_PID" 2>/dev/null || { log "the ssh master connection died"; return 1; }
      ;;
    sockit-tls) lines_of_true "$n" | sx_tls "${SADDR[tls]}" >/dev/null || return 1 ;;
    sockit-plain) lines_of_true "$n" | sx_plain "${SADDR[plain]}" >/dev/null || return 1 ;;
  esac
  t1=$(now)
  awk -v n="$n" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", n / s }'
}
fresh_conn() { # runner n -> commands/s
  local r=$1 n=$2 t0 t1 i
  t0=$(now)
  for ((i = 0; i < n; i++)); do client "$r" true </dev/null || return 1; done
  t1=$(now)
  awk -v n="$n" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", n / s }'
}
throughput() { # runner -> MB/s
  local r=$1 t0 t1
  t0=$(now)
  client "$r" cat "$FILE" </dev/null >/dev/null || return 1
  t1=$(now)
  awk -v b="$FILE_BYTES" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.0f", b / s / 1e6 }'
}

BUSY=$(cpu_busy)
[ "$BUSY" -gt 15 ] && log "WARNING: the machine was ${BUSY}% busy before the run: other work skews these figures"

POINTS=(one fresh cat)
declare -A RES
nr=${#RUNNERS[@]}
started=$(date +%s)
# A short unmeasured warm-up of every side (page cache, first TLS key use)
for r in "${RUNNERS[@]}"; do
  one_conn "$r" 5 >/dev/null || die "$r: warm-up failed"
  fresh_conn "$r" 2 >/dev/null || die "$r: warm-up failed"
done
for pi in "${!POINTS[@]}"; do
  p=${POINTS[$pi]}
  for ((round = 0; round < ROUNDS; round++)); do
    for ((k = 0; k < nr; k++)); do
      r=${RUNNERS[$(( (pi + round + k) % nr ))]}
      case $p in
        one) v=$(one_conn "$r" "$N_ONE") || die "$r: $N_ONE commands over one connection failed" ;;
        fresh) v=$(fresh_conn "$r" "$N_FRESH") || die "$r: $N_FRESH commands with fresh connections failed" ;;
        cat) v=$(throughput "$r") || die "$r: cat of the ${FILE_MIB} MiB file failed" ;;
      esac
      RES["$p,$r,$round"]=$v
      log "$p $r: $v"
    done
  done
done
log "measured in $(( $(date +%s) - started )) s"

median() { # point runner -> median over rounds
  local p=$1 r=$2 round
  for ((round = 0; round < ROUNDS; round++)); do echo "${RES["$p,$r,$round"]}"; done \
    | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
has() { case " ${RUNNERS[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

MD=$OUT/exec-results.md
{
  echo "Exec benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r), CPU ${BUSY}% busy before the run; rounds ${ROUNDS} (median)."
  echo "ssh: $( [ $want_ssh = 1 ] && "$SSHD" -V 2>&1 | head -1 || echo n/a) to a local sshd as $(id -un), cipher ${SSH_CIPHER:-?}${SSH_OPTS:+, options $SSH_OPTS}$( [ "$SSH_RC" = 1 ] && echo ", the remote shell reading its startup files" || echo ", the remote shell reading no startup file (SetEnv SHLVL=1)"). sockit: $( if [ $want_sockit = 1 ]; then echo "$SOCKIT, TLS with a pinned self-signed certificate"; [ "$PLAIN" = 1 ] && echo "; sockit-plain = the same without TLS (loopback only, a reference)"; else echo "not measured (SIDES=$SIDES)"; fi | tr -d '\n')."
  echo "Command: \`$CMDLINE\`"
  echo
  hdr="| point |"; sep="|---|"
  for r in "${RUNNERS[@]}"; do hdr+=" $r |"; sep+="---|"; done
  if has ssh && has sockit-tls; then hdr+=" sockit-tls / ssh | goal |"; sep+="---|---|"; fi
  if has ssh && has sockit-plain; then hdr+=" sockit-plain / ssh |"; sep+="---|"; fi
  echo "$hdr"; echo "$sep"
  for p in "${POINTS[@]}"; do
    case $p in
      one) label="\`true\` over one connection, commands/s (N=$N_ONE)"; goal=">= 2x" ;;
      fresh) label="\`true\`, a fresh connection each, commands/s (N=$N_FRESH)"; goal=">= 2x" ;;
      cat) label="\`cat\` of a ${FILE_MIB} MiB file from tmpfs, MB/s"; goal=">= 1.0x" ;;
    esac
    row="| $label |"
    declare -A V=()
    for r in "${RUNNERS[@]}"; do V[$r]=$(median "$p" "$r"); row+=" ${V[$r]} |"; done
    if has ssh && has sockit-tls; then row+=" $(ratio "${V[sockit-tls]}" "${V[ssh]}") | $goal |"; fi
    if has ssh && has sockit-plain; then row+=" $(ratio "${V[sockit-plain]}" "${V[ssh]}") |"; fi
    echo "$row"
  done
  echo
} >"$MD.tmp"
mv "$MD.tmp" "$MD"
echo
cat "$MD"
echo "(also written to $MD)"

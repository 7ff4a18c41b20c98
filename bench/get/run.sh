#!/usr/bin/env bash
# sockit's downloader benchmark: `sockit get` against curl and wget, in the
# same run, fetching from nginx on loopback into tmpfs.
#
#   bash bench/get/run.sh
#
#   1. one file of SIZE (1 GiB) bytes, MB/s (10^6 bytes/s):
#        sockit   sockit get -q -o OUT URL
#        curl     curl -s -o OUT URL
#        wget     wget -q -O OUT URL
#   2. FILES (1,000) files of FILE_BYTES (10 KiB), files/s, all URLs given to
#      one command:
#        sockit   sockit get -q --parallel 8 -O URL...   (kept-alive connections, 8 at once)
#        curl     curl -s --remote-name-all URL...        (one kept-alive connection)
#        curl-Z   curl -s -Z --parallel-max 8 --remote-name-all URL...
#        wget     wget -q -i LIST                         (one kept-alive connection)
#   3. one file of RATE_SIZE (256 MiB) from a location nginx limits to RATE
#      (32 MiB/s) per connection, as many real servers do:
#        sockit-split4  sockit get -q --split 4 -o OUT URL
#        sockit         sockit get -q -o OUT URL
#        curl           curl -s -o OUT URL
#
# Each round runs every tool once, the order rotating from round to round;
# the median over ROUNDS is reported with the ratio sockit / tool. A run is
# timed from the start of the command to its exit. Outputs are compared with
# the source (cmp / file count) after every run, outside the timed part.
# Before each timed run a ballast of the output's size is written to and
# deleted from tmpfs (untimed): this VM gives freed pages back to the host,
# and writing into such pages is several times slower (docs/benchmarks.md,
# Transfer). PRIME=0 turns it off.
#
# Goals (issue 6): sockit >= 1.0x curl on the big file, >= 1.5x curl on the
# small files, >= 3.5x curl on the rate-limited file with --split 4.
#
# Environment: SOCKIT (build/release/sockit), SIZE (1G), FILES (1000),
# FILE_BYTES (10240), RATE (32m, nginx syntax), RATE_SIZE (256M), ROUNDS (3),
# QUICK=1 (256M, 200 files, 64M at 32m, one round: a smoke run), PRIME (1).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOCKIT=${SOCKIT:-$ROOT/build/release/sockit}
if [ -n "${QUICK:-}" ]; then
  SIZE=${SIZE:-256M}; FILES=${FILES:-200}; RATE_SIZE=${RATE_SIZE:-64M}; ROUNDS=${ROUNDS:-1}
fi
SIZE=${SIZE:-1G}; FILES=${FILES:-1000}; FILE_BYTES=${FILE_BYTES:-10240}
RATE=${RATE:-32m}; RATE_SIZE=${RATE_SIZE:-256M}; ROUNDS=${ROUNDS:-3}; PRIME=${PRIME:-1}
for tool in nginx curl wget; do
  command -v "$tool" >/dev/null || { echo "bench/get: $tool is missing (scripts/install-deps bench)" >&2; exit 1; }
done
[ -x "$SOCKIT" ] || { echo "bench/get: no $SOCKIT (make build)" >&2; exit 1; }

work=$(mktemp -d /dev/shm/sockit-bench-get.XXXXXX)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www/small" "$work/out" "$work/nginx/logs" "$work/nginx/tmp"
bytes() { numfmt --from=iec "$1"; }
size=$(bytes "$SIZE"); rate_size=$(bytes "$RATE_SIZE")
head -c "$size" /dev/urandom > "$work/www/big.bin"
head -c "$rate_size" /dev/urandom > "$work/www/rated.bin"
for i in $(seq -w 0 $((FILES - 1))); do head -c "$FILE_BYTES" /dev/urandom > "$work/www/small/f$i"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port;
    root $work/www;
    location /rated/ { alias $work/www/; limit_rate $RATE; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$port"
urls=(); for f in "$work"/www/small/*; do urls+=("$base/small/$(basename "$f")"); done
printf '%s\n' "${urls[@]}" > "$work/list"

prime() {
  [ "$PRIME" = 1 ] || return 0
  head -c "$1" /dev/zero > "$work/ballast" 2>/dev/null || true
  rm -f "$work/ballast"
}
now() { date +%s.%N; }
# run NAME KIND COMMAND...: times the command (in $work/out), checks the
# result, prints the seconds.
run_one() {
  local kind=$1; shift
  rm -rf "$work/out"; mkdir -p "$work/out"
  case $kind in big) prime "$size" ;; rated) prime "$rate_size" ;; small) prime $((FILES * FILE_BYTES)) ;; esac
  local start end
  start=$(now)
  (cd "$work/out" && "$@") >/dev/null 2>"$work/err" || { echo "bench/get: failed: $* ($(head -c 500 "$work/err"))" >&2; exit 1; }
  end=$(now)
  case $kind in
    big) cmp -s "$work/out/big.bin" "$work/www/big.bin" || { echo "bench/get: wrong output: $*" >&2; exit 1; } ;;
    rated) cmp -s "$work/out/rated.bin" "$work/www/rated.bin" || { echo "bench/get: wrong output: $*" >&2; exit 1; } ;;
    small) { [ "$(ls "$work/out" | wc -l)" = "$FILES" ] && diff -rq "$work/out" "$work/www/small" >/dev/null; } ||
             { echo "bench/get: wrong output: $*" >&2; exit 1; } ;;
  esac
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }'
}

declare -A times
tool_big() {
  case $1 in
    sockit) run_one big "$SOCKIT" get -q -o big.bin "$base/big.bin" ;;
    curl) run_one big curl -s -o big.bin "$base/big.bin" ;;
    wget) run_one big wget -q -O big.bin "$base/big.bin" ;;
  esac
}
tool_small() {
  case $1 in
    sockit) run_one small "$SOCKIT" get -q --parallel 8 -O "${urls[@]}" ;;
    curl) run_one small curl -s --remote-name-all "${urls[@]}" ;;
    curl-Z) run_one small curl -s -Z --parallel-max 8 --remote-name-all "${urls[@]}" ;;
    wget) run_one small wget -q -i "$work/list" ;;
  esac
}
tool_rated() {
  case $1 in
    sockit-split4) run_one rated "$SOCKIT" get -q --split 4 -o rated.bin "$base/rated/rated.bin" ;;
    sockit) run_one rated "$SOCKIT" get -q -o rated.bin "$base/rated/rated.bin" ;;
    curl) run_one rated curl -s -o rated.bin "$base/rated/rated.bin" ;;
  esac
}
rotate() {  # rotate ROUND TOOLS...: the tools, starting at ROUND mod count
  local r=$1; shift; local n=$#; local i
  for ((i = 0; i < n; i++)); do local k=$(((r + i) % n + 1)); echo "${!k}"; done
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

big_tools=(sockit curl wget); small_tools=(sockit curl curl-Z wget); rated_tools=(sockit-split4 sockit curl)
for ((round = 0; round < ROUNDS; round++)); do
  for t in $(rotate "$round" "${big_tools[@]}"); do times[big,$t]+="$(tool_big "$t") "; done
  for t in $(rotate "$round" "${small_tools[@]}"); do times[small,$t]+="$(tool_small "$t") "; done
  for t in $(rotate "$round" "${rated_tools[@]}"); do times[rated,$t]+="$(tool_rated "$t") "; done
done

report() {  # report KIND UNIT AMOUNT REFERENCE TOOLS...
  local kind=$1 unit=$2 amount=$3 ref=$4; shift 4
  local ref_t; ref_t=$(tr ' ' '\n' <<<"${times[$kind,$ref]}" | grep . | median)
  printf '| tool | %s (median) | seconds per round | %s / tool |\n|---|---|---|---|\n' "$unit" "$ref"
  for t in "$@"; do
    local m; m=$(tr ' ' '\n' <<<"${times[$kind,$t]}" | grep . | median)
    printf '| %s | %.1f | %s | %.2fx |\n' "$t" "$(awk -v a="$amount" -v m="$m" 'BEGIN { print a / m }')" \
      "$(echo "${times[$kind,$t]}" | xargs printf '%.3f ')" "$(awk -v m="$m" -v r="$ref_t" 'BEGIN { print m / r }')"
  done
  echo
}
echo "sockit get benchmark: nginx $(nginx -v 2>&1 | sed 's/.*\///'), curl $(curl --version | head -1 | cut -d' ' -f2), wget $(wget --version | head -1 | cut -d' ' -f3); $ROUNDS rounds"
echo
echo "One file of $SIZE, MB/s:"; echo
report big MB/s "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" sockit "${big_tools[@]}"
echo "$FILES files of $FILE_BYTES bytes, files/s:"; echo
report small files/s "$FILES" sockit "${small_tools[@]}"
echo "One file of $RATE_SIZE, nginx limit_rate $RATE per connection, MB/s:"; echo
report rated MB/s "$(awk -v s="$rate_size" 'BEGIN { print s / 1e6 }')" sockit-split4 "${rated_tools[@]}"

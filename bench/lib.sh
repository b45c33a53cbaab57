# shellcheck shell=bash
# Helpers shared by the side-by-side benchmark scenarios (source it: `. "$(dirname "$0")/../lib.sh"`).
#
# The contract every scenario follows:
# - an executable `bench/scenarios/<name>.sh [--quick|--full] --out DIR` (default --quick);
# - the systems under test come from the environment, with these defaults:
#     PHAROS_BIN=target/release/pharos (under $CARGO_TARGET_DIR when set), PROMETHEUS_BIN=/usr/bin/prometheus,
#     PROMTOOL_BIN=/usr/bin/promtool, VM_BIN=/usr/bin/victoria-metrics,
#     ALERTMANAGER_BIN=/usr/bin/prometheus-alertmanager;
# - the system under test runs pinned to core $SUT_CORE (1) and load generators to $LOAD_CORE (0),
#   with `pin CORE cmd...`;
# - the operating system is the meter: cpu_ticks, rss_bytes, io_write_bytes below, `du` for disk;
# - results go to DIR/<name>.tsv, one line per measured figure, written with tsv_row:
#     row<TAB>metric<TAB>unit<TAB>pharos<TAB>prometheus<TAB>victoriametrics
#   (empty field = not measured; `row` names the load, e.g. "100k series @15s"; lower-is-better
#   or higher-is-better is said by the unit, see bench/README.md); optionally DIR/<name>.png.
# - every process a scenario starts is stopped on exit (start_bg + the EXIT trap set by bench_init).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pharos/target}
PHAROS_BIN=${PHAROS_BIN:-$CARGO_TARGET_DIR/release/pharos}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
PROMTOOL_BIN=${PROMTOOL_BIN:-/usr/bin/promtool}
VM_BIN=${VM_BIN:-/usr/bin/victoria-metrics}
ALERTMANAGER_BIN=${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}
SUT_CORE=${SUT_CORE:-1}
LOAD_CORE=${LOAD_CORE:-0}
CLK_TCK=$(getconf CLK_TCK)
BENCH_PIDS=()

# log MSG...: a timestamped progress line on stderr (stdout stays free for results).
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# die MSG...: log and exit 1.
die() { log "error: $*"; exit 1; }

# parse_args "$@": sets MODE (quick|full) and OUT (directory, created). Call it first.
parse_args() {
  MODE=quick
  OUT=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) MODE=quick ;;
      --full) MODE=full ;;
      --out) OUT=${2:?--out needs a directory}; shift ;;
      --out=*) OUT=${1#--out=} ;;
      *) die "unknown argument: $1 (usage: $0 [--quick|--full] --out DIR)" ;;
    esac
    shift
  done
  [ -n "$OUT" ] || die "missing --out DIR"
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
}

# bench_init: a scratch directory $WORK (removed on exit) and the EXIT/INT/TERM trap that stops
# every process started with start_bg.
bench_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/pharos-bench.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  BENCH_PIDS=()
  [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP_WORK:-}" ] && rm -rf "$WORK"
  return 0
}

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready URL TIMEOUT_SECONDS [PID]: polls URL until it answers 2xx; returns 1 on timeout
# or, when PID is given, as soon as that process has exited.
wait_ready() {
  local url=$1 timeout=${2:-60} pid=${3:-} deadline
  deadline=$(($(date +%s) + timeout))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited before $url was ready"
      return 1
    fi
    sleep 0.2
  done
  log "not ready after ${timeout}s: $url"
  return 1
}

# pin CORE CMD...: runs CMD on one CPU core (taskset -c). It execs, so use it in the background
# or a subshell: `pin 1 cmd args & pid=$!` gives cmd's own PID.
pin() {
  local core=$1; shift
  exec taskset -c "$core" "$@"
}

# start_bg LOGFILE CORE CMD...: starts CMD in the background pinned to CORE, output to LOGFILE;
# sets START_PID (the PID of CMD itself) and registers it for the exit cleanup.
start_bg() {
  local logfile=$1 core=$2; shift 2
  taskset -c "$core" "$@" >"$logfile" 2>&1 &
  START_PID=$!
  BENCH_PIDS+=("$START_PID")
}

# stop_pid PID: SIGTERM, up to 30 s for a clean exit, then SIGKILL; removes it from the cleanup list.
stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# cpu_ticks PID: user+system CPU time of PID (all its threads) in seconds, from /proc/PID/stat.
cpu_ticks() {
  # Fields after the ")" that ends the command name: utime is field 14, stime 15 of the line.
  awk -v tck="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / tck }' "/proc/$1/stat"
}

# rss_bytes PID: resident set size of PID in bytes (VmRSS).
rss_bytes() { awk '/^VmRSS:/ { printf "%.0f\n", $2 * 1024 }' "/proc/$1/status"; }

# io_write_bytes PID: bytes PID caused to be written to storage (write_bytes of /proc/PID/io).
io_write_bytes() { awk '/^write_bytes:/ { print $2 }' "/proc/$1/io"; }

# load_avg: the 1-minute load average (to record next to each figure).
load_avg() { cut -d' ' -f1 /proc/loadavg; }

# tsv_header FILE: creates FILE with the column header line.
tsv_header() { printf 'row\tmetric\tunit\tpharos\tprometheus\tvictoriametrics\n' >"$1"; }

# tsv_row FILE ROW METRIC UNIT PHAROS PROMETHEUS VM: appends one result line (empty = not measured).
tsv_row() {
  local file=$1; shift
  [ $# -eq 6 ] || die "tsv_row needs 6 fields, got $#: $*"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$file"
}

# prom_query BASE_URL PROMQL: the first value of an instant query's result (Prometheus HTTP API,
# which Pharos and VictoriaMetrics both serve), or empty.
prom_query() {
  curl -fsS --max-time 30 "$1/api/v1/query" --data-urlencode "query=$2" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}

# calc EXPR: floating-point arithmetic (awk), e.g. `calc "($b - $a) / 3"`; prints with 6 significant digits.
calc() { awk "BEGIN { printf \"%.6g\\n\", ($1) }"; }

# median NUM...: the median of the arguments (empty arguments ignored; empty when none).
median() {
  printf '%s\n' "$@" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

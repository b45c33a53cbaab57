#!/usr/bin/env bash
# Pharos' CPU per scraped sample, two binaries (or two environments) compared in interleaved
# runs: the measurement to use when a change is expected to move the ingestion CPU by less than
# this shared machine's run-to-run noise (the same binary has read 0.7 to 1.7 µs per sample
# within minutes, as other processes' memory traffic evicted the head from the caches).
#
# Usage: flock /tmp/pharos-bench.lock bench/ingestion-ab.sh [--out DIR]
# Env:
#   A_BIN, B_BIN    the two pharos binaries (B_BIN defaults to A_BIN: compare environments)
#   A_KIND, B_KIND  pharos (default) or prometheus: with B_KIND=prometheus and B_BIN unset, B is
#                   $PROMETHEUS_BIN, and the pairs give Pharos' CPU per sample as a ratio to
#                   Prometheus' taken minutes apart at most, which this machine's drifts (see
#                   above) move far less than the ratio of two runs a quarter of an hour apart
#   A_ENV, B_ENV    space-separated VAR=VALUE added to each side's environment (default none)
#   PAIRS           interleaved pairs, A B then B A alternately (default 4)
#   SERIES          active target series, 1,000 per target (default 100000)
#   INTERVAL        scrape interval in seconds (default 1)
#   WARMUP, WINDOW  seconds from ready to the window, and the window (default 15 and 20)
#   LOADGEN_BIN     as in scenarios/ingestion.sh
#
# One load generator (core $LOAD_CORE) serves every run; each run starts the server afresh,
# pinned to core $SUT_CORE, with an empty data directory. Over the window it records, from
# /proc: the server's CPU per sample (each thread's on-CPU time from schedstat, in ns, summed;
# samples = what the load generator served in the window), user and system time, minor faults
# and context switches per 1,000 samples, the CPU per sample by thread name (tokio workers, WAL,
# compaction...), the load generator's own CPU per sample (the same work every run: when it
# moves, the machine moved) and the 1-minute load. Results: DIR/runs.tsv (one line per run),
# DIR/threads-<run>.txt, and on stdout the median per side and the median of the per-pair
# ratios B/A, which is the figure to quote.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=${OUT:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:?--out needs a directory}; shift ;;
    --out=*) OUT=${1#--out=} ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ingestion-ab.XXXXXX")}
mkdir -p "$OUT"
bench_init

A_KIND=${A_KIND:-pharos}
B_KIND=${B_KIND:-pharos}
for kind in "$A_KIND" "$B_KIND"; do
  case "$kind" in pharos | prometheus) ;; *) die "A_KIND and B_KIND are pharos or prometheus, not $kind" ;; esac
done
default_bin() { if [ "$1" = prometheus ]; then echo "$PROMETHEUS_BIN"; else echo "$2"; fi; }
A_BIN=${A_BIN:-$(default_bin "$A_KIND" "$PHAROS_BIN")}
B_BIN=${B_BIN:-$(default_bin "$B_KIND" "$A_BIN")}
A_ENV=${A_ENV:-}
B_ENV=${B_ENV:-}
PAIRS=${PAIRS:-4}
SERIES=${SERIES:-100000}
INTERVAL=${INTERVAL:-1}
WARMUP=${WARMUP:-15}
WINDOW=${WINDOW:-20}
LOADGEN_BIN=${LOADGEN_BIN:-$CARGO_TARGET_DIR/release/loadgen}
for bin in "$A_BIN" "$B_BIN" "$LOADGEN_BIN"; do
  [ -x "$bin" ] || die "not executable: $bin"
done

# thread_times PID: one line per thread: name, on-CPU ns, utime and stime ticks, minor faults,
# voluntary and involuntary context switches.
thread_times() {
  local t name
  for t in /proc/"$1"/task/*; do
    name=$(tr ' ' '_' <"$t/comm" 2>/dev/null) || continue
    {
      read -r ns _ <"$t/schedstat"
      awk -v name="$name" -v ns="$ns" '
        FNR == 1 && FILENAME ~ /stat$/ { sub(/^.*\) /, ""); split($0, f, " "); minflt = f[8]; ut = f[12]; st = f[13] }
        /^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { nv = $2 }
        END { print name, ns, ut, st, minflt, v, nv }' "$t/stat" "$t/status"
    } 2>/dev/null || true
  done
}

# Sums per thread name between two thread_times outputs (threads born in the window count from 0).
thread_delta() {
  awk '
    FNR == NR { k = $1 "#" (++n[$1]); ns[k] = $2; ut[k] = $3; st[k] = $4; mf[k] = $5; v[k] = $6; nv[k] = $7; next }
    { k = $1 "#" (++m[$1]); name = $1
      NS[name] += $2 - ns[k]; UT[name] += $3 - ut[k]; ST[name] += $4 - st[k]; MF[name] += $5 - mf[k]
      V[name] += $6 - v[k]; NV[name] += $7 - nv[k]; C[name]++ }
    END { for (x in NS) print x, C[x], NS[x], UT[x], ST[x], MF[x], V[x], NV[x] }' "$1" "$2"
}

loadgen_samples() { curl -fsS "http://$LOADGEN_CONTROL/stats" | awk '$1 == "samples" { print $2 }'; }
# proc_ticks PID: user and system ticks of the whole process.
proc_ticks() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12], f[13] }' "/proc/$1/stat"; }

targets=$(((SERIES + 999) / 1000))
start_bg "$WORK/loadgen.log" "$LOAD_CORE" "$LOADGEN_BIN" --targets "$targets" --series 1000 \
  --targets-file "$WORK/targets.txt" --control-file "$WORK/control.txt"
LOADGEN_PID=$START_PID
for _ in $(seq 1 600); do [ -s "$WORK/control.txt" ] && break; sleep 0.1; done
[ -s "$WORK/control.txt" ] || die "loadgen did not start: $(cat "$WORK/loadgen.log")"
LOADGEN_CONTROL=$(cat "$WORK/control.txt")
CONFIG=$WORK/prometheus.yml
{
  printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\n' "$INTERVAL" "$INTERVAL"
  printf 'scrape_configs:\n  - job_name: synthetic\n    static_configs:\n      - targets:\n'
  sed 's/.*/          - "&"/' "$WORK/targets.txt"
} >"$CONFIG"

RUNS=$OUT/runs.tsv
printf 'run\tside\tstart\tload1\tsamples\tus_per_sample\tuser_us\tsys_us\tminflt_per_1k\tcs_per_1k\tloadgen_us\tloadgen_sys_us\trss_mib\n' >"$RUNS"

# run_one SIDE N: one run of side A or B; appends to runs.tsv.
run_one() {
  local side=$1 n=$2 bin env kind port data pid before after s0 s1 l0 l1 start
  if [ "$side" = A ]; then bin=$A_BIN; env=$A_ENV; kind=$A_KIND; else bin=$B_BIN; env=$B_ENV; kind=$B_KIND; fi
  port=$(free_port)
  data=$WORK/data-$n-$side
  local cmd=("$bin")
  [ "$kind" = pharos ] && cmd+=(server)
  # shellcheck disable=SC2086 # env is a list of VAR=VALUE words
  start_bg "$WORK/$kind-$n-$side.log" "$SUT_CORE" env $env "${cmd[@]}" --config.file="$CONFIG" \
    --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port"
  pid=$START_PID
  wait_ready "http://127.0.0.1:$port/-/ready" 120 "$pid" || die "$kind did not become ready: $(tail -5 "$WORK/$kind-$n-$side.log")"
  # `env` execs the server, so the PID is the server's; it may re-exec itself (same PID).
  sleep "$WARMUP"
  start=$(date -u +%H:%M:%S)
  before=$WORK/before; after=$WORK/after
  thread_times "$pid" >"$before"; s0=$(loadgen_samples); l0=$(proc_ticks "$LOADGEN_PID")
  sleep "$WINDOW"
  thread_times "$pid" >"$after"; s1=$(loadgen_samples); l1=$(proc_ticks "$LOADGEN_PID")
  local rss samples
  rss=$(rss_bytes "$pid")
  stop_pid "$pid"
  rm -rf "$data"
  samples=$((s1 - s0))
  thread_delta "$before" "$after" | sort -k3,3nr |
    awk -v s="$samples" -v tck="$CLK_TCK" '{ printf "%-20s threads=%d cpu_us_per_sample=%.4f user_s=%.2f sys_s=%.2f minflt=%d vcs=%d nvcs=%d\n", $1, $2, $3 / 1000 / s, $4 / tck, $5 / tck, $6, $7, $8 }' \
      >"$OUT/threads-$n-$side.txt"
  local lg lgs
  lg=$(( ${l1% *} + ${l1#* } - ${l0% *} - ${l0#* } )); lgs=$(( ${l1#* } - ${l0#* } ))
  thread_delta "$before" "$after" | awk -v s="$samples" -v tck="$CLK_TCK" -v lg="$lg" -v lgs="$lgs" \
    -v run="$n" -v side="$side" -v start="$start" -v load="$(load_avg)" -v rss="$rss" '
    { ns += $3; ut += $4; st += $5; mf += $6; cs += $7 + $8 }
    END {
      cpu = ns / 1000 / s; tot = ut + st; if (tot == 0) tot = 1
      printf "%s\t%s\t%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%.2f\t%.4f\t%.4f\t%.1f\n", run, side, start, load, s, cpu,
        cpu * ut / tot, cpu * st / tot, mf * 1000 / s, cs * 1000 / s, lg / tck * 1e6 / s, lgs / tck * 1e6 / s, rss / 1048576 }' >>"$RUNS"
  log "run $n $side: $(tail -1 "$RUNS" | cut -f5-)"
}

log "A=$A_BIN ${A_ENV:+($A_ENV)} B=$B_BIN ${B_ENV:+($B_ENV)}: $PAIRS pairs, $SERIES series @${INTERVAL}s, window ${WINDOW}s"
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then run_one A "$i"; run_one B "$i"; else run_one B "$i"; run_one A "$i"; fi
done

awk -F '\t' 'NR > 1 { v[$2, $1] = $6; lg[$2, $1] = $11; n = ($1 > n ? $1 : n) }
  END {
    for (i = 1; i <= n; i++) { a[i] = v["A", i]; b[i] = v["B", i]; r[i] = v["B", i] / v["A", i] }
    printf "A: median %.3f µs/sample (%s)\n", med(a, n), list(a, n)
    printf "B: median %.3f µs/sample (%s)\n", med(b, n), list(b, n)
    printf "B/A per pair: median %.3f (%s)\n", med(r, n), list(r, n)
    for (i = 1; i <= n; i++) { la[i] = lg["A", i]; lb[i] = lg["B", i] }
    printf "load generator, µs/sample: A runs median %.3f, B runs median %.3f\n", med(la, n), med(lb, n)
  }
  function list(x, n,   s, i) { s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") sprintf("%.3f", x[i]); return s }
  function med(x, n,   y, i, j, t) {
    for (i = 1; i <= n; i++) y[i] = x[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (y[j] < y[i]) { t = y[i]; y[i] = y[j]; y[j] = t }
    return n % 2 ? y[(n + 1) / 2] : (y[n / 2] + y[n / 2 + 1]) / 2
  }' "$RUNS"
log "runs: $RUNS"

#!/usr/bin/env bash
# Scenario "queries": median and p99 latency of range queries (rate, sum by, histogram_quantile,
# a regex selector, a subquery) over a short and a long range, on data backfilled identically
# into Pharos, Prometheus and VictoriaMetrics, all asked over HTTP /api/v1/query_range by the
# same client (bench/tools/query_bench.py) pinned to the load core while the servers share the
# system-under-test core.
#
# Data: promqltest::synth (counters with resets, gauges, a classic histogram; INSTANCES x 184
# series at a 15 s interval), written as OpenMetrics by crates/promqltest/examples/promql_bench.rs,
# then backfilled with `promtool tsdb create-blocks-from openmetrics` (Prometheus), `pharos tsdb
# create-blocks-from openmetrics` (Pharos) and POSTed to /api/v1/import/prometheus
# (VictoriaMetrics, timestamps turned into milliseconds).
#
# Answers are compared in the same run: Pharos must equal Prometheus (bit for bit, or within 1e-9
# relative where Prometheus 2.42 sums without Kahan compensation; a mismatch turns Pharos'
# latency of that row into FAIL); VictoriaMetrics' rate()/increase() and lookback differ from
# Prometheus by design, so its differences are only noted. The checks, series counts and load
# averages go to DIR/queries.notes.txt, the raw answers to DIR/queries-answers/.
#
# Usage: bench/scenarios/queries.sh [--quick|--full] --out DIR
#   quick: 10 targets (1,843 series), 6 h of data, ranges 1 h / 15 s and 6 h / 60 s, 30 timed runs.
#   full: 22 targets (4,051 series), 24 h of data, ranges 1 h / 15 s and 24 h / 60 s, 30 timed runs.
#   p99 is the nearest-rank percentile: with fewer than 100 runs it is the slowest run.
# Environment: PHAROS_BIN, PROMETHEUS_BIN, PROMTOOL_BIN, VM_BIN (see bench/lib.sh),
#   PROMQL_BENCH_BIN (the promql_bench example; built when missing).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
parse_args "$@"
bench_init

NAME=queries
TSV=$OUT/$NAME.tsv
NOTES=$OUT/$NAME.notes.txt  # details: answer checks, counts, load; the TSV holds only result rows
: >"$NOTES"
START_MS=1699999980000
if [ "$MODE" = full ]; then
  INSTANCES=22 HOURS=24 RUNS=30
  RANGES=(1h/15s:3600:15 24h/60s:86400:60)
else
  INSTANCES=10 HOURS=6 RUNS=30
  RANGES=(1h/15s:3600:15 6h/60s:21600:60)
fi
# Ranges end 8 s before the end of the data: evaluation times are then 7 s (mod 15 s), where
# promqltest::synth never puts a sample, and never a multiple of the subquery's 1 m step, so
# Prometheus 2.42's closed range windows and Pharos' left-open ones (Prometheus 3) select the
# same samples.
DATA_END_S=$((START_MS / 1000 + HOURS * 3600))
END_S=$((DATA_END_S - 8))
# Pharos sums with Kahan compensation as Prometheus 3 does (sum, avg, *_over_time); the 2.42
# reference adds naively, so aggregated values may differ in the last bits: allowed up to 1e-9
# relative (a wrong answer is off by far more), reported per row.
TOLERANCE=1e-9
QUERIES=(
  'rate=rate(http_requests_total[5m])'
  'sum by=sum by (method, status) (rate(http_request_duration_seconds_count[5m]))'
  'histogram_quantile=histogram_quantile(0.99, sum by (le, method) (rate(http_request_duration_seconds_bucket[5m])))'
  'regex selector=sum by (instance, path) (rate({__name__=~"http_request_duration_seconds_c.+", path=~"/api/.+|/login", instance=~"host-[0-9]*[13579]:9100"}[5m]))'
  'subquery=max_over_time(sum by (instance) (rate(http_requests_total{code=~"5.."}[5m]))[30m:1m])'
)

for bin in "$PHAROS_BIN" "$PROMETHEUS_BIN" "$PROMTOOL_BIN"; do
  [ -x "$bin" ] || die "not executable: $bin"
done
HAVE_VM=1
[ -x "$VM_BIN" ] || { log "VictoriaMetrics not installed ($VM_BIN): its column stays empty"; HAVE_VM=0; }

PROMQL_BENCH_BIN=${PROMQL_BENCH_BIN:-$CARGO_TARGET_DIR/release/examples/promql_bench}
if [ ! -x "$PROMQL_BENCH_BIN" ]; then
  log "building the promql_bench example (data generator)"
  (cd "$REPO_DIR" && cargo build -q --release -p promqltest --example promql_bench)
fi

# wait_idle PID: waits (up to 180 s) until PID uses under 2 % of a core over 3 s, so background
# work after a start (block loading, VictoriaMetrics' merges) does not land in the timings.
wait_idle() {
  local pid=$1 a b i
  for i in $(seq 1 60); do
    a=$(cpu_ticks "$pid"); sleep 3; b=$(cpu_ticks "$pid")
    awk -v a="$a" -v b="$b" 'BEGIN { exit !((b - a) / 3 < 0.02) }' && return 0
  done
  log "pid $pid still busy after 180 s; measuring anyway"
}

tsv_header "$TSV"
{
  echo "# scenario $NAME ($MODE): $INSTANCES targets, $HOURS h of data at 15 s, ranges ${RANGES[*]} ending at $END_S, $RUNS timed runs + 1 warm-up per query and system; Pharos must equal Prometheus within $TOLERANCE relative"
  echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$NOTES"

log "generating $INSTANCES targets x $HOURS h of synthetic data"
taskset -c "$LOAD_CORE" "$PROMQL_BENCH_BIN" --instances "$INSTANCES" --hours "$HOURS" --start-ms "$START_MS" \
  write "$WORK/data.om" 2>"$WORK/gen.log"
cat "$WORK/gen.log" >&2
echo "# data: $(cat "$WORK/gen.log")" >>"$NOTES"

log "backfilling Prometheus"
taskset -c "$SUT_CORE" "$PROMTOOL_BIN" tsdb create-blocks-from openmetrics --max-block-duration=24h \
  "$WORK/data.om" "$WORK/prom" >"$WORK/promtool.log" 2>&1 || { cat "$WORK/promtool.log" >&2; die "promtool backfill failed"; }
log "backfilling Pharos"
taskset -c "$SUT_CORE" "$PHAROS_BIN" tsdb create-blocks-from openmetrics --quiet --max-block-duration=24h \
  "$WORK/data.om" "$WORK/pharos" >"$WORK/pharos-backfill.log" 2>&1 || { cat "$WORK/pharos-backfill.log" >&2; die "pharos backfill failed"; }

printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\n' >"$WORK/prometheus.yml"

PROM_PORT=$(free_port)
start_bg "$WORK/prometheus.log" "$SUT_CORE" "$PROMETHEUS_BIN" --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/prom" --storage.tsdb.retention.time=100y \
  --web.listen-address="127.0.0.1:$PROM_PORT"
PROM_PID=$START_PID
PHAROS_PORT=$(free_port)
start_bg "$WORK/pharos.log" "$SUT_CORE" "$PHAROS_BIN" server --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/pharos" --storage.tsdb.retention.time=100y \
  --web.listen-address="127.0.0.1:$PHAROS_PORT" --alertmanager.disable-builtin
PHAROS_PID=$START_PID
wait_ready "http://127.0.0.1:$PROM_PORT/-/ready" 300 || { tail -20 "$WORK/prometheus.log" >&2; die "Prometheus did not start"; }
wait_ready "http://127.0.0.1:$PHAROS_PORT/-/ready" 300 || { tail -20 "$WORK/pharos.log" >&2; die "Pharos did not start"; }

SYSTEMS=(--system "pharos=http://127.0.0.1:$PHAROS_PORT@$PHAROS_PID" --system "prometheus=http://127.0.0.1:$PROM_PORT@$PROM_PID")
if [ "$HAVE_VM" = 1 ]; then
  VM_PORT=$(free_port)
  start_bg "$WORK/vm.log" "$SUT_CORE" "$VM_BIN" -storageDataPath="$WORK/vm" -retentionPeriod=100y \
    -httpListenAddr="127.0.0.1:$VM_PORT" -search.disableCache -loggerLevel=WARN
  VM_PID=$START_PID
  wait_ready "http://127.0.0.1:$VM_PORT/health" 120 || { tail -20 "$WORK/vm.log" >&2; die "VictoriaMetrics did not start"; }
  log "importing into VictoriaMetrics"
  # OpenMetrics timestamps are seconds with milliseconds; the Prometheus text format wants ms.
  # Streamed (chunked) so that the full data set is never held in memory or written twice.
  taskset -c "$LOAD_CORE" sed -E -e '/^# EOF$/d' -e 's/ ([0-9]+)\.([0-9]{3})$/ \1\2/' "$WORK/data.om" |
    taskset -c "$LOAD_CORE" curl -fsS --max-time 1800 -X POST -H 'Content-Type: text/plain' -T - \
      "http://127.0.0.1:$VM_PORT/api/v1/import/prometheus" || die "VictoriaMetrics import failed"
  curl -fsS "http://127.0.0.1:$VM_PORT/internal/force_flush" >/dev/null
  SYSTEMS+=(--system "victoriametrics=http://127.0.0.1:$VM_PORT@$VM_PID")
fi
rm -f "$WORK/data.om"

# The same number of series in Pharos as in Prometheus, or the comparison is meaningless.
declare -A SERIES_N
for s in "pharos:$PHAROS_PORT" "prometheus:$PROM_PORT" ${VM_PORT:+"victoriametrics:$VM_PORT"}; do
  n=$(curl -fsS "http://127.0.0.1:${s#*:}/api/v1/query" --data-urlencode 'query=count({__name__=~".+"})' \
    -d time="$END_S" | jq -r '.data.result[0].value[1] // "none"')
  log "${s%%:*}: $n series at the end of the data"
  echo "# ${s%%:*}: $n series with a sample in the last 5 min of the data" >>"$NOTES"
  SERIES_N[${s%%:*}]=$n
done
[ "${SERIES_N[pharos]}" = "${SERIES_N[prometheus]}" ] || die "Pharos holds ${SERIES_N[pharos]} series, Prometheus ${SERIES_N[prometheus]}: the backfills differ"

log "waiting for the servers to go idle"
wait_idle "$PHAROS_PID"; wait_idle "$PROM_PID"
if [ "$HAVE_VM" = 1 ]; then wait_idle "$VM_PID"; fi

ARGS=("${SYSTEMS[@]}" --end "$END_S" --runs "$RUNS" --reference prometheus --strict pharos --tolerance "$TOLERANCE")
for r in "${RANGES[@]}"; do ARGS+=(--range "$r"); done
for q in "${QUERIES[@]}"; do ARGS+=(--query "$q"); done
mkdir -p "$OUT/$NAME-answers"
# load_row METRIC: the 1-minute load average in every measured column.
load_row() { local l; l=$(load_avg); tsv_row "$TSV" "all queries" "$1" "load" "$l" "$l" "$([ "$HAVE_VM" = 1 ] && echo "$l")"; }
echo "# load average before queries: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"
load_row "load average (1 min) before"
log "timing queries ($RUNS runs each, interleaved)"
taskset -c "$LOAD_CORE" python3 "$BENCH_DIR/tools/query_bench.py" "${ARGS[@]}" --answers "$OUT/$NAME-answers" >"$WORK/client.out" \
  || { cat "$WORK/client.out" >&2; die "query client failed"; }
grep -v '^#' "$WORK/client.out" >>"$TSV" || true
grep '^#' "$WORK/client.out" >>"$NOTES" || true
load_row "load average (1 min) after"
echo "# load average after queries: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"

tsv_row "$TSV" "after queries" "resident memory" "MiB" \
  "$(calc "$(rss_bytes "$PHAROS_PID") / 1048576")" "$(calc "$(rss_bytes "$PROM_PID") / 1048576")" \
  "$([ "$HAVE_VM" = 1 ] && calc "$(rss_bytes "$VM_PID") / 1048576")"
echo "# finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$NOTES"

# Readable table with ratios, then the answer checks that failed.
awk -F'\t' 'NR == 1 { printf "%-34s %-30s %-5s %10s %10s %10s %8s %8s\n", $1, $2, $3, $4, $5, $6, "ph/prom", "ph/vm"; next }
  { r1 = ($3 != "load" && $4 + 0 > 0 && $5 + 0 > 0) ? sprintf("%.2f", $4 / $5) : "-"
    r2 = ($3 != "load" && $4 + 0 > 0 && $6 + 0 > 0) ? sprintf("%.2f", $4 / $6) : "-"
    printf "%-34s %-30s %-5s %10s %10s %10s %8s %8s\n", $1, $2, $3, $4, $5, $6, r1, r2 }' "$TSV"
grep -E 'MISMATCH|ERROR|mismatch' "$NOTES" || true
log "details (answer checks, series counts, load): $NOTES"

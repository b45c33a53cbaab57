#!/usr/bin/env bash
# Soak test for `pharos server` (not run in CI): hours of ingest, queries, rule evaluation and
# notifications, with the server's memory and CPU sampled all along and plotted to a PNG, so a
# leak or a slow climb shows up as a curve that does not flatten.
#
# What runs, all on 127.0.0.1 and stopped by the script when it ends (or on Ctrl-C):
#   - SOAK_TARGETS copies of examples/api-server, each generating SOAK_RPS requests/s of its
#     own traffic, scraped every 5 s (plus Pharos scraping itself);
#   - recording rules and an alerting rule over their metrics, evaluated every 5 s;
#   - chaos: every SOAK_CHAOS_PERIOD s one service's error ratio is raised for half the period,
#     so HighErrorRate fires and resolves again and again, and the built-in Alertmanager sends
#     each notification to Pharos' own webhook (/api/pharos/v1/notifications);
#   - a query loop: instant and range queries (rates, histogram quantiles, aggregations) back
#     to back, about SOAK_QPS per second.
#
# Every SOAK_INTERVAL s one row goes to soak.tsv: elapsed seconds, VmRSS (MiB), CPU % of one
# core since the previous row, head series, samples per scrape round (all targets), queries
# answered,
# query errors, and notifications received. At the end gnuplot draws soak.png (RSS and CPU
# over time, with head series) and a summary compares the RSS of the last quarter of the run
# with the second quarter: a steady server stays within a few percent once warm.
#
# docs/img/soak.png is a 10-minute run of this script (SOAK_DURATION=600 SOAK_RPS=150
# SOAK_CHAOS_PERIOD=120, release binaries, 2-core machine shared with builds): RSS 26 -> 31 MiB
# while head series grew from 410 to 780 (each chaos round adds a service's 5xx series), CPU
# 1-1.5% of a core, 2401 queries without an error, 10 notifications delivered.
#
# Usage:
#   bench/soak.sh                        # 2 hours, results in bench/results/soak-<date>/
#   SOAK_DURATION=600 bench/soak.sh      # a 10-minute check
# Settings (environment): SOAK_DURATION (s, default 7200), SOAK_INTERVAL (s, 10),
#   SOAK_TARGETS (4), SOAK_RPS (200), SOAK_QPS (5), SOAK_CHAOS_PERIOD (s, 300),
#   SOAK_OUT (output folder), SOAK_PNG (plot path, default $SOAK_OUT/soak.png),
#   PHAROS_BIN / API_SERVER_BIN (prebuilt binaries; otherwise `cargo build --release` builds
#   them into ${CARGO_TARGET_DIR:-target}).
# Needs: curl, gnuplot, awk.
set -euo pipefail

DURATION=${SOAK_DURATION:-7200}
INTERVAL=${SOAK_INTERVAL:-10}
TARGETS=${SOAK_TARGETS:-4}
RPS=${SOAK_RPS:-200}
QPS=${SOAK_QPS:-5}
CHAOS_PERIOD=${SOAK_CHAOS_PERIOD:-300}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${SOAK_OUT:-$ROOT/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
PNG=${SOAK_PNG:-$OUT/soak.png}
mkdir -p "$OUT" "$(dirname "$PNG")"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in curl gnuplot awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

if [ -z "${PHAROS_BIN:-}" ] || [ -z "${API_SERVER_BIN:-}" ]; then
    log "building pharos and api-server (release)"
    (cd "$ROOT" && cargo build --release -p pharos -p api-server >&2)
    TD=${CARGO_TARGET_DIR:-$ROOT/target}
    PHAROS_BIN=${PHAROS_BIN:-$TD/release/pharos}
    API_SERVER_BIN=${API_SERVER_BIN:-$TD/release/api-server}
fi
[ -x "$PHAROS_BIN" ] || die "no pharos binary at $PHAROS_BIN"
[ -x "$API_SERVER_BIN" ] || die "no api-server binary at $API_SERVER_BIN"

# The services.
SVC_PORTS=()
for _ in $(seq 1 "$TARGETS"); do
    port=$(free_port)
    "$API_SERVER_BIN" --listen "127.0.0.1:$port" --load-rps "$RPS" --latency-ms 2 \
        >"$OUT/api-server-$port.log" 2>&1 &
    PIDS+=($!)
    SVC_PORTS+=("$port")
done
targets=$(printf "'127.0.0.1:%s'," "${SVC_PORTS[@]}")

PORT=$(free_port)
cat >"$OUT/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: [rules.yml]
scrape_configs:
  - job_name: pharos
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
  - job_name: api-server
    static_configs: [{targets: [${targets%,}]}]
EOF
cat >"$OUT/rules.yml" <<'EOF'
groups:
  - name: soak-recording
    rules:
      - record: job:http_requests:rate1m
        expr: sum by (job, instance) (rate(http_requests_total[1m]))
      - record: job:http_errors:ratio1m
        expr: |
          sum by (job, instance) (rate(http_requests_total{status=~"5.."}[1m]))
            / sum by (job, instance) (rate(http_requests_total[1m]))
      - record: job:latency:p99
        expr: histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[1m])))
  - name: soak-alerts
    rules:
      - alert: HighErrorRate
        expr: job:http_errors:ratio1m > 0.05
        for: 15s
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} fails {{ $value | humanizePercentage }} of requests"
EOF
cat >"$OUT/alertmanager.yml" <<EOF
route:
  receiver: self
  group_by: [alertname, instance]
  group_wait: 5s
  group_interval: 30s
  repeat_interval: 10m
receivers:
  - name: self
    webhook_configs:
      - url: http://127.0.0.1:$PORT/api/pharos/v1/notifications
        send_resolved: true
EOF

"$PHAROS_BIN" server --config.file="$OUT/prometheus.yml" \
    --alertmanager.config.file="$OUT/alertmanager.yml" \
    --storage.tsdb.path="$OUT/data" --web.listen-address="127.0.0.1:$PORT" \
    >"$OUT/pharos.log" 2>&1 &
PHAROS_PID=$!
PIDS+=("$PHAROS_PID")
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
    curl -fsS "$BASE/-/ready" >/dev/null 2>&1 && break
    kill -0 "$PHAROS_PID" 2>/dev/null || die "pharos exited; see $OUT/pharos.log"
    sleep 0.2
done
curl -fsS "$BASE/-/ready" >/dev/null || die "pharos not ready"
log "pharos pid $PHAROS_PID on :$PORT, $TARGETS services at $RPS rps, for ${DURATION}s; output in $OUT"

# The query loop: counts answers and errors in files the sampler reads.
QUERIES=(
    'sum by (instance) (rate(http_requests_total[1m]))'
    'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'
    'topk(5, sum by (path, status) (increase(http_requests_total[10m])))'
    'job:http_errors:ratio1m'
    'count by (__name__) ({job="api-server"})'
)
echo 0 >"$OUT/.queries"
echo 0 >"$OUT/.query_errors"
(
    ok=0 err=0 i=0
    while true; do
        q=${QUERIES[$((i % ${#QUERIES[@]}))]}
        now=$(date +%s)
        if [ $((i % 2)) -eq 0 ]; then
            args=(--data-urlencode "query=$q")
            url="$BASE/api/v1/query"
        else
            args=(--data-urlencode "query=$q" -d "start=$((now - 3600))" -d "end=$now" -d step=15)
            url="$BASE/api/v1/query_range"
        fi
        if curl -fsS -m 30 -o /dev/null "$url" "${args[@]}"; then ok=$((ok + 1)); else err=$((err + 1)); fi
        i=$((i + 1))
        echo "$ok" >"$OUT/.queries"
        echo "$err" >"$OUT/.query_errors"
        sleep "$(awk "BEGIN { print 1 / $QPS }")"
    done
) &
PIDS+=($!)

# Chaos: one service at a time fails 30% of its requests for half of each period.
(
    k=0
    while true; do
        p=${SVC_PORTS[$((k % ${#SVC_PORTS[@]}))]}
        curl -fsS -X POST "http://127.0.0.1:$p/admin/chaos?error_ratio=0.3" >/dev/null || true
        sleep $((CHAOS_PERIOD / 2))
        curl -fsS -X POST "http://127.0.0.1:$p/admin/chaos?error_ratio=0" >/dev/null || true
        sleep $((CHAOS_PERIOD - CHAOS_PERIOD / 2))
        k=$((k + 1))
    done
) &
PIDS+=($!)

# Sampling.
TSV="$OUT/soak.tsv"
printf 'elapsed_s\trss_mib\tcpu_pct\thead_series\tscraped_samples\tqueries\tquery_errors\tnotifications\n' >"$TSV"
ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PHAROS_PID/stat"; }
metric() { curl -fsS -m 10 "$BASE/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2; exit }'; }
scalar() {
    curl -fsS -m 10 "$BASE/api/v1/query" --data-urlencode "query=$1" 2>/dev/null \
        | grep -o '"value":\[[^]]*\]' | sed 's/.*,"\(.*\)"\]/\1/'
}
start=$(date +%s)
prev_t=$start prev_cpu=$(cpu_ticks)
while true; do
    sleep "$INTERVAL"
    kill -0 "$PHAROS_PID" 2>/dev/null || die "pharos died during the soak; see $OUT/pharos.log"
    now=$(date +%s)
    cpu=$(cpu_ticks)
    rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PHAROS_PID/status")
    series=$(metric prometheus_tsdb_head_series)
    samples=$(scalar 'sum(scrape_samples_scraped)')
    notes=$(curl -fsS -m 10 "$BASE/api/pharos/v1/notifications" 2>/dev/null \
        | grep -o '"receiver"' | wc -l || true)
    awk -v e=$((now - start)) -v rss="$rss_kb" -v dc=$((cpu - prev_cpu)) -v dt=$((now - prev_t)) \
        -v hz="$ticks_per_s" -v s="${series:-0}" -v ds="${samples:-0}" \
        -v q="$(cat "$OUT/.queries")" -v qe="$(cat "$OUT/.query_errors")" -v n="$notes" \
        'BEGIN { printf "%d\t%.1f\t%.1f\t%d\t%.0f\t%d\t%d\t%d\n", e, rss / 1024, 100 * dc / hz / dt, s, ds, q, qe, n }' \
        >>"$TSV"
    prev_t=$now prev_cpu=$cpu
    [ $((now - start)) -ge "$DURATION" ] && break
done

gnuplot <<EOF
set terminal pngcairo size 1200,600 font ",10"
set output "$PNG"
set title "pharos server soak: $TARGETS services at $RPS rps, rules every 5 s, $QPS queries/s ($(date -u +%F))"
set xlabel "elapsed (minutes)"
set ylabel "RSS (MiB)"
set y2label "CPU (% of one core) / head series (hundreds)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left
set datafile separator "\t"
plot "$TSV" using (\$1/60):2 skip 1 with lines lw 2 title "RSS", \
     "$TSV" using (\$1/60):3 skip 1 axes x1y2 with lines title "CPU %", \
     "$TSV" using (\$1/60):(\$4/100) skip 1 axes x1y2 with lines dt 2 title "head series / 100"
EOF

# Summary: RSS in the second and last quarters, totals.
awk -F'\t' 'NR > 1 { n++; t[n] = $1; r[n] = $2; q = $6; qe = $7; notes = $8; c += $3 }
    END {
        if (n < 4) { print "too few samples for a summary"; exit }
        for (i = int(n / 4) + 1; i <= int(n / 2); i++) { a += r[i]; na++ }
        for (i = int(3 * n / 4) + 1; i <= n; i++) { b += r[i]; nb++ }
        printf "rows %d over %d s; mean CPU %.1f%%\n", n, t[n], c / n
        printf "RSS mean second quarter %.1f MiB, last quarter %.1f MiB (%+.1f%%)\n", a / na, b / nb, 100 * (b / nb - a / na) / (a / na)
        printf "queries answered %d, errors %d; notifications received %d\n", q, qe, notes
    }' "$OUT/soak.tsv" | tee "$OUT/summary.txt" >&2
log "plot: $PNG"

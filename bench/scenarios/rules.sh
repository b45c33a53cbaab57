#!/usr/bin/env bash
# Scenario "rules": CPU per evaluation of one group of 1,000 alerting rules, Pharos against
# Prometheus on the same data (VictoriaMetrics has no Prometheus-style rule engine in its single
# binary: its column stays empty).
#
# Both servers (pinned to the system-under-test core, side by side so that noise from other
# processes falls on both) scrape one synthetic target (bench/tools/rules_bench.py target, on the
# load core): HOSTS x 182 series whose values are deterministic functions of the wall clock, so
# both store the same history. Method:
#   1. scrape for a warm-up, then measure each server's idle CPU (scraping, no rules) over IDLE s;
#   2. write the 1,000-rule group (rate, sum by, ratios, histogram_quantile, *_over_time, `for:`,
#      templated annotations; a share of them fire) and reload both (/-/reload);
#   3. after the first evaluations, measure CPU over MEASURE s and count the group's evaluations
#      from the lastEvaluation of /api/v1/rules (the same for both; Pharos exposes no
#      prometheus_rule_group_iterations_total, whose delta is logged for Prometheus as a check);
#   4. CPU per evaluation = (CPU during MEASURE - idle rate x MEASURE) / evaluations.
#
# Usage: bench/scenarios/rules.sh [--quick|--full] --out DIR
#   quick: 40 hosts (7,285 series), 60 s idle, 120 s with rules; full: the same data, 180 s idle,
#   600 s with rules (more hosts would make Prometheus' evaluations outlast the 5 s interval on one
#   core). Interval 5 s (RULES_INTERVAL=1s to change it).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
parse_args "$@"
bench_init

NAME=rules
TSV=$OUT/$NAME.tsv
NOTES=$OUT/$NAME.notes.txt  # details: answer checks, counts, load; the TSV holds only result rows
: >"$NOTES"
COUNT=1000
INTERVAL_S=${RULES_INTERVAL:-5s}
INTERVAL_S=${INTERVAL_S%s}
if [ "$MODE" = full ]; then
  HOSTS=40 WARM=60 IDLE=180 MEASURE=600
else
  HOSTS=40 WARM=45 IDLE=60 MEASURE=120
fi
TOOL=$BENCH_DIR/tools/rules_bench.py
for bin in "$PHAROS_BIN" "$PROMETHEUS_BIN"; do [ -x "$bin" ] || die "not executable: $bin"; done

tsv_header "$TSV"
{
  echo "# scenario $NAME ($MODE): $COUNT alerting rules in one group every ${INTERVAL_S}s over $HOSTS hosts x 182 series scraped every 15 s; idle ${IDLE}s, measured ${MEASURE}s"
  echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$NOTES"

TARGET_PORT=$(free_port)
start_bg "$WORK/target.log" "$LOAD_CORE" python3 "$TOOL" target --port "$TARGET_PORT" --hosts "$HOSTS"
wait_ready "http://127.0.0.1:$TARGET_PORT/metrics" 30 || die "synthetic target did not start"

echo 'groups: []' >"$WORK/rules.yml"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
  evaluation_interval: ${INTERVAL_S}s
rule_files:
  - $WORK/rules.yml
scrape_configs:
  - job_name: bench
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$TARGET_PORT']
EOF

PROM_PORT=$(free_port)
start_bg "$WORK/prometheus.log" "$SUT_CORE" "$PROMETHEUS_BIN" --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/prom" --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle
PROM_PID=$START_PID
PHAROS_PORT=$(free_port)
start_bg "$WORK/pharos.log" "$SUT_CORE" "$PHAROS_BIN" server --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/pharos" --web.listen-address="127.0.0.1:$PHAROS_PORT" --web.enable-lifecycle \
  --alertmanager.disable-builtin
PHAROS_PID=$START_PID
PROM=http://127.0.0.1:$PROM_PORT
PHAROS=http://127.0.0.1:$PHAROS_PORT
wait_ready "$PROM/-/ready" 120 || { tail -20 "$WORK/prometheus.log" >&2; die "Prometheus did not start"; }
wait_ready "$PHAROS/-/ready" 120 || { tail -20 "$WORK/pharos.log" >&2; die "Pharos did not start"; }

log "scraping for ${WARM}s before measuring"
sleep "$WARM"
SERIES=?
for s in "pharos:$PHAROS" "prometheus:$PROM"; do
  n=$(prom_query "${s#*:}" 'count({__name__=~".+"})')
  log "${s%%:*}: ${n:-?} series"
  echo "# ${s%%:*}: ${n:-?} series stored after the warm-up" >>"$NOTES"
  SERIES=${n:-?}
done

log "idle baseline (${IDLE}s)"
PH_A=$(cpu_ticks "$PHAROS_PID"); PR_A=$(cpu_ticks "$PROM_PID"); T_A=$(date +%s.%N)
sleep "$IDLE"
PH_B=$(cpu_ticks "$PHAROS_PID"); PR_B=$(cpu_ticks "$PROM_PID"); T_B=$(date +%s.%N)
IDLE_S=$(calc "$T_B - $T_A")
PH_IDLE=$(calc "($PH_B - $PH_A) / $IDLE_S")
PR_IDLE=$(calc "($PR_B - $PR_A) / $IDLE_S")
log "idle CPU: pharos $PH_IDLE, prometheus $PR_IDLE core-seconds/s"

python3 "$TOOL" rules --hosts "$HOSTS" --count "$COUNT" --interval "${INTERVAL_S}s" >"$WORK/rules.yml"
curl -fsS -X POST "$PROM/-/reload" >/dev/null || die "Prometheus reload failed"
curl -fsS -X POST "$PHAROS/-/reload" >/dev/null || die "Pharos reload failed"

# state URL: "last_evaluation_unix evaluation_seconds rules firing unhealthy" of the group.
state() { python3 "$TOOL" state "$1" bench 2>>"$WORK/state-errors.log"; }
log "waiting for the first evaluations"
for _ in $(seq 1 120); do
  a=$(state "$PHAROS" | cut -d' ' -f1 || true); b=$(state "$PROM" | cut -d' ' -f1 || true)
  if awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { exit !(a > 0 && b > 0) }'; then break; fi
  sleep 1
done
sleep $((3 * INTERVAL_S))

# prom_iterations: "ITERATIONS MISSED" of the group, from Prometheus' own counters.
prom_iterations() {
  curl -fsS "$PROM/metrics" | awk '/^prometheus_rule_group_iterations_total\{.*;bench"\}/ { t = $2 }
    /^prometheus_rule_group_iterations_missed_total\{.*;bench"\}/ { m = $2 } END { print t + 0, m + 0 }'
}

log "measuring with rules (${MEASURE}s)"
ST_PH0=$(state "$PHAROS"); ST_PR0=$(state "$PROM"); IT0=$(prom_iterations)
PH_A=$(cpu_ticks "$PHAROS_PID"); PR_A=$(cpu_ticks "$PROM_PID"); T_A=$(date +%s.%N)
sleep $((MEASURE / 2))
ST_PH1=$(state "$PHAROS"); ST_PR1=$(state "$PROM")
sleep $((MEASURE - MEASURE / 2))
PH_B=$(cpu_ticks "$PHAROS_PID"); PR_B=$(cpu_ticks "$PROM_PID"); T_B=$(date +%s.%N)
ST_PH2=$(state "$PHAROS"); ST_PR2=$(state "$PROM"); IT2=$(prom_iterations)
MEAS_S=$(calc "$T_B - $T_A")
echo "# load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"

f() { echo "$1" | cut -d' ' -f"$2"; }
evals() { awk -v a="$(f "$1" 1)" -v b="$(f "$2" 1)" -v i="$INTERVAL_S" 'BEGIN { printf "%d\n", (b - a) / i + 0.5 }'; }
PH_EVALS=$(evals "$ST_PH0" "$ST_PH2")
PR_EVALS=$(evals "$ST_PR0" "$ST_PR2")
PR_IT=$(awk -v a="$(f "$IT0" 1)" -v b="$(f "$IT2" 1)" 'BEGIN { print b - a }')
PR_MISSED=$(awk -v a="$(f "$IT0" 2)" -v b="$(f "$IT2" 2)" 'BEGIN { print b - a }')
{
  echo "# evaluations in ${MEAS_S}s: pharos $PH_EVALS, prometheus $PR_EVALS (prometheus_rule_group_iterations_total +$PR_IT, missed +$PR_MISSED)"
  echo "# group state (last_evaluation evaluation_s rules firing unhealthy): pharos $ST_PH2; prometheus $ST_PR2"
} >>"$NOTES"
[ "$PH_EVALS" -gt 0 ] && [ "$PR_EVALS" -gt 0 ] || die "no evaluations counted (pharos $PH_EVALS, prometheus $PR_EVALS)"
[ -s "$WORK/state-errors.log" ] && sed 's/^/# rule error: /' "$WORK/state-errors.log" | sort -u | head -5 >>"$NOTES"

per_eval() { calc "1000 * (($2 - $1) - $3 * $MEAS_S) / $4"; }
PH_PER=$(per_eval "$PH_A" "$PH_B" "$PH_IDLE" "$PH_EVALS")
PR_PER=$(per_eval "$PR_A" "$PR_B" "$PR_IDLE" "$PR_EVALS")
wall_ms() { median "$(f "$1" 2)" "$(f "$2" 2)" "$(f "$3" 2)" | awk '{ printf "%.1f\n", $1 * 1000 }'; }
ROW="$COUNT rules @${INTERVAL_S}s, $SERIES series"
tsv_row "$TSV" "$ROW" "CPU per group evaluation" "ms" "$PH_PER" "$PR_PER" ""
tsv_row "$TSV" "$ROW" "group evaluation wall time" "ms" \
  "$(wall_ms "$ST_PH0" "$ST_PH1" "$ST_PH2")" "$(wall_ms "$ST_PR0" "$ST_PR1" "$ST_PR2")" ""
tsv_row "$TSV" "$ROW" "idle CPU (scraping, no rules)" "% of a core" \
  "$(calc "100 * $PH_IDLE")" "$(calc "100 * $PR_IDLE")" ""
tsv_row "$TSV" "$ROW" "resident memory with rules" "MiB" \
  "$(calc "$(rss_bytes "$PHAROS_PID") / 1048576")" "$(calc "$(rss_bytes "$PROM_PID") / 1048576")" ""
LOAD=$(load_avg)
tsv_row "$TSV" "$ROW" "load average (1 min) at the end" "load" "$LOAD" "$LOAD" ""
echo "# firing alerts at the end (same data, so they should be close): pharos $(f "$ST_PH2" 4), prometheus $(f "$ST_PR2" 4)" >>"$NOTES"
echo "# finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$NOTES"

awk -F'\t' 'NR == 1 { printf "%-32s %-36s %-12s %10s %10s %8s\n", $1, $2, $3, $4, $5, "ph/prom"; next }
  { r = ($3 != "load" && $4 + 0 > 0 && $5 + 0 > 0) ? sprintf("%.2f", $4 / $5) : "-"
    printf "%-32s %-36s %-12s %10s %10s %8s\n", $1, $2, $3, $4, $5, r }' "$TSV"
cat "$NOTES"

#!/usr/bin/env bash
# Ingestion side by side: the same synthetic targets (crates/loadgen: node_exporter-like and
# api-server-like bodies, new values on every scrape) scraped by Pharos, Prometheus and
# VictoriaMetrics (-promscrape.config with the same prometheus.yml) in turn, each pinned to core
# $SUT_CORE while the load generator runs on core $LOAD_CORE.
#
# Usage: bench/scenarios/ingestion.sh [--quick|--full] --out DIR   (contract: bench/lib.sh)
# Env: LOADGEN_BIN (default $CARGO_TARGET_DIR/release/loadgen), SYSTEMS (default
# "pharos prometheus victoriametrics"), INGESTION_STEPS to override the steps (see below),
# INGESTION_WARMUP to set the seconds from ready to the window for every step (e.g. 130 at 1 s
# scrapes measures after every series has cut its first chunk, about 121 s in).
#
# Each step is SERIES@INTERVAL: SERIES active series from targets of 1,000 series each.
# For each system and step: start it with the config, wait WARMUP (every target scraped, every
# series created), then over WINDOW (a whole number of intervals) measure
#   - CPU seconds (utime+stime of /proc/PID/stat) per million samples ingested, where samples
#     ingested = the system's own sum(sum_over_time(scrape_samples_scraped[WINDOW])) (checked
#     against the samples the load generator served and, for Prometheus, its
#     prometheus_tsdb_head_samples_appended_total; both in DIR/ingestion.check.tsv);
#   - resident memory per active series: (VmRSS at the end - VmRSS of the same system started
#     with no targets) / active series (target series + 5 report series per target);
#   - at 1 s intervals, the ingested samples/s and the share of its core the system used; when
#     it keeps up (< 90 % of the core, < 5 % missed scrapes) the samples/s it would reach at
#     saturation are estimated as samples per CPU-second; when it falls behind, the measured
#     samples/s are the saturation figure (both are in the check file).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
parse_args "$@"
bench_init

LOADGEN_BIN=${LOADGEN_BIN:-$CARGO_TARGET_DIR/release/loadgen}
SYSTEMS=${SYSTEMS:-pharos prometheus victoriametrics}
SERIES_PER_TARGET=1000
if [ "$MODE" = quick ]; then
  STEPS=${INGESTION_STEPS:-100000@15 100000@1}
else
  STEPS=${INGESTION_STEPS:-100000@15 1000000@15 100000@1 300000@1}
fi
TSV=$OUT/ingestion.tsv
CHECK=$OUT/ingestion.check.tsv
tsv_header "$TSV"
printf 'step\tsystem\twindow_s\tload1\tcpu_s\tloadgen_cpu_s\tsamples_system\tsamples_served\tprom_appended\tscrapes\tscrapes_expected\tmax_scrape_duration_s\trss_bytes\tbaseline_rss_bytes\tseries\n' >"$CHECK"

for bin in "$LOADGEN_BIN" "$PHAROS_BIN" "$PROMETHEUS_BIN" "$VM_BIN"; do
  [ -x "$bin" ] || die "not executable: $bin (bench/run builds and installs everything)"
done

# window_for INTERVAL SERIES: the measuring window in seconds (whole intervals).
window_for() {
  local interval=$1 series=$2
  if [ "$interval" -ge 10 ]; then
    if [ "$MODE" = quick ]; then echo $((interval * 3)); else echo $((interval * 8)); fi
  else
    if [ "$MODE" = quick ]; then echo 20; else echo 60; fi
  fi
}

# warmup_for INTERVAL SERIES: seconds from ready to the start of the window.
warmup_for() {
  local interval=$1 series=$2 w
  if [ -n "${INGESTION_WARMUP:-}" ]; then echo "$INGESTION_WARMUP"; return; fi
  w=$((interval + 5))
  [ "$series" -ge 500000 ] && w=$((w + 30))
  echo "$w"
}

# write_config FILE INTERVAL TARGETS_FILE: prometheus.yml scraping every target of the file
# (TARGETS_FILE empty: no scrape configs).
write_config() {
  local file=$1 interval=$2 targets=$3 timeout=$2
  [ "$timeout" -gt 10 ] && timeout=10
  {
    printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\n' "$interval" "$timeout"
    if [ -n "$targets" ]; then
      printf 'scrape_configs:\n  - job_name: synthetic\n    static_configs:\n      - targets:\n'
      sed 's/.*/          - "&"/' "$targets"
    fi
  } >"$file"
}

# start_system NAME CONFIG: starts NAME pinned to the SUT core with its own data dir; sets
# SUT_PID and SUT_URL and waits until it is ready.
start_system() {
  local name=$1 config=$2 port data
  port=$(free_port)
  data=$WORK/data-$name-$RANDOM
  mkdir -p "$data"
  SUT_URL=http://127.0.0.1:$port
  case "$name" in
    pharos)
      start_bg "$WORK/$name.log" "$SUT_CORE" "$PHAROS_BIN" server --config.file="$config" \
        --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port"
      ;;
    prometheus)
      start_bg "$WORK/$name.log" "$SUT_CORE" "$PROMETHEUS_BIN" --config.file="$config" \
        --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port"
      ;;
    victoriametrics)
      start_bg "$WORK/$name.log" "$SUT_CORE" "$VM_BIN" -promscrape.config="$config" \
        -storageDataPath="$data" -httpListenAddr="127.0.0.1:$port" -retentionPeriod=100y \
        -search.latencyOffset=1s -search.disableCache
      ;;
    *) die "unknown system $name" ;;
  esac
  SUT_PID=$START_PID
  local ready=$SUT_URL/-/ready
  [ "$name" = victoriametrics ] && ready=$SUT_URL/health
  wait_ready "$ready" 120 "$SUT_PID" || { tail -20 "$WORK/$name.log" >&2; die "$name did not become ready"; }
}

# baseline_rss NAME: VmRSS of NAME started with no targets, 5 s after it is ready.
baseline_rss() {
  local cfg=$WORK/empty.yml rss
  write_config "$cfg" 15 ""
  start_system "$1" "$cfg"
  sleep 5
  rss=$(rss_bytes "$SUT_PID")
  stop_pid "$SUT_PID"
  echo "$rss"
}

# loadgen_samples: samples served so far by the load generator.
loadgen_samples() { curl -fsS "http://$LOADGEN_CONTROL/stats" | awk '$1 == "samples" { print $2 }' || true; }

# prom_appended URL: Prometheus' own count of appended samples (its /metrics), empty elsewhere.
prom_appended() {
  curl -fsS --max-time 10 "$1/metrics" 2>/dev/null |
    awk '$1 == "prometheus_tsdb_head_samples_appended_total" || $1 ~ /^prometheus_tsdb_head_samples_appended_total\{type="float"\}/ { s += $2; n++ } END { if (n) printf "%.0f\n", s }' || true
}

# query_at URL PROMQL T: first value of an instant query evaluated at unix time T.
query_at() {
  curl -fsS --max-time 120 "$1/api/v1/query" --data-urlencode "query=$2" --data-urlencode "time=$3" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}

declare -A RESULT

# measure STEP SYSTEM: one system on one step; fills RESULT[STEP,SYSTEM,*].
measure() {
  local step=$1 sys=$2 series=${1%@*} interval=${1#*@} targets window warmup cfg
  targets=$(((series + SERIES_PER_TARGET - 1) / SERIES_PER_TARGET))
  window=$(window_for "$interval" "$series")
  warmup=$(warmup_for "$interval" "$series")
  cfg=$WORK/prometheus-$interval.yml
  write_config "$cfg" "$interval" "$TARGETS_FILE"
  local base=${BASELINE[$sys]}
  log "ingestion $step: $sys ($targets targets, warm-up ${warmup}s, window ${window}s, load $(load_avg))"
  start_system "$sys" "$cfg"
  sleep "$warmup"
  local cpu0 cpu1 lg0 lg1 served0 served1 app0 app1 t0 t1 load rss
  cpu0=$(cpu_ticks "$SUT_PID"); lg0=$(cpu_ticks "$LOADGEN_PID"); served0=$(loadgen_samples); app0=$(prom_appended "$SUT_URL"); t0=$(date +%s)
  sleep "$window"
  cpu1=$(cpu_ticks "$SUT_PID"); lg1=$(cpu_ticks "$LOADGEN_PID"); served1=$(loadgen_samples); app1=$(prom_appended "$SUT_URL"); t1=$(date +%s)
  rss=$(rss_bytes "$SUT_PID"); load=$(load_avg)
  # Let the last samples of the window become visible (VictoriaMetrics buffers briefly).
  sleep 3
  local w=${window}s samples scrapes maxdur
  samples=$(query_at "$SUT_URL" "sum(sum_over_time(scrape_samples_scraped{job=\"synthetic\"}[$w]))" "$t1")
  scrapes=$(query_at "$SUT_URL" "sum(count_over_time(up{job=\"synthetic\"}[$w]))" "$t1")
  maxdur=$(query_at "$SUT_URL" "max(max_over_time(scrape_duration_seconds{job=\"synthetic\"}[$w]))" "$t1")
  stop_pid "$SUT_PID"
  local served=$((served1 - served0)) appended=""
  [ -n "$app0" ] && [ -n "$app1" ] && appended=$((app1 - app0))
  local active=$((targets * SERIES_PER_TARGET + 5 * targets))
  local expected=$((targets * window / interval))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$sys" "$window" "$load" \
    "$(calc "$cpu1 - $cpu0")" "$(calc "$lg1 - $lg0")" "$samples" "$served" "$appended" "$scrapes" "$expected" "$maxdur" "$rss" "$base" "$active" >>"$CHECK"
  if [ -z "$samples" ] || [ "$(calc "$samples > 0")" != 1 ]; then
    log "ingestion $step: $sys reported no samples; using the load generator's count ($served)"
    samples=$served
  fi
  local cpu
  cpu=$(calc "$cpu1 - $cpu0")
  RESULT[$step,$sys,us]=$(calc "$cpu * 1e6 / $samples")
  RESULT[$step,$sys,rss]=$(calc "($rss - $base) / $active")
  RESULT[$step,$sys,rssmib]=$(calc "$rss / 1048576")
  RESULT[$step,$sys,load]=$load
  if [ "$interval" -lt 10 ]; then
    local rate share missed
    rate=$(calc "$samples / $window")
    share=$(calc "$cpu / $window")
    missed=$(calc "1 - ${scrapes:-0} / $expected")
    RESULT[$step,$sys,rate]=$rate
    RESULT[$step,$sys,share]=$share
    if [ "$(calc "$share < 0.9 && $missed < 0.05")" = 1 ]; then
      RESULT[$step,$sys,sat]=$(calc "$samples / $cpu")
    else
      RESULT[$step,$sys,sat]=$rate
    fi
  fi
  log "ingestion $step: $sys cpu=${cpu}s samples=$samples served=$served appended=${appended:-n/a} scrapes=${scrapes:-?}/$expected max_scrape=${maxdur:-?}s rss=$((rss / 1048576))MiB"
}

declare -A BASELINE
for sys in $SYSTEMS; do
  BASELINE[$sys]=$(baseline_rss "$sys")
  log "baseline RSS $sys: $((BASELINE[$sys] / 1048576)) MiB"
done

for step in $STEPS; do
  series=${step%@*}
  targets=$(((series + SERIES_PER_TARGET - 1) / SERIES_PER_TARGET))
  TARGETS_FILE=$WORK/targets.txt
  rm -f "$WORK/control.txt"
  start_bg "$WORK/loadgen.log" "$LOAD_CORE" "$LOADGEN_BIN" --targets "$targets" --series "$SERIES_PER_TARGET" \
    --targets-file "$TARGETS_FILE" --control-file "$WORK/control.txt"
  LOADGEN_PID=$START_PID
  for _ in $(seq 1 600); do [ -s "$WORK/control.txt" ] && break; sleep 0.1; done
  [ -s "$WORK/control.txt" ] || die "loadgen did not start: $(cat "$WORK/loadgen.log")"
  LOADGEN_CONTROL=$(cat "$WORK/control.txt")
  for sys in $SYSTEMS; do measure "$step" "$sys"; done
  stop_pid "$LOADGEN_PID"
done

# label_of STEP: "100k series @15s".
label_of() {
  local s=${1%@*} i=${1#*@}
  if [ "$s" -ge 1000000 ]; then s="$((s / 1000000))M"; else s="$((s / 1000))k"; fi
  echo "$s series @${i}s"
}

# row STEP METRIC UNIT KEY: one TSV line from RESULT.
row() {
  local step=$1 metric=$2 unit=$3 key=$4
  tsv_row "$TSV" "$(label_of "$step")" "$metric" "$unit" \
    "${RESULT[$step,pharos,$key]:-}" "${RESULT[$step,prometheus,$key]:-}" "${RESULT[$step,victoriametrics,$key]:-}"
}

for step in $STEPS; do
  row "$step" "CPU per sample ingested" "µs/sample" us
  row "$step" "RSS per active series" "B/series" rss
  row "$step" "RSS" "MiB" rssmib
  if [ "${step#*@}" -lt 10 ]; then
    row "$step" "samples ingested" "samples/s" rate
    row "$step" "core share used" "cores" share
    row "$step" "samples/s at saturation" "samples/s" sat
  fi
  row "$step" "load average (1 min) at the end" "load" load
done
log "wrote $TSV"

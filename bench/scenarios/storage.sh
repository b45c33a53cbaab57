#!/usr/bin/env bash
# Scenario "storage": what the TSDB costs, side by side, on the same node_exporter-like data
# (crates/tsdb/examples/storage_gen.rs: 500 series per host; float and integer counters,
# constant gauges, two-decimal random-walk gauges; 15 s interval with 0-5 ms scrape jitter).
#
# Two feeds, each chosen for the rows it measures:
# 1. Remote write (live ingestion path): SERIES series x STEPS samples, sent time-major (every
#    series at step 0, then step 1, ...) by one generator on the load core, 10,000 samples per
#    request, to an empty server (--web.enable-remote-write-receiver; VictoriaMetrics'
#    /api/v1/write). The last sample is a minute old, so no server cuts a block meanwhile. Rows:
#    - resident memory per active series: VmRSS after ingestion minus VmRSS of the same server
#      ready and empty, divided by SERIES (Go's garbage-collected heap counts as it is resident);
#    - WAL bytes per sample: du of DATA/wal (Prometheus 2.42 compresses its WAL with snappy by
#      default; Pharos' own records);
#    - restart time: SIGTERM, wait for exit, start again on the same directory, seconds until
#      /-/ready (VictoriaMetrics: /health) answers 200 (Pharos restores the head snapshot it
#      wrote at shutdown; Prometheus 2.42 replays its WAL, its snapshot being an opt-in feature);
#    - restart after a crash: that server killed with SIGKILL, started again, seconds until ready
#      (no shutdown work, so Pharos replays its WAL too);
#    - remote-write ingestion rate (generator and server share the pipeline; both sides alike).
# 2. OpenMetrics backfill (same file for both): BF_SERIES series x 24 h at 15 s.
#    - import rate: samples / wall time of `pharos tsdb create-blocks-from openmetrics` and
#      `promtool tsdb create-blocks-from openmetrics`, both with --max-block-duration=24h;
#    - bytes per sample on disk: du of the blocks written (24 h blocks of 120-sample XOR chunks,
#      index and meta included): Prometheus' block format on both sides.
# 3. Compaction (same file again): each system's own data directory after its own compaction.
#    The file is imported as 2 h blocks (`pharos tsdb create-blocks-from openmetrics` into a
#    Pharos data directory, `promtool tsdb create-blocks-from openmetrics` into a Prometheus one,
#    both --max-block-duration=2h, i.e. what a live server cuts from its head); each server is
#    then started on its directory (retention 100y, so compaction goes up to 31 d blocks) and
#    left running until its set of blocks has not changed for COMPACT_SETTLE_S seconds
#    (Prometheus first compacts a minute after start, Pharos at start), then stopped.
#    - bytes per sample on disk after compaction: du of every block directory (not the WAL)
#      divided by the samples imported. Pharos re-encodes compacted blocks with its dense chunks
#      (docs/format/dense-chunks.md); Prometheus keeps XOR. The planners differ at the recent
#      end (Prometheus leaves more recent 2 h / 6 h blocks uncompacted); the log gives the counts.
#
# Usage: bench/scenarios/storage.sh [--quick|--full] --out DIR
#   quick: 50,000 series x 144 steps remote-written (7.2 M samples), 2,000 series backfilled (11.5 M).
#   full: 500,000 series x 144 steps (72 M samples; the issue's restart case), 6,000 backfilled (34.6 M).
# Environment: PHAROS_BIN, PROMETHEUS_BIN, PROMTOOL_BIN, VM_BIN (see bench/lib.sh; VM is skipped
#   when missing), STORAGE_GEN_BIN (the generator; built when missing), STORAGE_PARTS
#   ("remote-write backfill compaction" by default; name some to run only those feeds),
#   COMPACT_SETTLE_S (seconds without a block change that end a compaction run; default 75),
#   STORAGE_SERIES (series
#   remote-written, e.g. 1000000), STORAGE_SYSTEMS (e.g. "pharos" to measure only that one).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
parse_args "$@"
bench_init

NAME=storage
TSV=$OUT/$NAME.tsv
if [ "$MODE" = full ]; then
  SERIES=500000 STEPS=144 BF_SERIES=6000
else
  SERIES=50000 STEPS=144 BF_SERIES=2000
fi
# 6,000 series x 24 h is a 3.5 GB file; STORAGE_BF_SERIES=10000 gives 57.6 M samples (5.8 GB).
BF_SERIES=${STORAGE_BF_SERIES:-$BF_SERIES}
SERIES=${STORAGE_SERIES:-$SERIES}
BF_STEPS=5760
INTERVAL_MS=15000
RW_SAMPLES=$((SERIES * STEPS))
BF_SAMPLES=$((BF_SERIES * BF_STEPS))

[ -x "$PHAROS_BIN" ] || die "no pharos binary at $PHAROS_BIN (cargo build --release -p pharos)"
[ -x "$PROMETHEUS_BIN" ] || die "no prometheus at $PROMETHEUS_BIN"
[ -x "$PROMTOOL_BIN" ] || die "no promtool at $PROMTOOL_BIN"
GEN=${STORAGE_GEN_BIN:-$CARGO_TARGET_DIR/release/examples/storage_gen}
if [ ! -x "$GEN" ]; then
  log "building the storage generator"
  (cd "$REPO_DIR" && cargo build -q --release -p tsdb --example storage_gen)
fi
HAVE_VM=0
[ -x "$VM_BIN" ] && HAVE_VM=1

printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n' >"$WORK/empty.yml"

# ready_path SYSTEM
ready_path() { if [ "$1" = vm ]; then echo /health; else echo /-/ready; fi; }

# start_sut SYSTEM DATA PORT: starts one server pinned to the SUT core; sets START_PID.
start_sut() {
  local sys=$1 data=$2 port=$3
  case "$sys" in
    pharos)
      start_bg "$WORK/$sys.log" "$SUT_CORE" "$PHAROS_BIN" server --config.file="$WORK/empty.yml" \
        --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port" \
        --storage.tsdb.retention.time=100y --web.enable-remote-write-receiver \
        --alertmanager.disable-builtin ;;
    prometheus)
      start_bg "$WORK/$sys.log" "$SUT_CORE" "$PROMETHEUS_BIN" --config.file="$WORK/empty.yml" \
        --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port" \
        --storage.tsdb.retention.time=100y --web.enable-remote-write-receiver ;;
    vm)
      start_bg "$WORK/$sys.log" "$SUT_CORE" "$VM_BIN" -storageDataPath="$data" \
        -httpListenAddr="127.0.0.1:$port" -retentionPeriod=100y \
        -search.maxUniqueTimeseries=10000000 ;;
  esac
}

# now_s: wall clock in seconds with fractions.
now_s() { date +%s.%N; }

declare -A RSS_PER_SERIES WAL_BPS DISK_BPS_RW RESTART_S CRASH_RESTART_S RW_RATE HEAD_SERIES IMPORT_RATE DISK_BPS
declare -A COMPACT_BPS COMPACT_BLOCKS
COMPACT_SETTLE_S=${COMPACT_SETTLE_S:-75}

# timed_restart SYSTEM DATA PORT BASE WHY: starts the stopped server again on DATA and waits
# until it is ready; sets RESTART_TOOK (seconds) and RESTART_PID.
timed_restart() {
  local sys=$1 data=$2 port=$3 base=$4 why=$5 t0 t1
  log "$sys: restarting $why on $(du -sh "$data" | cut -f1) of data"
  t0=$(now_s)
  start_sut "$sys" "$data" "$port"
  RESTART_PID=$START_PID
  wait_ready "$base$(ready_path "$sys")" 600 || die "$sys did not restart $why (see $WORK/$sys.log)"
  t1=$(now_s)
  RESTART_TOOK=$(calc "$t1 - $t0")
  log "$sys: ready again after $RESTART_TOOK s"
}

# remote_write_run SYSTEM: ingestion, memory, WAL and restart of one system.
remote_write_run() {
  local sys=$1 data="$WORK/$1-rw" port base pid t0 t1 rss0 rss1
  port=$(free_port)
  base="http://127.0.0.1:$port"
  start_sut "$sys" "$data" "$port"
  pid=$START_PID
  wait_ready "$base$(ready_path "$sys")" 120 || die "$sys did not start (see $WORK/$sys.log)"
  sleep 3
  rss0=$(rss_bytes "$pid")
  local start_ms=$(( $(date +%s) * 1000 - STEPS * INTERVAL_MS - 60000 ))
  log "$sys: remote-writing $SERIES series x $STEPS samples (load $(load_avg))"
  t0=$(now_s)
  taskset -c "$LOAD_CORE" "$GEN" remote-write --url "$base/api/v1/write" --series "$SERIES" \
    --samples "$STEPS" --start-ms "$start_ms" --interval-ms "$INTERVAL_MS" --batch 10000 \
    2>>"$WORK/gen.log" || die "$sys: remote write failed (see $WORK/gen.log)"
  t1=$(now_s)
  RW_RATE[$sys]=$(calc "$RW_SAMPLES / ($t1 - $t0)")
  if [ "$sys" = vm ]; then curl -fsS "$base/internal/force_flush" >/dev/null || true; fi
  sleep 5
  rss1=$(rss_bytes "$pid")
  RSS_PER_SERIES[$sys]=$(calc "($rss1 - $rss0) / $SERIES")
  if [ "$sys" = vm ]; then
    HEAD_SERIES[$sys]=$(prom_query "$base" 'count({job="node"})' || true)
    DISK_BPS_RW[$sys]=$(calc "$(du -sb "$data" | cut -f1) / $RW_SAMPLES")
  else
    HEAD_SERIES[$sys]=$(curl -fsS --max-time 120 "$base/api/v1/status/tsdb" |
      jq -r '.data.headStats.numSeries' || true)
    WAL_BPS[$sys]=$(calc "$(du -sb "$data/wal" | cut -f1) / $RW_SAMPLES")
  fi
  log "$sys: rss $rss0 -> $rss1 B (${RSS_PER_SERIES[$sys]} B/series), ${HEAD_SERIES[$sys]:-?} series," \
    "${RW_RATE[$sys]} samples/s, wal ${WAL_BPS[$sys]:-} B/sample, data ${DISK_BPS_RW[$sys]:-} B/sample"
  stop_pid "$pid"
  timed_restart "$sys" "$data" "$port" "$base" "after SIGTERM"
  RESTART_S[$sys]=$RESTART_TOOK
  # A crash: no shutdown work (Pharos' head snapshot, flushes), so the WAL is replayed.
  kill -KILL "$RESTART_PID" 2>/dev/null || true
  stop_pid "$RESTART_PID"
  timed_restart "$sys" "$data" "$port" "$base" "after SIGKILL"
  CRASH_RESTART_S[$sys]=$RESTART_TOOK
  pid=$RESTART_PID
  stop_pid "$pid"
  rm -rf "$data"
}

# backfill_run SYSTEM: OpenMetrics import rate and block bytes per sample.
backfill_run() {
  local sys=$1 out="$WORK/$1-blocks" t0 t1
  mkdir -p "$out"
  log "$sys: importing $BF_SAMPLES samples from OpenMetrics (load $(load_avg))"
  t0=$(now_s)
  if [ "$sys" = pharos ]; then
    taskset -c "$SUT_CORE" "$PHAROS_BIN" tsdb create-blocks-from openmetrics \
      --max-block-duration=24h "$WORK/data.om" "$out" >"$WORK/$sys-import.log" 2>&1
  else
    taskset -c "$SUT_CORE" "$PROMTOOL_BIN" tsdb create-blocks-from openmetrics \
      --max-block-duration=24h "$WORK/data.om" "$out" >"$WORK/$sys-import.log" 2>&1
  fi || die "$sys: import failed (see $WORK/$sys-import.log)"
  t1=$(now_s)
  IMPORT_RATE[$sys]=$(calc "$BF_SAMPLES / ($t1 - $t0)")
  DISK_BPS[$sys]=$(calc "$(du -sb "$out" | cut -f1) / $BF_SAMPLES")
  rm -rf "$out"
  log "$sys: ${IMPORT_RATE[$sys]} samples/s, ${DISK_BPS[$sys]} B/sample"
}

# block_dirs DATA: the block directories (ULID names) in DATA, one per line, sorted.
block_dirs() {
  find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
    -regex '.*/[0-9A-HJKMNP-TV-Z]{26}' | sort
}

# compaction_run SYSTEM: 2 h blocks imported into a data directory, compacted by the server.
compaction_run() {
  local sys=$1 data="$WORK/$1-compact" port base pid sig last changed bytes n
  rm -rf "$data" && mkdir -p "$data"
  log "$sys: importing $BF_SAMPLES samples as 2 h blocks"
  if [ "$sys" = pharos ]; then
    taskset -c "$SUT_CORE" "$PHAROS_BIN" tsdb create-blocks-from openmetrics --quiet \
      --max-block-duration=2h "$WORK/data.om" "$data" >"$WORK/$sys-import2h.log" 2>&1
  else
    taskset -c "$SUT_CORE" "$PROMTOOL_BIN" tsdb create-blocks-from openmetrics \
      --max-block-duration=2h "$WORK/data.om" "$data" >"$WORK/$sys-import2h.log" 2>&1
  fi || die "$sys: import failed (see $WORK/$sys-import2h.log)"
  n=$(block_dirs "$data" | wc -l)
  log "$sys: $n blocks, $(du -sb "$data" | cut -f1) bytes before compaction (load $(load_avg))"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  start_sut "$sys" "$data" "$port"
  pid=$START_PID
  wait_ready "$base$(ready_path "$sys")" 300 "$pid" || die "$sys did not start (see $WORK/$sys.log)"
  last=""
  changed=$(date +%s)
  # Blocks being written or deleted show as *.tmp* directories: they count as changes.
  while :; do
    sig=$(find "$data" -mindepth 1 -maxdepth 1 -type d | sort | tr '\n' ' ')
    if [ "$sig" != "$last" ] || [[ "$sig" == *.tmp* ]]; then last=$sig; changed=$(date +%s); fi
    [ $(( $(date +%s) - changed )) -ge "$COMPACT_SETTLE_S" ] && break
    sleep 2
  done
  stop_pid "$pid"
  bytes=0
  while read -r d; do bytes=$((bytes + $(du -sb "$d" | cut -f1))); done < <(block_dirs "$data")
  COMPACT_BLOCKS[$sys]=$(block_dirs "$data" | wc -l)
  COMPACT_BPS[$sys]=$(calc "$bytes / $BF_SAMPLES")
  log "$sys: ${COMPACT_BLOCKS[$sys]} blocks, $bytes bytes after compaction, ${COMPACT_BPS[$sys]} B/sample"
  rm -rf "$data"
}

PARTS=${STORAGE_PARTS:-remote-write backfill compaction}
SYSTEMS=(pharos prometheus)
[ "$HAVE_VM" = 1 ] && SYSTEMS+=(vm)
[ -n "${STORAGE_SYSTEMS:-}" ] && read -r -a SYSTEMS <<<"$STORAGE_SYSTEMS"
if [[ " $PARTS " == *" remote-write "* ]]; then
  for sys in "${SYSTEMS[@]}"; do remote_write_run "$sys"; done
fi
if [[ " $PARTS " == *" backfill "* || " $PARTS " == *" compaction "* ]]; then
  log "writing the OpenMetrics file ($BF_SAMPLES samples)"
  taskset -c "$LOAD_CORE" "$GEN" openmetrics --series "$BF_SERIES" --samples "$BF_STEPS" \
    --start-ms 1700000000000 --interval-ms "$INTERVAL_MS" >"$WORK/data.om"
  if [[ " $PARTS " == *" backfill "* ]]; then
    for sys in pharos prometheus; do backfill_run "$sys"; done
  fi
  if [[ " $PARTS " == *" compaction "* ]]; then
    for sys in pharos prometheus; do compaction_run "$sys"; done
  fi
  rm -f "$WORK/data.om"
fi

# fmt V: three significant digits, whole numbers from 1000 up (empty stays empty).
fmt() {
  [ -n "${1:-}" ] || return 0
  awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.0f", v; else printf "%.3g", v }'
}
RW_ROW="$((SERIES / 1000))k series x $STEPS @15s (remote write)"
BF_ROW="$((BF_SERIES / 1000))k series x 24h @15s (OpenMetrics)"
tsv_header "$TSV"
tsv_row "$TSV" "$RW_ROW" "resident memory per active series" "bytes (lower is better)" \
  "$(fmt "${RSS_PER_SERIES[pharos]:-}")" "$(fmt "${RSS_PER_SERIES[prometheus]:-}")" "$(fmt "${RSS_PER_SERIES[vm]:-}")"
tsv_row "$TSV" "$RW_ROW" "WAL bytes per sample" "bytes (lower is better)" \
  "$(fmt "${WAL_BPS[pharos]:-}")" "$(fmt "${WAL_BPS[prometheus]:-}")" ""
tsv_row "$TSV" "$RW_ROW" "restart to ready after SIGTERM" "seconds (lower is better)" \
  "$(fmt "${RESTART_S[pharos]:-}")" "$(fmt "${RESTART_S[prometheus]:-}")" "$(fmt "${RESTART_S[vm]:-}")"
tsv_row "$TSV" "$RW_ROW" "restart to ready after SIGKILL (WAL replay)" "seconds (lower is better)" \
  "$(fmt "${CRASH_RESTART_S[pharos]:-}")" "$(fmt "${CRASH_RESTART_S[prometheus]:-}")" "$(fmt "${CRASH_RESTART_S[vm]:-}")"
tsv_row "$TSV" "$RW_ROW" "remote-write ingestion" "samples/s (higher is better)" \
  "$(fmt "${RW_RATE[pharos]:-}")" "$(fmt "${RW_RATE[prometheus]:-}")" "$(fmt "${RW_RATE[vm]:-}")"
tsv_row "$TSV" "$RW_ROW" "series in the head after ingestion" "series (must equal $SERIES)" \
  "${HEAD_SERIES[pharos]:-}" "${HEAD_SERIES[prometheus]:-}" "${HEAD_SERIES[vm]:-}"
tsv_row "$TSV" "$RW_ROW" "data dir bytes per sample (VictoriaMetrics, after flush)" "bytes (lower is better)" \
  "" "" "$(fmt "${DISK_BPS_RW[vm]:-}")"
tsv_row "$TSV" "$BF_ROW" "bytes per sample on disk (24 h blocks)" "bytes (lower is better)" \
  "$(fmt "${DISK_BPS[pharos]:-}")" "$(fmt "${DISK_BPS[prometheus]:-}")" ""
tsv_row "$TSV" "$BF_ROW" "bytes per sample on disk after compaction (each server's own)" "bytes (lower is better)" \
  "$(fmt "${COMPACT_BPS[pharos]:-}")" "$(fmt "${COMPACT_BPS[prometheus]:-}")" ""
tsv_row "$TSV" "$BF_ROW" "OpenMetrics import" "samples/s (higher is better)" \
  "$(fmt "${IMPORT_RATE[pharos]:-}")" "$(fmt "${IMPORT_RATE[prometheus]:-}")" ""

echo "storage ($MODE), $(date -u +'%Y-%m-%d %H:%M UTC'), load $(load_avg)"
column -t -s $'\t' "$TSV"

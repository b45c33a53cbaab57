#!/usr/bin/env bash
# Scenario "notifications": alerts/s accepted by the Alertmanager API v2 and notifications/s
# delivered to a webhook, Pharos' standalone Alertmanager (`pharos alertmanager`, same flags and
# alertmanager.yml as the real one) against prometheus-alertmanager. VictoriaMetrics has no
# Alertmanager: its column stays empty. The real Alertmanager's figures go in the prometheus column.
#
# Each system runs in turn, pinned to the system-under-test core, with durable state in a temp
# dir and gossip off. On the load core: a webhook sink (bench/tools/am_bench.py sink, asyncio,
# keep-alive) and the client (am_bench.py load: pre-encoded JSON batches, kept-alive connections,
# several threads). Per system:
#   1. first push: GROUPS x 5 alerts (labels alertname+cluster make GROUPS aggregation groups),
#      POST /api/v2/alerts in batches of 1,000 from 4 threads -> alerts/s (new alerts);
#   2. every group's first notification (group_wait 1s) reaches the sink -> notifications/s =
#      notifications / (last arrival - first arrival), and how long after the last POST returned
#      the last one arrived; every delivered alert is counted: a system that drops
#      notifications (fewer than one per group, none new for 30 s) gets FAIL instead of a rate.
#      Both figures depend on how fast the POSTs went: a group's first notification is due
#      group_wait after its first alert was accepted, so a system that answers each POST right
#      after creating its groups cannot get below group_wait on the second, while one that
#      answers later than it creates them can; and notifications/s is at most about groups /
#      POST time when delivery keeps pace. The notes therefore also give the delivery lag: how
#      much longer first-to-last took than the POSTs (about 0 when every group is notified on
#      time);
#   3. re-send of the same alerts, as Prometheus re-sends firing alerts -> alerts/s (re-sent) and
#      the server's CPU per 1,000 alerts (no notification is due then);
#   4. a small burst of 1,000 new groups (5,000 alerts), the same measures as in 2, for a second
#      notifications/s figure at a size where neither system is flooded.
#
# Usage: bench/scenarios/notifications.sh [--quick|--full] --out DIR
#   quick: 10,000 groups (50,000 alerts); full: 20,000 groups (100,000 alerts).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
parse_args "$@"
bench_init

NAME=notifications
TSV=$OUT/$NAME.tsv
NOTES=$OUT/$NAME.notes.txt  # details: answer checks, counts, load; the TSV holds only result rows
: >"$NOTES"
PER_GROUP=5 BATCH=1000 CLIENTS=4
if [ "$MODE" = full ]; then GROUPS_N=20000; else GROUPS_N=10000; fi
SMALL_GROUPS=1000
ALERTS_N=$((GROUPS_N * PER_GROUP))
TOOL=$BENCH_DIR/tools/am_bench.py
[ -x "$PHAROS_BIN" ] || die "not executable: $PHAROS_BIN"
HAVE_AM=1
[ -x "$ALERTMANAGER_BIN" ] || { log "Alertmanager not installed ($ALERTMANAGER_BIN): its column stays empty"; HAVE_AM=0; }

tsv_header "$TSV"
{
  echo "# scenario $NAME ($MODE): $ALERTS_N alerts in $GROUPS_N groups, batches of $BATCH, $CLIENTS client threads; webhook sink on the load core"
  echo "# started $(date -u +%Y-%m-%dT%H:%M:%SZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$NOTES"

SINK_PORT=$(free_port)
start_bg "$WORK/sink.log" "$LOAD_CORE" python3 "$TOOL" sink --port "$SINK_PORT"
SINK=http://127.0.0.1:$SINK_PORT
SINK_PID=$START_PID
wait_ready "$SINK/stats" 30 || die "webhook sink did not start"

cat >"$WORK/alertmanager.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: $SINK/
        send_resolved: false
EOF

sink_stat() { curl -fsS "$SINK/stats" | jq -r ".$1"; }

# burst NAME BASE GROUPS PREFIX: pushes GROUPS new groups (cluster label prefix PREFIX) and waits
# for one notification per group (or 30 s without progress). Sets B_OUT (the client's "alerts
# seconds alerts/s"), B_NPS (notifications/s, first to last arrival, or FAIL when some never
# came), B_DRAIN (seconds from the last POST's answer to the last arrival, or FAIL) and B_NOTE.
burst() {
  local name=$1 base=$2 groups=$3 prefix=$4 t_start t_end n prev=-1 stall=0 notif delivered first last s0 s1 lag
  curl -fsS -X POST "$SINK/reset" >/dev/null
  s0=$(cpu_ticks "$SINK_PID")
  B_OUT=$(taskset -c "$LOAD_CORE" python3 "$TOOL" load --url "$base" --groups "$groups" --prefix "$prefix" \
    --per-group "$PER_GROUP" --batch "$BATCH" --clients "$CLIENTS") || die "$name rejected alerts"
  t_end=$(date +%s.%N)
  # When the first POST was sent (the client's clock starts after it has encoded the bodies).
  t_start=$(awk -v e="$t_end" -v d="$(echo "$B_OUT" | cut -d' ' -f2)" 'BEGIN { printf "%.6f\n", e - d }')
  while :; do
    n=$(sink_stat notifications)
    [ "$n" -ge "$groups" ] && break
    if [ "$n" = "$prev" ]; then stall=$((stall + 1)); [ "$stall" -ge 60 ] && break; else stall=0; fi
    prev=$n
    sleep 0.5
  done
  s1=$(cpu_ticks "$SINK_PID")
  notif=$(sink_stat notifications); delivered=$(sink_stat alerts)
  first=$(sink_stat first); last=$(sink_stat last)
  B_NPS=$(awk -v n="$notif" -v a="$first" -v b="$last" 'BEGIN { printf "%.6g\n", (b > a) ? n / (b - a) : 0 }')
  B_DRAIN=$(awk -v a="$t_end" -v b="$last" 'BEGIN { printf "%.3f\n", b - a }')
  lag=$(awk -v a="$first" -v b="$last" -v s="$t_start" -v e="$t_end" 'BEGIN { printf "%.3f\n", (b - a) - (e - s) }')
  B_NOTE="$groups new groups: POSTs took ${B_OUT#* } (alerts s alerts/s); $notif notifications with $delivered alerts ($(sink_stat bad) without alerts), first to last $(calc "$last - $first") s ($B_NPS/s), last $B_DRAIN s after the last POST, first $(awk -v a="$t_start" -v b="$first" 'BEGIN { printf "%.3f", b - a }') s after the first; delivery lag $lag s (first to last minus the POSTs' $(echo "$B_OUT" | cut -d' ' -f2) s); sink CPU $(calc "$s1 - $s0") s"
  if [ "$notif" -lt "$groups" ]; then
    # A system that drops notifications must not win on speed.
    B_NOTE="FAIL: only $notif of $groups notifications arrived. $B_NOTE"
    B_NPS=FAIL B_DRAIN=FAIL
  fi
  echo "# $name: $B_NOTE" >>"$NOTES"
}

# run_system NAME CMD...: one system through the phases; sets R_* results.
run_system() {
  local name=$1; shift
  local port pid base c0 c1 c2 c3 out2
  port=$(free_port)
  start_bg "$WORK/$name.log" "$SUT_CORE" "$@" --config.file="$WORK/alertmanager.yml" \
    --storage.path="$WORK/$name-data" --web.listen-address="127.0.0.1:$port" --cluster.listen-address=
  pid=$START_PID
  base=http://127.0.0.1:$port
  wait_ready "$base/-/ready" 60 || { tail -20 "$WORK/$name.log" >&2; die "$name did not start"; }
  sleep 2
  log "$name: first push of $ALERTS_N alerts"
  c0=$(cpu_ticks "$pid")
  burst "$name" "$base" "$GROUPS_N" ""
  c1=$(cpu_ticks "$pid")
  R_NEW=$(echo "$B_OUT" | cut -d' ' -f3) R_NPS=$B_NPS R_DRAIN=$B_DRAIN
  log "$name: re-send"
  c2=$(cpu_ticks "$pid")
  out2=$(taskset -c "$LOAD_CORE" python3 "$TOOL" load --url "$base" --groups "$GROUPS_N" \
    --per-group "$PER_GROUP" --batch "$BATCH" --clients "$CLIENTS") || die "$name rejected re-sent alerts"
  c3=$(cpu_ticks "$pid")
  R_RESEND=$(echo "$out2" | cut -d' ' -f3)
  # The re-send triggers no notification (group_interval 5m), so its CPU is the API's and the
  # dispatcher's alone; the first push's includes sending the notifications.
  R_CPU=$(calc "1000 * 1000 * ($c3 - $c2) / $ALERTS_N")
  echo "# $name: re-send of the same alerts: $out2 (alerts s alerts/s), $R_CPU ms CPU per 1,000; first push with its notifications: $(calc "1000 * 1000 * ($c1 - $c0) / $ALERTS_N") ms CPU per 1,000 alerts" >>"$NOTES"
  log "$name: small burst of $SMALL_GROUPS new groups"
  burst "$name" "$base" "$SMALL_GROUPS" "small-"
  R_SMALL_NPS=$B_NPS R_SMALL_DRAIN=$B_DRAIN
  R_RSS=$(calc "$(rss_bytes "$pid") / 1048576")
  R_LOAD=$(load_avg)
  stop_pid "$pid"
}

run_system pharos "$PHAROS_BIN" alertmanager
PH=("$R_NEW" "$R_RESEND" "$R_CPU" "$R_NPS" "$R_SMALL_NPS" "$R_DRAIN" "$R_RSS" "$R_LOAD" "$R_SMALL_DRAIN")
AM=("" "" "" "" "" "" "" "" "")
if [ "$HAVE_AM" = 1 ]; then
  run_system alertmanager "$ALERTMANAGER_BIN"
  AM=("$R_NEW" "$R_RESEND" "$R_CPU" "$R_NPS" "$R_SMALL_NPS" "$R_DRAIN" "$R_RSS" "$R_LOAD" "$R_SMALL_DRAIN")
fi
echo "# load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"

ROW="$GROUPS_N groups x $PER_GROUP alerts"
tsv_row "$TSV" "$ROW" "alerts accepted, new" "alerts/s" "${PH[0]}" "${AM[0]}" ""
tsv_row "$TSV" "$ROW" "alerts accepted, re-sent" "alerts/s" "${PH[1]}" "${AM[1]}" ""
tsv_row "$TSV" "$ROW" "server CPU per 1,000 re-sent alerts" "ms" "${PH[2]}" "${AM[2]}" ""
tsv_row "$TSV" "$ROW" "notifications delivered (first to last)" "notifications/s" "${PH[3]}" "${AM[3]}" ""
tsv_row "$TSV" "$ROW" "last notification after the last POST" "s" "${PH[5]}" "${AM[5]}" ""
SROW="$SMALL_GROUPS new groups x $PER_GROUP alerts"
tsv_row "$TSV" "$SROW" "notifications delivered (first to last)" "notifications/s" "${PH[4]}" "${AM[4]}" ""
tsv_row "$TSV" "$SROW" "last notification after the last POST" "s" "${PH[8]}" "${AM[8]}" ""
tsv_row "$TSV" "$ROW" "resident memory after the run" "MiB" "${PH[6]}" "${AM[6]}" ""
tsv_row "$TSV" "$ROW" "load average (1 min) at the end of each run" "load" "${PH[7]}" "${AM[7]}" ""
echo "# finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$NOTES"

awk -F'\t' 'NR == 1 { printf "%-26s %-44s %-16s %10s %12s %8s\n", $1, $2, $3, $4, "alertmanager", "ph/am"; next }
  { r = ($3 != "load" && $4 + 0 > 0 && $5 + 0 > 0) ? sprintf("%.2f", $4 / $5) : "-"
    printf "%-26s %-44s %-16s %10s %12s %8s\n", $1, $2, $3, $4, $5, r }' "$TSV"
cat "$NOTES"

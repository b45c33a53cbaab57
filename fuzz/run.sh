#!/usr/bin/env bash
# Runs fuzz targets one after another on one core, each for SECONDS (default 600), and keeps
# each run's libFuzzer output in LOGDIR (default /tmp/pharos-fuzz). New corpus entries go to
# fuzz/corpus/<target> (not committed); fuzz/seeds/<target> are the committed starting inputs.
# Crashes land in fuzz/artifacts/<target>/. Needs the nightly toolchain and cargo-fuzz:
#   cargo install cargo-fuzz
# Usage: fuzz/run.sh [target...]        (all targets when none is named)
set -u
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-600}
LOGDIR=${LOGDIR:-/tmp/pharos-fuzz}
mkdir -p "$LOGDIR"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(exposition promql_parse remote_write wal_record xor_chunk dense_chunk config)
fi
cargo +nightly fuzz build -O || exit 1
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    echo "== $t $(date -u +%FT%TZ)"
    cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$LOGDIR/$t.log" 2>&1
    echo "   exit $? ; $(grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units' "$LOGDIR/$t.log" | tail -2 | tr '\n' ' ')"
done

#!/usr/bin/env bash
# Benchmark: `guanxi analytics clv` (BG/NBD + Gamma-Gamma + per-customer scoring) end to end on
# 1,000,000 customers / 10,000,000 transactions, against the Python `lifetimes` reference.
#
#   bench/analytics.sh [CUSTOMERS] [TRANSACTIONS] [REFERENCE_FRACTION (default 1: the whole file)]
#
# Needs: a release build (done here unless GUANXI_BIN names a binary), /usr/bin/time, and for the reference a Python venv with
# lifetimes (LIFETIMES_PY, default /work/venv-lifetimes/bin/python; see
# crates/analytics/tests/reference/btyd_reference.py for the pinned versions). The reference runs
# on every 1/REFERENCE_FRACTION-th customer (default all) and its time is extrapolated linearly.
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${1:-1000000}
TRANSACTIONS=${2:-10000000}
FRACTION=${3:-1}
PY=${LIFETIMES_PY:-/work/venv-lifetimes/bin/python}
OUT=${BENCH_DIR:-/tmp/guanxi-bench}
mkdir -p "$OUT"
if [ -z "${GUANXI_BIN:-}" ]; then
  cargo build --release -p guanxi >&2
fi
BIN=${GUANXI_BIN:-${CARGO_TARGET_DIR:-target}/release/guanxi}
CSV="$OUT/transactions-$CUSTOMERS-$TRANSACTIONS.csv"
[ -f "$CSV" ] || "$BIN" analytics generate-transactions --customers "$CUSTOMERS" --transactions "$TRANSACTIONS" --out "$CSV"
ls -l "$CSV" >&2

echo "== guanxi analytics clv (release, end to end)" >&2
GUANXI_TIMING=1 /usr/bin/time -v "$BIN" analytics clv --transactions "$CSV" \
  --calibration-end 2022-12-31 --holdout-end 2023-12-31 --period week \
  > "$OUT/clv.json" 2> "$OUT/clv.time"
grep -E '^\[|Elapsed|Maximum resident' "$OUT/clv.time" >&2
WALL=$(grep Elapsed "$OUT/clv.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
RSS=$(grep 'Maximum resident' "$OUT/clv.time" | awk '{print $NF}')

if [ -x "$PY" ]; then
  STEP=$(python3 -c "print(max(1, round(1/$FRACTION)))")
  SUB="$CSV"
  if [ "$STEP" -gt 1 ]; then
    SUB="$OUT/transactions-sub$STEP.csv"
    awk -F, -v s="$STEP" 'NR==1 || (substr($1,2)+0) % s == 0' "$CSV" > "$SUB"
  fi
  echo "== lifetimes reference on 1/$STEP of the customers" >&2
  "$PY" bench/analytics_reference.py "$SUB" 2022-12-31 2023-12-31 1 > "$OUT/reference.json"
  REF=$(python3 -c "import json; print(json.load(open('$OUT/reference.json'))['seconds']['total'])")
  python3 - "$WALL" "$RSS" "$REF" "$STEP" <<'PY'
import sys
wall, rss, ref, step = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"guanxi: {wall:.2f} s wall, peak RSS {rss/1024:.0f} MiB")
if step == 1:
    print(f"lifetimes: {ref:.1f} s on the whole file")
else:
    print(f"lifetimes: {ref:.1f} s on 1/{step} of the customers -> {ref*step:.0f} s extrapolated")
print(f"ratio: {ref*step/wall:.0f}x")
PY
else
  echo "guanxi: $WALL s wall, peak RSS $((RSS/1024)) MiB (no reference: $PY not found)"
fi

#!/usr/bin/env bash
# The Hillstrom worked example (README "Worked example: Hillstrom"), the same commands in order, timed.
#
#   examples/hillstrom/walkthrough.sh [--rows N] [--out DIR] [--full]
#
# Run from the repository root after `make install` (the `mds` command on PATH). Steps up to the first
# `UpliftService.Score` are always run and timed; --full adds batch scoring of every customer (local
# and Spark) and the experiment analysis. Writes DIR/walkthrough.json with the seconds of each step
# and `seconds_to_first_score`. Redis, namespace and data directory come from the MDS_* settings.
set -euo pipefail

ROWS=""
OUT=var/hillstrom
FULL=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --full) FULL=1; shift ;;
    *) echo "error: unknown argument $1 (use --rows N, --out DIR, --full)" >&2; exit 2 ;;
  esac
done

export MDS_CATALOG=examples/hillstrom/catalog.yaml
export MDS_POPULATION="$OUT/customers.parquet"
LOGIC='(newbie#Equal To#true) AND (zip_code#Equal To#urban) AND (womens#Equal To#true) AND (history#Greater Than#200)'
FEATURES=recency,history_segment,history,mens,womens,zip_code,newbie,channel
SEGMENT=new_urban_womens_200
MODEL=hillstrom_womens

mkdir -p "$OUT"
seconds_since() {  # "S.mmm" from a `date +%s%N` stamp to now (bash arithmetic: no bc needed)
  local ms=$(( ($(date +%s%N) - $1) / 1000000 ))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}
T0=$(date +%s%N)
STEPS=()
LAST=$T0
step_done() {  # record the seconds since the previous step under name $1
  STEPS+=("\"$1\": $(seconds_since "$LAST")")
  LAST=$(date +%s%N)
}

SERVER_PID=""
cleanup() { if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

python examples/hillstrom/prepare.py --out "$OUT" ${ROWS:+--rows "$ROWS"};                          step_done prepare
mds catalog check "$MDS_CATALOG";                                                                  step_done catalog_check
mds features load --input "$OUT/customers.parquet";                                                 step_done load
mds targeting select "$LOGIC" --segment "$SEGMENT" --sample 3;                                       step_done select
mds uplift train --name "$MODEL" --data "$OUT/experiment.parquet" --treatment-col segment \
  --treatment-value "Womens E-Mail" --control-value "No E-Mail" --outcome-col visit --features "$FEATURES"
step_done train

# A server on a free port; its banner names the address.
mds serve --port 0 --metrics-port 0 > "$OUT/serve.log" 2>&1 &
SERVER_PID=$!
ADDRESS=""
for _ in $(seq 1 600); do
  ADDRESS=$(sed -n 's/^MDS is serving on \([^ ]*\).*/\1/p' "$OUT/serve.log")
  [[ -n "$ADDRESS" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$ADDRESS" ]] || { echo "error: the server did not start within 60 s" >&2; cat "$OUT/serve.log" >&2; exit 1; }
step_done serve
python examples/hillstrom/score_audience.py --address "$ADDRESS" --segment "$SEGMENT" --model "$MODEL" \
  --max-users 100 --json "$OUT/score.json"
step_done score
FIRST_SCORE=$(seconds_since "$T0")
echo "seconds to the first Score: $FIRST_SCORE"

if [[ $FULL == 1 ]]; then
  mds uplift score --model "$MODEL" --input "$OUT/customers.parquet" --output "$OUT/scores.parquet";   step_done batch_local
  mds uplift score --model "$MODEL" --input "$OUT/customers.parquet" --output "$OUT/scores_spark" --engine spark
  step_done batch_spark
  mds experiments analyze --data "$OUT/experiment.parquet" --arm-col segment --control "No E-Mail" \
    --metrics visit,conversion,spend --covariate history --segments zip_code --json "$OUT/analysis.json"
  step_done analyze
fi

( IFS=,; echo "{\"rows\": \"${ROWS:-all}\", \"seconds_to_first_score\": $FIRST_SCORE, \"steps\": {${STEPS[*]}}}" ) \
  > "$OUT/walkthrough.json"
echo "wrote $OUT/walkthrough.json"

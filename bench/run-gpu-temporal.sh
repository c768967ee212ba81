#!/usr/bin/env bash
# Temporal detector on the GPU machine: a 2-epoch run to time an epoch, then as many epochs as fit
# the time budget, then eval (no / ideal / learned mask) on the test clips, all with --device cuda.
# Run it ON the GPU machine, from the repository root, after `. bench/gpu-unpack.sh`:
#   bench/run-gpu-temporal.sh SUITE TEST OUT [--size 128] [--budget 540] [--max-epochs 200] [TRAIN OPTIONS...]
# SUITE: a synth suite (train/, val/); TEST: the clips to score; OUT: where bundles, logs and
# reports go. Options after the known ones go to `train` as they are (e.g. --set peak=16).
set -euo pipefail
(($# >= 3)) || { sed -n '2,7p' "$0" >&2; exit 2; }
suite="$1" test="$2" out="$3"
shift 3
size=128 budget=540 max_epochs=200
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --max-epochs) max_epochs="$2"; shift 2 ;;
    *) break ;;
  esac
done
: "${SA:?source bench/gpu-unpack.sh first}"
mkdir -p "$out"
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
start=$(now)
elapsed() { calc "$(now) - $start"; }

t0=$(now)
"$SA" train --detector temporal --data "$suite/train" --val "$suite/val" --out "$out/timing.sabundle" \
  --set size="$size" --set epochs=2 --set maskEpochs=2 --device cuda "$@" > "$out/train-timing.log" 2>&1 \
  || { tail -30 "$out/train-timing.log"; exit 1; }
wall=$(calc "$(now) - $t0")
# train reports "S s training": two epochs of both stages; the rest of the wall time is set-up
# (decoding clips, labels, calibration), paid once per run.
trained=$(tr '\n' ' ' < "$out/train-timing.log" | grep -oE '[0-9.]+ s training' | awk '{ print $1 }')
per_epoch=$(calc "$trained / 2")
setup=$(calc "$wall - $trained")
epochs=$(awk -v left="$(calc "$budget - $(elapsed) - 120 - $setup")" -v e="$per_epoch" -v m="$max_epochs" \
  'BEGIN { n = int(left / e); print (n > m ? m : n) }')
((epochs >= 2)) || { echo "no time left for a longer run"; epochs=0; }
printf 'timing run: %.1f s (set-up %.1f s, %.2f s per epoch); long run: %d epochs\n' "$wall" "$setup" "$per_epoch" "$epochs"

bundle="$out/timing.sabundle"
if ((epochs > 0)); then
  t0=$(now)
  "$SA" train --detector temporal --data "$suite/train" --val "$suite/val" --out "$out/temporal.sabundle" \
    --set size="$size" --set epochs="$epochs" --set maskEpochs="$epochs" --device cuda "$@" > "$out/train.log" 2>&1 \
    || { tail -30 "$out/train.log"; exit 1; }
  printf 'long run: %d epochs in %.1f s\n' "$epochs" "$(calc "$(now) - $t0")"
  grep -i -E 'loss|epoch' "$out/train.log" | tail -4 || true
  bundle="$out/temporal.sabundle"
fi
"$SA" eval --bundle "$bundle" --data "$test" --out "$out/eval" --device cuda 2>&1 | tee "$out/eval.log" | tail -25
printf 'total %.1f s\n' "$(elapsed)"

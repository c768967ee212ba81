#!/usr/bin/env bash
# Integrated CNN on the GPU machine: train, eval (Table 5) and research eval-masks (Table 3), each with
# --device cuda and its own time limit, so one slow step still leaves the others' figures.
# Run it ON the GPU machine, from the repository root, after `. bench/gpu-unpack.sh`:
#   bench/run-gpu-integrated.sh SUITE OUT [--train-limit 300] [--seeds 3] [TRAIN OPTIONS...]
# SUITE: a synth suite (train/, val/, test/); OUT: bundles, logs and reports. Options after the
# known ones go to `train` as they are (e.g. --set size=128 --set epochs=20 --set segmentationEpochs=60).
set -euo pipefail
(($# >= 2)) || { sed -n '2,7p' "$0" >&2; exit 2; }
suite="$1" out="$2"
shift 2
train_limit=300 seeds=3
while (($#)); do
  case "$1" in
    --train-limit) train_limit="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) break ;;
  esac
done
: "${SA:?source bench/gpu-unpack.sh first}"
mkdir -p "$out"
step() { # NAME LIMIT COMMAND...: runs it with a time limit, log in OUT/NAME.log, prints its tail and seconds
  local name="$1" limit="$2" t0
  shift 2
  t0=$(date +%s)
  if timeout "$limit" "$@" > "$out/$name.log" 2>&1; then
    echo "== $name: $(($(date +%s) - t0)) s"
  else
    echo "== $name: FAILED or out of time after $(($(date +%s) - t0)) s (limit $limit s)"
  fi
  tail -22 "$out/$name.log"
}

step train "$train_limit" "$SA" train --detector integrated --data "$suite/train" --val "$suite/val" \
  --out "$out/integrated.sabundle" --device cuda "$@"
[[ -f "$out/integrated.sabundle" ]] || exit 1
step eval 150 "$SA" eval --bundle "$out/integrated.sabundle" --data "$suite/test" --out "$out/eval" --device cuda
step eval-masks 240 "$SA" research eval-masks --bundle "$out/integrated.sabundle" --data "$suite/train" \
  --eval-data "$suite/test" --out "$out/masks" --epochs 20 --seeds "$seeds" --device cuda

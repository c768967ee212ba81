#!/usr/bin/env bash
# Runs the PyTorch eager reference and the TorchSharp bench of the integrated CNN with the same
# settings, one after the other on the same GPU, and prints C#/PyTorch frames/s ratios.
# Run it ON the GPU machine, from the repository root:
#   bench/run-gpu.sh APP [--batch 128] [--size 256] [--iterations 30] [--warmup 5] [--depth resnet50]
# APP: the folder of the self-contained app from bench/publish-gpu.sh (or the .tar.xz itself).
# Needs python3 with torch (CUDA); LD_LIBRARY_PATH is pointed at torch's lib/ so TorchSharp uses it.
# Raw lines land in $BENCH_OUT (default: a new temporary folder): pytorch.jsonl, torchsharp*.txt.
set -euo pipefail
if (($# < 1)); then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
app="$1"
shift
batch=128 size=256 iterations=30 warmup=5 depth=resnet50
while (($#)); do
  case "$1" in
    --batch) batch="$2" ;;
    --size) size="$2" ;;
    --iterations) iterations="$2" ;;
    --warmup) warmup="$2" ;;
    --depth) depth="$2" ;;
    *) echo "run-gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

out="${BENCH_OUT:-$(mktemp -d)}"
mkdir -p "$out"
if [[ -f "$app" ]]; then
  tar -C "$out" -xJf "$app"
  app="$out/streamanomaly"
fi
[[ -x "$app/streamanomaly" ]] || { echo "run-gpu.sh: no streamanomaly executable in $app" >&2; exit 2; }

torchlib="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')"
export LD_LIBRARY_PATH="$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
common=(--batch "$batch" --size "$size" --iterations "$iterations" --warmup "$warmup")

echo "== PyTorch eager reference ($(python3 -c 'import torch;print(torch.__version__, torch.cuda.get_device_name())'))"
python3 "$here/integrated_reference.py" "${common[@]}" --depth "$depth" --device cuda | tee "$out/pytorch.jsonl"
for benchmark in true false; do
  echo "== TorchSharp (cudnn.benchmark $benchmark)"
  "$app/streamanomaly" bench integrated "${common[@]}" --backbone "$depth" --device cuda --precision all \
    --channels-last --cudnn-benchmark "$benchmark" --json | tee "$out/torchsharp-benchmark-$benchmark.txt"
done

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith("{")]
py = [r for r in lines(os.path.join(out, "pytorch.jsonl")) if not r.get("error")]
cs = [r for p in sorted(glob.glob(os.path.join(out, "torchsharp-*.txt"))) for r in lines(p) if not r.get("error")]
key = lambda r: (r["precision"], r["mode"], r["layout"], r["cudnn_benchmark"])
pyk = {key(r): r for r in py}
best_py = max(py, key=lambda r: r["frames_per_s"])
if cs and py and cs[0]["params"] != py[0]["params"]:
    print(f"WARNING: parameter counts differ: TorchSharp {cs[0]['params']} vs PyTorch {py[0]['params']}")
else:
    print(f"parameters: TorchSharp {cs[0]['params'] if cs else '?'} == PyTorch {py[0]['params'] if py else '?'}")
print(f"\nbest PyTorch config: {best_py['precision']} {best_py['mode']} {best_py['layout']} benchmark={best_py['cudnn_benchmark']}: {best_py['frames_per_s']:.0f} frames/s\n")
# Like-for-like only: each TorchSharp configuration against PyTorch in the same precision, mode,
# layout and cudnn.benchmark setting, and the fastest of each against the other.
print(f"{'TorchSharp config':<40} {'frames/s':>9} {'ms/batch':>9} {'/same-cfg':>9} {'/best-PT':>9}")
same_ratios = []
for r in sorted(cs, key=lambda r: -r["frames_per_s"]):
    same = pyk.get(key(r))
    if same:
        same_ratios.append(r["frames_per_s"] / same["frames_per_s"])
    name = f"{r['precision']} {r['mode']} {r['layout']} bench={'on' if r['cudnn_benchmark'] else 'off'}"
    ratio = lambda other: f"{r['frames_per_s'] / other['frames_per_s']:.2f}x" if other else "-"
    print(f"{name:<40} {r['frames_per_s']:>9.0f} {r['ms_per_batch']:>9.2f} {ratio(same):>9} {ratio(best_py):>9}")
if cs and py:
    best = max(cs, key=lambda r: r["frames_per_s"])
    print(f"\nbest TorchSharp / best PyTorch = {best['frames_per_s'] / best_py['frames_per_s']:.2f}x; "
          f"same configuration: {min(same_ratios):.2f}-{max(same_ratios):.2f}x" if same_ratios else "")
PY
echo "raw lines: $out"

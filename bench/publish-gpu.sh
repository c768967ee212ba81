#!/usr/bin/env bash
# Publishes the streamanomaly CLI self-contained for linux-x64 WITHOUT libtorch (the GPU machine
# supplies its own: PyTorch's lib/ on LD_LIBRARY_PATH, see bench/run-gpu.sh) and packs it as
# DEST/streamanomaly-linux-x64.tar.xz (DEST defaults to gpu-carry/, which git ignores).
# The benchmark never touches OpenCV, so libOpenCvSharpExtern.so (113 MB, ~40 MiB packed: it alone
# would break the 60 MiB budget) is left out too unless --with-opencv is given (then the other
# commands work on the GPU machine as well, but the tarball is over budget). The pretrained
# ResNet-18's weights go to DEST/resnet18-models.tar.xz, a third carry (patchcore needs them).
# Run it HERE, from anywhere:   bench/publish-gpu.sh [--with-opencv] [DEST]
set -euo pipefail
with_opencv=false
if [[ "${1:-}" == "--with-opencv" ]]; then
  with_opencv=true
  shift
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$(mkdir -p "${1:-$root/gpu-carry}" && cd "${1:-$root/gpu-carry}" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
app="$stage/streamanomaly"
dotnet publish "$root/src/StreamAnomaly.Cli" -c Release -r linux-x64 --self-contained -o "$app" --nologo -v quiet -clp:ErrorsOnly

# libtorch and everything that ships beside it in the libtorch-cpu package: the GPU machine's
# PyTorch provides CUDA-enabled copies. libLibTorchSharp.so (patched by the build) and
# TorchSharp.dll stay.
shopt -s nullglob
removed=0
for f in "$app"/libtorch*.so* "$app"/libc10*.so* "$app"/libgomp*.so* "$app"/libshm.so* \
         "$app"/libbackend_with_compiler.so "$app"/libjitbackend_test.so "$app"/libnnapi_backend.so \
         "$app"/libaoti_custom_ops.so "$app"/libtorchbind_test.so "$app"/libtorch_python.so; do
  [[ -e "$f" ]] || continue
  rm -f "$f"
  removed=$((removed + 1))
done
if [[ $with_opencv == false && -e "$app/libOpenCvSharpExtern.so" ]]; then
  rm -f "$app/libOpenCvSharpExtern.so"
  removed=$((removed + 1))
fi
for keep in libLibTorchSharp.so TorchSharp.dll streamanomaly; do
  [[ -e "$app/$keep" ]] || { echo "publish-gpu.sh: $keep missing from the publish output" >&2; exit 1; }
done

# The pretrained ResNet-18 (models/resnet18, 64 MB of weights that hardly compress) travels in a
# tarball of its own: with it the app's would be over budget.
models="$dest/resnet18-models.tar.xz"
rm -f "$models"
if [[ -d "$app/models" ]]; then
  mkdir -p "$stage/models-only/streamanomaly"
  mv "$app/models" "$stage/models-only/streamanomaly/models"
  XZ_OPT='-6 -T0' tar -C "$stage/models-only" -cJf "$models" streamanomaly
  printf '%s: %.1f MiB\n' "$models" "$(echo "$(stat -c %s "$models") / 1048576" | bc -l)"
fi

tarball="$dest/streamanomaly-linux-x64.tar.xz"
XZ_OPT='-6 -T0' tar -C "$stage" -cJf "$tarball" streamanomaly
bytes=$(stat -c %s "$tarball")
unpacked=$(du -sb "$app" | cut -f1)
printf 'removed %d native files (libtorch%s); app %.1f MiB unpacked\n' "$removed" "$([[ $with_opencv == true ]] || echo ", OpenCV")" "$(echo "$unpacked / 1048576" | bc -l)"
printf '%s: %.1f MiB\n' "$tarball" "$(echo "$bytes / 1048576" | bc -l)"
if ((bytes >= 60 * 1024 * 1024)); then
  echo "publish-gpu.sh: tarball is not under 60 MiB" >&2
  exit 1
fi

#!/usr/bin/env bash
# Packs OpenCV for the GPU machine as DEST/opencv-linux-x64.tar.xz (DEST defaults to gpu-carry/):
# OpenCvSharp's native libOpenCvSharpExtern.so, stripped, plus every shared library it links to
# beyond glibc and libstdc++ (GTK, cairo, pango, X11 ...), taken from this machine. With it, the
# commands that read video (train, eval, synth) run there too.
# The app (bench/publish-gpu.sh, ~52 MiB) and this (~38 MiB) do not fit one call's 64 MiB, so they
# travel in two calls to a warm machine; bench/gpu-unpack.sh unpacks each where the other finds it.
# Run it HERE, after a build or publish:   bench/publish-gpu-opencv.sh [DEST]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$(mkdir -p "${1:-$root/gpu-carry}" && cd "${1:-$root/gpu-carry}" && pwd)"

extern="$(find "$HOME/.nuget/packages" -path '*linux-x64/native/libOpenCvSharpExtern.so' | sort | tail -1)"
[[ -n "$extern" ]] || { echo "publish-gpu-opencv.sh: libOpenCvSharpExtern.so not in the NuGet cache: build first" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/opencv"
cp "$extern" "$stage/opencv/"
strip --strip-unneeded "$stage/opencv/libOpenCvSharpExtern.so"
missing=$(ldd "$extern" | awk '/not found/{print $1}')
[[ -z "$missing" ]] || { echo "publish-gpu-opencv.sh: this machine lacks $missing (apt-get install libgtk-3-0)" >&2; exit 1; }
ldd "$extern" | awk '/=>/{print $3}' \
  | grep -v -E '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so' \
  | while read -r lib; do cp -L "$lib" "$stage/opencv/"; done

tarball="$dest/opencv-linux-x64.tar.xz"
XZ_OPT='-9 -T0' tar -C "$stage" -cJf "$tarball" opencv
printf '%s: %d libraries, %.1f MiB\n' "$tarball" "$(ls "$stage/opencv" | wc -l)" "$(echo "$(stat -c %s "$tarball") / 1048576" | bc -l)"

#!/usr/bin/env bash
# Source it ON the GPU machine, from the repository root:   . bench/gpu-unpack.sh
# Unpacks whichever of gpu-carry/streamanomaly-linux-x64.tar.xz and resnet18-models.tar.xz
# (bench/publish-gpu.sh) and gpu-carry/opencv-linux-x64.tar.xz (bench/publish-gpu-opencv.sh) came
# with this call into /tmp/streamanomaly-gpu (kept while the machine stays warm, so they can come
# in separate calls),
# then exports SA (the app's executable) and LD_LIBRARY_PATH: PyTorch's CUDA libtorch first, then
# OpenCV and the libraries it needs.
gpu_root=/tmp/streamanomaly-gpu
mkdir -p "$gpu_root"
for tarball in gpu-carry/streamanomaly-linux-x64.tar.xz gpu-carry/opencv-linux-x64.tar.xz gpu-carry/resnet18-models.tar.xz; do
  if [[ -f "$tarball" ]]; then
    tar -C "$gpu_root" -xJf "$tarball" && echo "gpu-unpack: $tarball unpacked"
  fi
done
torchlib="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')"
export LD_LIBRARY_PATH="$torchlib:$gpu_root/opencv${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ -f "$gpu_root/opencv/libOpenCvSharpExtern.so" && -d "$gpu_root/streamanomaly" ]]; then
  ln -sf "$gpu_root/opencv/libOpenCvSharpExtern.so" "$gpu_root/streamanomaly/libOpenCvSharpExtern.so"
fi
SA="$gpu_root/streamanomaly/streamanomaly"
export SA
[[ -x "$SA" ]] || echo "gpu-unpack: the app is not unpacked yet ($SA)"
[[ -f "$gpu_root/opencv/libOpenCvSharpExtern.so" ]] || echo "gpu-unpack: OpenCV is not unpacked yet"

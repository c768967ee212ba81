#!/usr/bin/env python3
"""PyTorch eager reference of StreamAnomaly's integrated CNN, for `streamanomaly bench integrated`.

The SAME architecture as src/StreamAnomaly.Vision/Models/Integrated/*.cs (module names follow the
C# state-dict names): a torchvision-style ResNet (v1.5 bottleneck, no classifier) giving C3..C5, the
YOLACT feature pyramid (P3..P7), the reconstruction head (pooled P3/P4 + P5 -> 1x1 squeeze -> code ->
transposed-conv decoder -> sigmoid) and the YOLACT segmentation head (proto_net on P3, shared
prediction head on every level). Plain PyTorch, no torchvision.

Prints the parameter count (must equal TorchSharp's IntegratedNetwork.CountParameters(All), which
the C# bench prints too) and one JSON line per configuration on stdout:
fp32, bf16/fp16 autocast ("PyTorch eager bf16"), bf16/fp16 whole-model cast (what TorchSharp does,
as it has no autocast), each in NCHW and channels_last, with cudnn.benchmark off (PyTorch's default)
and/or on.

    python3 bench/integrated_reference.py --batch 128 --size 256 --iterations 30 --warmup 5
"""

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.downsample = shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


def shortcut(in_planes, out_planes, stride):
    if stride == 1 and in_planes == out_planes:
        return None
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes))


DEPTHS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}


class ResNet(nn.Module):
    def __init__(self, depth, width_divisor=1):
        super().__init__()
        block, blocks = DEPTHS[depth]
        stem = 64 // width_divisor
        self.conv1 = nn.Conv2d(3, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        in_planes = stem
        channels = []
        for l in range(4):
            planes = (64 << l) // width_divisor
            stride = 1 if l == 0 else 2
            layer = []
            for b in range(blocks[l]):
                layer.append(block(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes * block.expansion
            setattr(self, f"layer{l + 1}", nn.Sequential(*layer))
            channels.append(in_planes)
        self.output_channels = tuple(channels[1:])

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        x = self.layer1(x)
        c3 = self.layer2(x)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return c3, c4, c5


class FeaturePyramid(nn.Module):
    def __init__(self, in_channels, channels=256):
        super().__init__()
        self.lat_layers = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in in_channels])
        self.pred_layers = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(3)])
        self.downsample_layers = nn.ModuleList([nn.Conv2d(channels, channels, 3, stride=2, padding=1) for _ in range(2)])

    @staticmethod
    def _up(x, like):
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, c3, c4, c5):
        p5 = self.lat_layers[2](c5)
        lat4 = self.lat_layers[1](c4)
        p4 = self._up(p5, lat4) + lat4
        lat3 = self.lat_layers[0](c3)
        p3 = self._up(p4, lat3) + lat3
        smoothed = [F.relu(self.pred_layers[i](p)) for i, p in enumerate((p3, p4, p5))]
        p6 = self.downsample_layers[0](smoothed[2])
        p7 = self.downsample_layers[1](p6)
        return smoothed + [p6, p7]


class ReconstructionHead(nn.Module):
    def __init__(self, pyramid_channels, height, width, code_size=512, decoder_width=32, squeeze_channels=64):
        super().__init__()
        gh, gw, w = height // 32, width // 32, decoder_width
        self.grid = (gh, gw)
        self.squeeze = nn.Sequential(
            nn.Conv2d(3 * pyramid_channels, squeeze_channels, 1, bias=False), nn.BatchNorm2d(squeeze_channels), nn.ReLU())
        self.to_code = nn.Linear(squeeze_channels * gh * gw, code_size)
        self.grid_shape = (4 * w, gh, gw)
        self.from_code = nn.Linear(code_size, 4 * w * gh * gw)
        ch = [4 * w, 4 * w, 2 * w, 2 * w, w, w]
        stages = [nn.Sequential(nn.ConvTranspose2d(ch[i], ch[i + 1], 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(ch[i + 1]), nn.ReLU())
                  for i in range(5)]
        stages.append(nn.Sequential(nn.Conv2d(w, 3, 3, padding=1), nn.Sigmoid()))
        self.decoder = nn.Sequential(*stages)

    def forward(self, p3, p4, p5):
        merged = torch.cat([F.adaptive_avg_pool2d(p3, self.grid), F.adaptive_avg_pool2d(p4, self.grid), p5], 1)
        code = self.to_code(self.squeeze(merged).flatten(1))
        grid = F.relu(self.from_code(code)).view(code.shape[0], *self.grid_shape)
        return self.decoder(grid)


class SegmentationHead(nn.Module):
    def __init__(self, pyramid_channels, prototypes=32, classes=2, anchors=3):
        super().__init__()
        f = pyramid_channels
        self.prototypes, self.classes = prototypes, classes
        self.proto_net = nn.Sequential(
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=False), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
            nn.Conv2d(f, prototypes, 1), nn.ReLU())
        self.upfeature = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.ReLU())
        self.bbox_layer = nn.Conv2d(f, anchors * 4, 3, padding=1)
        self.conf_layer = nn.Conv2d(f, anchors * classes, 3, padding=1)
        self.mask_layer = nn.Conv2d(f, anchors * prototypes, 3, padding=1)

    def forward(self, pyramid):
        prototypes = self.proto_net(pyramid[0])
        n = pyramid[0].shape[0]
        conf, boxes, coefficients = [], [], []
        for level in pyramid:
            x = self.upfeature(level)
            conf.append(self.conf_layer(x).permute(0, 2, 3, 1).reshape(n, -1, self.classes))
            boxes.append(self.bbox_layer(x).permute(0, 2, 3, 1).reshape(n, -1, 4))
            coefficients.append(self.mask_layer(x).permute(0, 2, 3, 1).reshape(n, -1, self.prototypes).tanh())
        return torch.cat(conf, 1), torch.cat(boxes, 1), torch.cat(coefficients, 1), prototypes


class IntegratedNetwork(nn.Module):
    def __init__(self, depth="resnet50", size=256, fpn=256, code=512, prototypes=32, anchors=3,
                 classes=2, decoder_width=32, squeeze=64, width_divisor=1):
        super().__init__()
        self.backbone = ResNet(depth, width_divisor)
        self.fpn = FeaturePyramid(self.backbone.output_channels, fpn)
        self.reconstruction_head = ReconstructionHead(fpn, size, size, code, decoder_width, squeeze)
        self.segmentation_head = SegmentationHead(fpn, prototypes, classes, anchors)

    def forward(self, x):
        pyramid = self.fpn(*self.backbone(x))
        reconstruction = self.reconstruction_head(pyramid[0], pyramid[1], pyramid[2])
        return (reconstruction, *self.segmentation_head(pyramid))


def configurations(precision, layouts, benchmarks, on_cuda):
    precisions = ["fp32", "bf16", "fp16"] if precision == "all" else [precision]
    for p in precisions:
        modes = ["fp32"] if p == "fp32" else ["autocast", "cast"]
        for mode in modes:
            for layout in layouts:
                for benchmark in (benchmarks if on_cuda else [False]):
                    yield p, mode, layout, benchmark


def measure(args, device, precision, mode, layout, benchmark):
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = benchmark
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    model = IntegratedNetwork(args.depth, args.size, args.fpn, args.code, args.prototypes, args.anchors).to(device).eval()
    x = torch.rand(args.batch, 3, args.size, args.size, device=device)
    if mode == "cast":
        model = model.to(dtype)
        x = x.to(dtype)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    autocast = torch.autocast(device_type=device.type, dtype=dtype, enabled=(mode == "autocast"))

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    with torch.inference_mode(), autocast:
        for _ in range(args.warmup):
            model(x)
        sync()
        start = time.perf_counter()
        for _ in range(args.iterations):
            model(x)
        sync()
        elapsed = time.perf_counter() - start
    ms = elapsed * 1000.0 / args.iterations
    del model, x
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", default="resnet50", choices=sorted(DEPTHS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="all", choices=["fp32", "bf16", "fp16", "all"])
    parser.add_argument("--layout", default="both", choices=["nchw", "channels_last", "both"])
    parser.add_argument("--cudnn-benchmark", default="both", choices=["off", "on", "both"],
                        help="torch.backends.cudnn.benchmark (PyTorch's default is off)")
    parser.add_argument("--fpn", type=int, default=256)
    parser.add_argument("--code", type=int, default=512)
    parser.add_argument("--prototypes", type=int, default=32)
    parser.add_argument("--anchors", type=int, default=3)
    parser.add_argument("--params-only", action="store_true", help="print the parameter count and exit")
    args = parser.parse_args()
    if args.size % 32 != 0 or args.size < 32:
        parser.error("--size must be a positive multiple of 32")

    device = torch.device(args.device)
    params = sum(p.numel() for p in IntegratedNetwork(args.depth, args.size, args.fpn, args.code, args.prototypes, args.anchors).parameters())
    print(f"# parameters {params} (PyTorch reference, {args.depth}, {args.size}x{args.size}, fpn {args.fpn}, "
          f"code {args.code}, prototypes {args.prototypes}, anchors {args.anchors})", file=sys.stderr)
    if args.params_only:
        print(json.dumps({"impl": "pytorch", "depth": args.depth, "size": args.size, "params": params}))
        return
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    layouts = ["nchw", "channels_last"] if args.layout == "both" else [args.layout]
    benchmarks = {"off": [False], "on": [True], "both": [False, True]}[args.cudnn_benchmark]
    for precision, mode, layout, benchmark in configurations(args.precision, layouts, benchmarks, device.type == "cuda"):
        line = {"impl": "pytorch", "torch": torch.__version__, "gpu": name, "depth": args.depth, "size": args.size,
                "batch": args.batch, "iterations": args.iterations, "warmup": args.warmup, "device": args.device,
                "precision": precision, "mode": mode, "layout": layout, "cudnn_benchmark": benchmark, "params": params}
        try:
            ms = measure(args, device, precision, mode, layout, benchmark)
            line.update(ms_per_batch=round(ms, 4), frames_per_s=round(args.batch * 1000.0 / ms, 2), error=None)
        except RuntimeError as e:  # e.g. a dtype the CPU backend lacks
            line.update(ms_per_batch=0.0, frames_per_s=0.0, error=str(e).splitlines()[0])
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

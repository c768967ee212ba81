using StreamAnomaly.Vision.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

public sealed class PostprocessTests
{
    [Fact]
    public void Fast_nms_keeps_the_higher_of_two_overlapping_boxes()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 1, 1, 11, 11, 0, 0, 10, 10 }, [2, 4]);
        var keep = SegmentationPostprocessor.FastNms(boxes, tensor(new[] { 0.8f, 0.9f }), 0.5);
        Assert.Equal([1L], keep.data<long>().ToArray());
    }

    [Fact]
    public void Fast_nms_keeps_disjoint_boxes_highest_score_first()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 0, 0, 10, 10, 20, 20, 30, 30 }, [2, 4]);
        var keep = SegmentationPostprocessor.FastNms(boxes, tensor(new[] { 0.3f, 0.9f }), 0.5);
        Assert.Equal([1L, 0L], keep.data<long>().ToArray());
    }

    [Fact]
    public void Fast_nms_lets_a_suppressed_box_still_suppress_a_lower_one()
    {
        // A overlaps B, B overlaps C, A and C are disjoint: greedy NMS keeps A and C, fast NMS only A.
        using var scope = NewDisposeScope();
        var chain = tensor(new float[] { 0, 0, 10, 10, 2, 0, 12, 10, 4, 0, 14, 10 }, [3, 4]);
        var iou = BoxCoding.Iou(chain, chain).data<float>().ToArray();
        Assert.True(iou[1] > 0.5 && iou[5] > 0.5 && iou[2] < 0.5);
        var keep = SegmentationPostprocessor.FastNms(chain, tensor(new[] { 0.9f, 0.8f, 0.7f }), 0.5);
        Assert.Equal([0L], keep.data<long>().ToArray());
    }

    [Fact]
    public void A_coefficient_selecting_one_prototype_gives_that_prototype_cropped_to_the_box()
    {
        using var scope = NewDisposeScope();
        var prototypes = zeros(2, 16, 16) - 10;
        prototypes[0, TensorIndex.Slice(2, 14), TensorIndex.Slice(2, 14)] = tensor(10f);
        prototypes[1] = randn(16, 16);
        var masks = SegmentationPostprocessor.AssembleMasks(
            prototypes, tensor(new float[] { 1, 0 }, [1, 2]), tensor(new[] { 0.25f, 0.25f, 0.75f, 0.75f }, [1, 4]), padding: 0);
        Assert.Equal(new long[] { 1, 16, 16 }, masks.shape);
        var values = masks[0].data<float>().ToArray();
        for (var y = 0; y < 16; y++)
        {
            for (var x = 0; x < 16; x++)
            {
                var inside = x is >= 4 and < 12 && y is >= 4 and < 12;
                Assert.Equal(inside ? 1f : 0f, values[(y * 16) + x], 3);
            }
        }
    }

    [Fact]
    public void Crop_padding_widens_the_box_by_whole_prototype_pixels()
    {
        using var scope = NewDisposeScope();
        var cropped = SegmentationPostprocessor.Crop(ones(1, 16, 16), tensor(new[] { 0.25f, 0.25f, 0.75f, 0.75f }, [1, 4]), padding: 1);
        Assert.Equal(100f, cropped.sum().item<float>());
    }

    [Fact]
    public void Postprocess_turns_one_confident_prior_into_one_detection_with_its_mask()
    {
        var (detections, leakBefore, leakAfter) = RunHandMadeOutput();
        var image = Assert.Single(detections);
        var detection = Assert.Single(image);
        Assert.Equal(1, detection.ClassIndex);
        Assert.True(detection.Score > 0.99f);
        Assert.Equal(16f, detection.Box.X1, 3);
        Assert.Equal(16f, detection.Box.Y1, 3);
        Assert.Equal(48f, detection.Box.X2, 3);
        Assert.Equal(48f, detection.Box.Y2, 3);
        Assert.Equal((64, 64), (detection.Mask.Width, detection.Mask.Height));
        // The 8x8 prototype-pixel square, upsampled x4 bilinearly and cut at 0.5, is the 32x32 square
        // 16..47 except its four corner pixels (0.625 x 0.625 = 0.39 there): YOLACT's corners round off.
        static bool Expected(int x, int y) =>
            x is >= 16 and < 48 && y is >= 16 and < 48 && !(x is 16 or 47 && y is 16 or 47);
        var wrong = Enumerable.Range(0, 64 * 64)
            .Where(i => detection.Mask.Data[i] != Expected(i % 64, i / 64))
            .Select(i => $"({i % 64}, {i / 64})")
            .ToArray();
        Assert.True(wrong.Length == 0, $"{wrong.Length} pixels differ: {string.Join(' ', wrong.Take(20))}");

        Assert.Equal(leakBefore, leakAfter);
    }

    private static (IReadOnlyList<IReadOnlyList<SegmentationDetection>> Detections, long Before, long After) RunHandMadeOutput()
    {
        using var priors = PriorBoxes.ForInput(64, 64, new AnchorOptions());
        var count = priors.shape[0];
        const int chosen = 100;
        using var logits = zeros(1, count, 2);
        logits[0, TensorIndex.Colon, 0] = tensor(10f);
        logits[0, TensorIndex.Colon, 1] = tensor(-10f);
        logits[0, chosen] = tensor(new[] { -10f, 10f });
        using var regressions = zeros(1, count, 4);
        using (var box = tensor(new[] { 0.25f, 0.25f, 0.75f, 0.75f }, [1, 4]))
        using (var encoded = BoxCoding.Encode(box, priors[TensorIndex.Slice(chosen, chosen + 1)]))
        {
            regressions[0, chosen] = encoded[0];
        }

        using var coefficients = rand(1, count, 2);
        coefficients[0, chosen] = tensor(new[] { 1f, 0f });
        using var prototypes = full(1, 2, 16, 16, 10f);
        prototypes[0, 1] = tensor(-10f);
        var output = new SegmentationOutput(logits, regressions, coefficients, prototypes);
        var options = new PostprocessOptions { CropPadding = 0 };
        SegmentationPostprocessor.Process(output, priors, 64, 64, options);
        var before = LeakProbe.LiveTensors;
        var detections = SegmentationPostprocessor.Process(output, priors, 64, 64, options);
        return (detections, before, LeakProbe.LiveTensors);
    }
}

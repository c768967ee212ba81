using Microsoft.ML.OnnxRuntime;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Models.Pretrained;

/// <summary>
/// The TorchSharp module and its preprocessing against ONNX Runtime running the package's own
/// ONNX files on the same frames: the preprocessing graph, and the network with its stage ends
/// added as graph outputs.
/// </summary>
[Collection(PretrainedCollection.Name)]
public sealed class OnnxRuntimeExactnessTests(PretrainedFixture fixture, ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;
    private const int Side = 224;

    private static readonly string[] StageValues = ["ReLU283_Output_0", "ReLU315_Output_0", "ReLU347_Output_0", "ReLU393_Output_0", "Pooling395_Output_0"];

    private static readonly Frame[] Frames =
    [
        TestFrames.Scene(Side, seed: 1),
        TestFrames.Scene(Side, seed: 2, square: (60, 90, 50)),
        TestFrames.Scene(300, seed: 3, square: (10, 200, 80)), // resized to 224 by area interpolation
    ];

    [Fact]
    public void The_preprocessing_equals_ResNetPreprocess_onnx_run_by_onnx_runtime()
    {
        using var scope = NewDisposeScope();
        var bytes = FrameTensors.ToByteTensor(Frames, Side, Side);
        var ours = fixture.Network.Preprocessing.Apply(bytes);

        using var session = new InferenceSession(PretrainedFixture.PreprocessPath);
        var worst = 0f;
        for (var n = 0; n < Frames.Length; n++)
        {
            // The graph takes RGB planes: the frame's BGR planes in reverse.
            var rgb = bytes[n].flip(0).to_type(ScalarType.Float32).data<float>().ToArray();
            var reference = Run(session, "OriginalInput", rgb, ["PreprocessedInput"])[0];
            worst = Math.Max(worst, MaxAbsDifference(reference, ours[n].data<float>().ToArray()));
        }

        output.WriteLine($"preprocessing: max abs difference {worst}");
        Assert.True(worst <= Tolerance, $"max abs difference {worst}");
    }

    [Fact]
    public void Every_stage_and_the_pooled_vector_equal_onnx_runtime_on_the_original_graph()
    {
        using var scope = NewDisposeScope();
        var input = fixture.Network.Preprocessing.FromFrames(Frames, Side, Side);
        var ours = fixture.Network.Features(input, PretrainedStage.Layer1, PretrainedStage.Layer2, PretrainedStage.Layer3, PretrainedStage.Layer4, PretrainedStage.Pooled);

        using var session = new InferenceSession(ProtoWriter.WithOutputs(File.ReadAllBytes(PretrainedFixture.ModelPath), StageValues[..4]));
        var worst = new float[StageValues.Length];
        for (var n = 0; n < Frames.Length; n++)
        {
            var reference = Run(session, "Input247", input[n].data<float>().ToArray(), StageValues);
            for (var s = 0; s < StageValues.Length; s++)
            {
                var mine = ours[s][n].contiguous().data<float>().ToArray();
                Assert.Equal(reference[s].Length, mine.Length);
                worst[s] = Math.Max(worst[s], MaxAbsDifference(reference[s], mine));
            }
        }

        var scale = ours[4].abs().max().item<float>();
        output.WriteLine($"max abs difference (largest pooled value {scale}): " + string.Join(", ", StageValues.Select((v, s) => $"{v} {worst[s]:E2}")));
        Assert.True(worst[2] <= Tolerance, $"layer3: max abs difference {worst[2]}");
        Assert.True(worst[4] <= Tolerance, $"pooled: max abs difference {worst[4]}");
        Assert.All(worst, w => Assert.True(w <= Tolerance, $"max abs difference {w}"));
    }

    private static float[][] Run(InferenceSession session, string inputName, float[] image, string[] outputs)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(image, [1, 3, Side, Side]);
        using var options = new RunOptions();
        using var results = session.Run(options, [inputName], [value], outputs);
        return [.. results.Select(static r => r.GetTensorDataAsSpan<float>().ToArray())];
    }

    private static float MaxAbsDifference(float[] a, float[] b)
    {
        var worst = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        }

        return worst;
    }
}

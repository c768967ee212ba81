using StreamAnomaly.Synthetic.Scene;
using static StreamAnomaly.Synthetic.Tests.Scene.SceneTestHelpers;

namespace StreamAnomaly.Synthetic.Tests.Scene;

public sealed class PatchPasterTests
{
    private const int Size = 64;
    private readonly PatchPaster _paster = new(seed: 5);

    [Fact]
    public void Hand_patch_mask_is_exactly_where_the_frame_differs_without_the_hand_patch()
    {
        for (var i = 0; i < 5; i++)
        {
            var frame = _paster.Render(PatchCategory.NormalAndAbnormal, i, Size, Size);
            var without = _paster.Render(PatchCategory.NormalAndAbnormal, i, Size, Size, withHand: false);

            Assert.True(frame.NormalObject.Area > 0);
            Assert.Equal(Differences(frame.Frame, without.Frame), frame.NormalObject.Data);
        }
    }

    [Fact]
    public void Abnormal_patch_mask_is_exactly_where_the_frame_differs_without_the_abnormal_patch()
    {
        for (var i = 0; i < 5; i++)
        {
            var frame = _paster.Render(PatchCategory.NormalAndAbnormal, i, Size, Size);
            var without = _paster.Render(PatchCategory.NormalAndAbnormal, i, Size, Size, withAbnormal: false);

            Assert.True(frame.Anomaly.Area > 0);
            Assert.Equal(Differences(frame.Frame, without.Frame), frame.Anomaly.Data);
        }
    }

    [Theory]
    [InlineData(PatchCategory.Background, 0, false)]
    [InlineData(PatchCategory.NormalObject, 0, true)]
    [InlineData(PatchCategory.AbnormalObject, 1, false)]
    [InlineData(PatchCategory.NormalAndAbnormal, 1, true)]
    public void Categories_have_their_labels_and_hand_presence(PatchCategory category, int label, bool hasHand)
    {
        for (var i = 0; i < 4; i++)
        {
            var frame = _paster.Render(category, i, Size, Size);

            Assert.Equal(label, frame.Label);
            Assert.Equal(hasHand, frame.NormalObject.Area > 0);
        }
    }

    [Fact]
    public void Same_seed_and_index_give_identical_bytes()
    {
        var a = new PatchPaster(8).Render(PatchCategory.NormalAndAbnormal, 3, Size, Size);
        var b = new PatchPaster(8).Render(PatchCategory.NormalAndAbnormal, 3, Size, Size);

        Assert.Equal(a.Frame.Bgr, b.Frame.Bgr);
    }

    [Fact]
    public void A_categorys_frames_are_consecutive_footage_at_the_given_rate()
    {
        var at5 = new PatchPaster(8, fps: 5).Render(PatchCategory.Background, 3, Size, Size);
        var at10 = new PatchPaster(8, fps: 10).Render(PatchCategory.Background, 6, Size, Size);
        var next = new PatchPaster(8, fps: 10).Render(PatchCategory.Background, 7, Size, Size);

        Assert.Equal(at5.Frame.Bgr, at10.Frame.Bgr);
        Assert.NotEqual(at10.Frame.Bgr, next.Frame.Bgr);
    }
}

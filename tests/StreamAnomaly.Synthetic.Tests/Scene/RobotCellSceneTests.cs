using StreamAnomaly.Synthetic.Scene;
using static StreamAnomaly.Synthetic.Tests.Scene.SceneTestHelpers;

namespace StreamAnomaly.Synthetic.Tests.Scene;

public sealed class RobotCellSceneTests
{
    private const int Size = 64;

    [Fact]
    public void Same_seed_and_time_give_identical_bytes()
    {
        var a = new RobotCellScene(7, SceneOptions.WithPeople with { Hands = true }).Render(12.3, Size, Size);
        var b = new RobotCellScene(7, SceneOptions.WithPeople with { Hands = true }).Render(12.3, Size, Size);

        Assert.Equal(a.Frame.Bgr, b.Frame.Bgr);
        Assert.Equal(a.NormalObject.Data, b.NormalObject.Data);
        Assert.Equal(a.Person.Data, b.Person.Data);
    }

    [Fact]
    public void Rendering_other_times_first_does_not_change_a_frame()
    {
        var fresh = new RobotCellScene(7, SceneOptions.WithPeople).Render(30, Size, Size);
        var used = new RobotCellScene(7, SceneOptions.WithPeople);
        used.Render(90, Size, Size);
        used.Render(3, Size, Size);

        Assert.Equal(fresh.Frame.Bgr, used.Render(30, Size, Size).Frame.Bgr);
    }

    [Fact]
    public void Different_seeds_give_different_frames()
    {
        var a = new RobotCellScene(1, SceneOptions.Background).Render(5, Size, Size);
        var b = new RobotCellScene(2, SceneOptions.Background).Render(5, Size, Size);

        Assert.NotEqual(a.Frame.Bgr, b.Frame.Bgr);
    }

    [Theory]
    [InlineData(96, 64)]
    [InlineData(160, 120)]
    [InlineData(48, 48)]
    public void Any_resolution_renders_frames_and_masks_of_that_size(int width, int height)
    {
        var frame = new RobotCellScene(3, SceneOptions.WithPeople with { Hands = true }).Render(4.2, width, height);

        Assert.Equal((width, height), (frame.Frame.Width, frame.Frame.Height));
        Assert.Equal((width, height), (frame.Person.Width, frame.Person.Height));
        Assert.Equal((width, height), (frame.NormalObject.Width, frame.NormalObject.Height));
        Assert.Equal((width, height), (frame.Anomaly.Width, frame.Anomaly.Height));
    }

    [Fact]
    public void Clean_colours_stay_within_25_to_215_so_drift_and_noise_never_clip()
    {
        var options = SceneOptions.WithPeople with { Hands = true, LightingDrift = false, SensorNoise = false };
        var scene = new RobotCellScene(11, options);

        for (var t = 0.0; t < 30; t += 1.7)
        {
            Assert.All(scene.Render(t, Size, Size).Frame.Bgr, v => Assert.InRange(v, (byte)25, (byte)215));
        }
    }

    [Fact]
    public void Lighting_offset_stays_within_8_grey_levels()
    {
        var scene = new RobotCellScene(5, SceneOptions.Background);

        for (var t = 0.0; t < 200; t += 0.37)
        {
            Assert.InRange(scene.LightingOffset(t), -8, 8);
        }
    }

    [Fact]
    public void Hand_mask_is_exactly_where_the_frame_differs_from_the_frame_without_hands()
    {
        var with = new RobotCellScene(21, SceneOptions.WithPeople with { Hands = true });
        var without = new RobotCellScene(21, SceneOptions.WithPeople);
        var t = FirstTimeWith(with, f => f.NormalObject, Size) + 0.5;

        var frame = with.Render(t, Size, Size);

        Assert.True(frame.NormalObject.Area > 20);
        Assert.Equal(Differences(frame.Frame, without.Render(t, Size, Size).Frame), frame.NormalObject.Data);
    }

    [Fact]
    public void Person_mask_is_exactly_where_the_frame_differs_from_the_frame_without_people()
    {
        var with = new RobotCellScene(22, SceneOptions.WithPeople with { Hands = true });
        var without = new RobotCellScene(22, SceneOptions.WithPeople with { Hands = true, People = false });
        var t = FirstTimeWith(with, f => f.Person, Size) + 1.0;

        var frame = with.Render(t, Size, Size);

        Assert.True(frame.Person.Area > 20);
        Assert.Equal(Differences(frame.Frame, without.Render(t, Size, Size).Frame), frame.Person.Data);
    }

    [Fact]
    public void Person_mask_excludes_pixels_hidden_behind_the_cell()
    {
        var scene = new RobotCellScene(22, SceneOptions.WithPeople);
        var bottomRow = Enumerable.Range(0, Size).Select(x => ((Size - 1) * Size) + x);

        for (var t = 0.0; t < 40; t += 0.5)
        {
            var person = scene.Render(t, Size, Size).Person;
            Assert.All(bottomRow, i => Assert.False(person.Data[i]));
        }
    }

    [Theory]
    [InlineData(AnomalyKind.DroppedPart)]
    [InlineData(AnomalyKind.ForeignObjectOnBelt)]
    [InlineData(AnomalyKind.StalledArm)]
    public void Anomaly_mask_is_exactly_where_the_frame_differs_from_the_normal_counterfactual(AnomalyKind kind)
    {
        var scene = new RobotCellScene(23, SceneOptions.WithPeople with { Anomaly = new AnomalySpec(kind, 1) });
        var t = scene.Schedule.Start(1) + (0.9 * scene.Schedule.Duration(1));

        var frame = scene.Render(t, Size, Size);
        var normal = scene.Counterfactual.Render(t, Size, Size);

        Assert.True(frame.Anomaly.Area > 0);
        Assert.Equal(Differences(frame.Frame, normal.Frame), frame.Anomaly.Data);
        Assert.Equal(1, frame.Label);
    }

    [Fact]
    public void A_normal_scene_has_empty_anomaly_masks()
    {
        var scene = new RobotCellScene(24, SceneOptions.WithPeople with { Hands = true });

        for (var t = 0.0; t < 15; t += 0.8)
        {
            var frame = scene.Render(t, Size, Size);
            Assert.Equal(0, frame.Anomaly.Area);
            Assert.Equal(0, frame.Label);
        }
    }

    [Theory]
    [MemberData(nameof(Seed002LabelTests.Kinds), MemberType = typeof(Seed002LabelTests))]
    public void Every_anomaly_lies_inside_the_region_of_interest(AnomalyKind kind)
    {
        // The "ideal" background mask of the temporal detector is this region: an anomaly outside it
        // could never be found with that mask, so the benchmark's ideal row would be wrong.
        var roi = RobotCellScene.RegionOfInterest(Size, Size);
        for (var seed = 30; seed < 36; seed++)
        {
            var scene = new RobotCellScene(seed, SceneOptions.WithPeople with { Anomaly = new AnomalySpec(kind, 1) });
            var start = scene.Schedule.Start(1);
            var end = start + (1.5 * scene.Schedule.Duration(1));
            var seen = 0;
            for (var t = start; t < end; t += 0.2)
            {
                var anomaly = scene.Render(t, Size, Size).Anomaly;
                seen += anomaly.Area;
                var outside = Enumerable.Range(0, anomaly.Data.Length).Where(i => anomaly.Data[i] && !roi.Data[i]).Select(i => (i % Size, i / Size)).ToArray();
                Assert.True(outside.Length == 0, $"seed {seed}, t {t:F1}: anomaly pixels outside the region of interest at (x, y) {string.Join(' ', outside)}");
            }

            Assert.True(seen > 0);
        }
    }

    [Fact]
    public void Walkers_on_the_far_walkway_never_enter_the_region_of_interest()
    {
        var roi = RobotCellScene.RegionOfInterest(Size, Size);
        var seen = 0;
        for (var seed = 40; seed < 44; seed++)
        {
            var scene = new RobotCellScene(seed, SceneOptions.WithPeople with { FarWalkway = true });
            for (var t = 0.0; t < 40; t += 0.5)
            {
                var person = scene.Render(t, Size, Size).Person;
                seen += person.Area;
                var inside = Enumerable.Range(0, person.Data.Length).Count(i => person.Data[i] && roi.Data[i]);
                Assert.True(inside == 0, $"seed {seed}, t {t:F1}: {inside} person pixels inside the region of interest");
            }
        }

        Assert.True(seen > 0, "no walker was seen");
    }

    [Fact]
    public void Walkers_near_the_cell_pass_through_the_region_of_interest()
    {
        // robotcell-v1's walkers pass behind the arm: the ideal mask cannot hide them (the reason for v2).
        var roi = RobotCellScene.RegionOfInterest(Size, Size);
        var scene = new RobotCellScene(40, SceneOptions.WithPeople);
        var inside = Enumerable.Range(0, 80).Select(k => scene.Render(k * 0.5, Size, Size).Person)
            .Sum(person => Enumerable.Range(0, person.Data.Length).Count(i => person.Data[i] && roi.Data[i]));
        Assert.True(inside > 0);
    }

    [Fact]
    public void Region_of_interest_covers_belt_robot_and_tray_but_not_the_wall()
    {
        var roi = RobotCellScene.RegionOfInterest(100, 100);

        Assert.True(roi.Data[(72 * 100) + 20]);
        Assert.True(roi.Data[(50 * 100) + 63]);
        Assert.True(roi.Data[(75 * 100) + 82]);
        Assert.False(roi.Data[(10 * 100) + 20]);
    }
}

namespace StreamAnomaly.Cluster.Tests;

public sealed class ScorerRoutesTests
{
    private static readonly SequenceScorer Press = new("press");
    private static readonly SequenceScorer Robot = new("robot");

    private static ScorerRoutes Routes(params string[] fallback) =>
        new(new Dictionary<string, Core.Streaming.IFrameScorer> { ["press"] = Press, ["robot"] = Robot },
            new Dictionary<string, string[]> { ["p1"] = ["press"], ["r1"] = ["robot", "press"], ["r2"] = ["robot", "press"] },
            fallback);

    [Fact]
    public void A_camera_gets_the_scorers_of_its_bundles_in_order()
    {
        Assert.Equal([Robot, Press], Routes().For("r1"));
    }

    [Fact]
    public void Cameras_with_the_same_bundles_share_one_route_so_their_frames_batch_together()
    {
        var routes = Routes();
        Assert.Same(routes.For("r1"), routes.For("r2"));
    }

    [Fact]
    public void A_camera_no_route_names_gets_the_fallback_bundles()
    {
        Assert.Equal([Press], Routes("press").For("unknown"));
        Assert.Empty(Routes().For("unknown"));
    }

    [Fact]
    public void Replacing_a_bundle_changes_the_cameras_routed_to_it_and_no_other()
    {
        var v2 = new SequenceScorer("robot-v2");
        var routes = Routes().With("robot", v2);
        Assert.Equal([v2, Press], routes.For("r1"));
        Assert.Equal([Press], routes.For("p1"));
    }

    [Fact]
    public void Replacing_a_bundle_no_camera_uses_is_refused_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => Routes().With("oven", new SequenceScorer()));
        Assert.Contains("'oven'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_route_to_a_bundle_that_is_not_loaded_is_refused_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => new ScorerRoutes(
            new Dictionary<string, Core.Streaming.IFrameScorer> { ["press"] = Press },
            new Dictionary<string, string[]> { ["p1"] = ["press", "oven"] },
            []));
        Assert.Contains("'oven'", error.Message, StringComparison.Ordinal);
    }
}

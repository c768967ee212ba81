using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class GridsTests
{
    [Fact]
    public void A_residual_grid_keeps_the_maps_total_up_to_quantisation()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 64 * 48).Select(_ => (float)random.NextDouble()).ToArray();
        var grid = ResidualGrid.From(new AnomalyMap(64, 48, values), 8, 6);
        Assert.Equal(48, grid.Cells.Length);
        Assert.Equal(values.Sum(), grid.Total(), values.Sum() * 0.01);
    }

    [Fact]
    public void Cells_sum_the_pixels_they_cover()
    {
        // 4x2 map, 2x1 grid: left cell = columns 0-1, right cell = columns 2-3.
        var grid = ResidualGrid.From(new AnomalyMap(4, 2, [1, 1, 0, 0, 1, 1, 0, 2]), 2, 1);
        Assert.Equal(4.0, grid[0], 1e-6);
        Assert.Equal(2.0, grid[1], 4.0 / 255);
    }

    [Fact]
    public void Nothing_remains_outside_a_full_mask_and_everything_outside_an_empty_one()
    {
        var grid = StreamingTestData.Uniform(4, 4, 3);
        Assert.Equal(0.0, grid.TotalOutside(new MaskGrid(4, 4, Enumerable.Repeat((byte)255, 16).ToArray())), 9);
        Assert.Equal(grid.Total(), grid.TotalOutside(MaskGrid.Empty(4, 4)), 9);
    }

    [Fact]
    public void A_mask_grid_holds_the_covered_fraction_of_each_cell()
    {
        // 4x4 mask, left half set -> 2x2 grid: left cells fully covered, right cells empty.
        var data = Enumerable.Range(0, 16).Select(i => i % 4 < 2).ToArray();
        var grid = MaskGrid.From(new BinaryMask(4, 4, data), 2, 2);
        Assert.Equal(new byte[] { 255, 0, 255, 0 }, grid.Coverage);
        var quarter = MaskGrid.From(new BinaryMask(4, 4, Enumerable.Range(0, 16).Select(i => i == 0).ToArray()), 2, 2);
        Assert.Equal(64, quarter.Coverage[0]);
    }

    [Fact]
    public void The_union_of_two_masks_takes_the_larger_coverage_per_cell()
    {
        var union = new MaskGrid(2, 1, [10, 200]).Union(new MaskGrid(2, 1, [100, 20]));
        Assert.Equal(new byte[] { 100, 200 }, union.Coverage);
    }

    [Fact]
    public void Grids_of_different_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => StreamingTestData.Uniform(4, 4, 1).TotalOutside(MaskGrid.Empty(2, 2)));
    }
}

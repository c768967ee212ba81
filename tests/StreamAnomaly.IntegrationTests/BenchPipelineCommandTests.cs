using System.Globalization;
using System.Text.RegularExpressions;
using StreamAnomaly.Cli;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class BenchPipelineCommandTests
{
    private static readonly string[] Rows =
    [
        "raw-kafka", "pipeline-noop", "autoencoder-bare", "pipeline-autoencoder", "patchcore-bare", "pipeline-patchcore", "latency-p50", "latency-p99",
        "cpu-per-frame-4", "cpu-per-frame-16", "cpu-per-frame-64", "cpu-per-frame-max/min",
    ];

    [Fact]
    public async Task Bench_pipeline_prints_every_row_with_a_finite_positive_figure()
    {
        var (code, text) = await ConsoleCapture.RunWithOutput(["bench", "pipeline", "--cameras", "2", "--seconds", "2", "--size", "32"]);

        Assert.True(code == 0, text);
        foreach (var row in Rows)
        {
            var match = Regex.Match(text, $@"^{Regex.Escape(row)} +(\S+) ", RegexOptions.Multiline);
            Assert.True(match.Success, $"row {row} missing in:\n{text}");
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(value) && value > 0, $"row {row}: {match.Groups[1].Value}");
        }
    }
}

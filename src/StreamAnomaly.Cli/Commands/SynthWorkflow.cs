using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Synthetic.Suite;

namespace StreamAnomaly.Cli.Commands;

/// <summary>Which benchmark suite to render, how big, and where.</summary>
internal sealed record SynthRequest(string Suite, string Out, int Seed, int Size, double Fps, SuiteScale Scale);

/// <summary>Renders a benchmark suite with a progress bar and prints its counts per split and category.</summary>
internal static class SynthWorkflow
{
    public static SuiteSummary Run(SynthRequest request)
    {
        if (!RobotCellSuite.Names.Contains(request.Suite))
        {
            throw new ArgumentException($"unknown suite '{request.Suite}' (known: {string.Join(", ", RobotCellSuite.Names)})");
        }

        var options = new RobotCellSuiteOptions(request.Seed, request.Size, request.Fps, request.Scale, FarWalkway: request.Suite == RobotCellSuite.FarWalkwayName);
        var summary = ConsoleProgress.Run($"rendering {request.Suite}", 1, update =>
            RobotCellSuite.Generate(options, request.Out, new Progress(update)));

        var table = new Table().Title($"{request.Suite} ({request.Scale.ToString().ToLowerInvariant()}, {request.Size} px, {request.Fps} fps, seed {request.Seed})")
            .AddColumns("split", "category", "clips", "frames", "label 1");
        foreach (var row in summary.Rows)
        {
            table.AddRow(row.Split, Markup.Escape(row.Category), Count(row.Clips), Count(row.Frames), Count(row.AnomalousFrames));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{summary.TotalFrames} frames in [bold]{Markup.Escape(summary.OutDir)}[/] (contact sheet: contact-sheet.png)");
        return summary;
    }

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Maps the suite's clip counter onto the 0..1 bar.</summary>
    private sealed class Progress(Action<double, string?> update) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) =>
            update((double)value.ClipsDone / Math.Max(value.ClipsTotal, 1), $"{value.Split}/{value.Clip}");
    }
}

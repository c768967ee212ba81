using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Synthetic.Suite;

namespace StreamAnomaly.Cli.Commands;

/// <summary>How big a demo to run, and where to keep its files.</summary>
internal sealed record DemoRequest(string? Out, int Size, int Epochs, int Seed);

/// <summary>
/// The end-to-end job on embedded defaults, nothing to install: render the robotcell-v1 suite,
/// train and calibrate the autoencoder baseline on its normal clips, evaluate it on the test
/// clips and print the papers' tables. Everything stays in one folder for inspection.
/// </summary>
internal static class DemoWorkflow
{
    public static EvaluationMetrics Run(DemoRequest request, TimeProvider time)
    {
        var root = request.Out is null
            ? Directory.CreateTempSubdirectory("streamanomaly-demo-").FullName
            : Path.GetFullPath(request.Out);
        AnsiConsole.Write(new Rule("1/3 render the robot-cell benchmark"));
        SynthWorkflow.Run(new SynthRequest(RobotCellSuite.Name, Path.Combine(root, "data"), request.Seed, request.Size, 5, SuiteScale.Small));

        AnsiConsole.Write(new Rule("2/3 train and calibrate the autoencoder on normal clips"));
        var bundle = TrainWorkflow.Run(
            new TrainRequest(
                "autoencoder",
                Path.Combine(root, "data", "train"),
                Path.Combine(root, "autoencoder.sabundle"),
                Settings: [$"epochs={request.Epochs}", $"size={request.Size}"],
                Seed: request.Seed),
            time);

        AnsiConsole.Write(new Rule("3/3 evaluate on the test clips"));
        var metrics = EvalWorkflow.Run(new EvalRequest([bundle], Path.Combine(root, "data", "test"), Path.Combine(root, "report")));
        AnsiConsole.MarkupLine($"demo files: [bold]{Markup.Escape(root)}[/] (data/, autoencoder.sabundle, report/)");
        return metrics;
    }
}

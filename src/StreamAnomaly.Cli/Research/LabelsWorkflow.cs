using System.Globalization;
using CsvHelper;
using ScottPlot;
using Spectre.Console;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;

namespace StreamAnomaly.Cli.Research;

/// <summary>Where to read normal clips, where to write their weak labels, and how to cut the cycle.</summary>
internal sealed record LabelsRequest(string Data, string Out, int Partitions, int Transition, int Size);

/// <summary>
/// <c>labels</c>: the temporal detector's weak labels, exactly as <c>train --detector temporal</c> computes
/// them (<see cref="TemporalTrainer.Label"/> on the same runs of consecutive normal frames, resized to
/// <c>--size</c>), written per run as <c>NAME.labels.csv</c> (frame, d, aligned index, class, one soft
/// label column per partition) and <c>NAME.png</c> (d(t), the aligned template and the classes). NAME is
/// the clip's name, or <c>CLIP.fromN</c> when anomalous frames split a clip into several runs.
/// </summary>
internal static class LabelsWorkflow
{
    public static string Run(LabelsRequest request)
    {
        if (request.Transition < 0)
        {
            throw new ArgumentException($"--transition must be non-negative, got {request.Transition}");
        }

        var clips = ClipDataset.Open(request.Data, requireLabels: false);
        var runs = TrainingFrames.AllNormal.Runs(clips, 2);
        if (runs.Count == 0)
        {
            throw new InvalidDataFileException(request.Data, "no normal frames to label");
        }

        var tensors = runs.Select(r => FrameTensors.ToByteTensor(r.Frames, request.Size, request.Size)).ToArray();
        WeakLabels labels;
        try
        {
            labels = TemporalTrainer.Label(tensors, request.Partitions, request.Transition);
        }
        finally
        {
            foreach (var t in tensors)
            {
                t.Dispose();
            }
        }

        using var output = new OutputFolder(request.Out, "research labels", request.Data);
        var perClip = runs.GroupBy(r => r.Clip.Name).ToDictionary(g => g.Key, g => g.Count());
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var name = perClip[run.Clip.Name] == 1 ? run.Clip.Name : $"{run.Clip.Name}.from{run.First}";
            WriteCsv(output.Stage(name + ".labels.csv"), run.First, labels.Clips[i], request.Partitions);
            Plot(output.Stage(name + ".png"), name, run.First, labels.Clips[i], request.Partitions);
        }

        output.Commit();
        AnsiConsole.MarkupLine(
            $"cycle period {labels.Cycle.Period:F2} frames (template {labels.Cycle.Template.Length} frames, reference {Markup.Escape(runs[labels.ReferenceClip].Clip.Name)} frame {runs[labels.ReferenceClip].First}); " +
            $"{request.Partitions} partitions, ramp {labels.Transition} frames; {runs.Count} runs labelled into [bold]{Markup.Escape(output.FinalPath)}[/]");
        return output.FinalPath;
    }

    private static void WriteCsv(string path, int first, ClipCycleLabels labels, int partitions)
    {
        using var csv = CsvWriter.ToFile(path, CsvWriterOptions.Default with { NewLine = "\n" });
        csv.WriteRecord(["frame", "d", "aligned_index", "class", .. Enumerable.Range(0, partitions).Select(c => $"y{c}")]);
        for (var t = 0; t < labels.Distance.Length; t++)
        {
            csv.WriteRecord([
                (first + t).ToString(CultureInfo.InvariantCulture),
                labels.Distance[t].ToString("F4", CultureInfo.InvariantCulture),
                labels.AlignedIndex[t].ToString(CultureInfo.InvariantCulture),
                labels.Classes[t].ToString(CultureInfo.InvariantCulture),
                .. labels.Soft[t].Select(v => v.ToString("F4", CultureInfo.InvariantCulture))]);
        }

        csv.Flush();
    }

    private static void Plot(string path, string name, int first, ClipCycleLabels labels, int partitions)
    {
        var plot = new Plot();
        var x = Enumerable.Range(first, labels.Distance.Length).Select(t => (double)t).ToArray();
        var d = plot.Add.Scatter(x, labels.Distance);
        d.LegendText = "d(t)";
        d.MarkerSize = 3;
        var aligned = plot.Add.Scatter(x, labels.AlignedIndex.Select(j => labels.Reference[j]).ToArray());
        aligned.LegendText = "aligned template";
        aligned.MarkerSize = 0;
        aligned.LinePattern = LinePattern.Dashed;
        var classes = plot.Add.Scatter(x, labels.Classes.Select(c => (double)c).ToArray());
        classes.LegendText = "class";
        classes.MarkerSize = 0;
        classes.ConnectStyle = ConnectStyle.StepHorizontal;
        classes.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "partition class";
        plot.Axes.SetLimitsY(-0.5, partitions - 0.5, plot.Axes.Right);
        plot.XLabel("frame");
        plot.YLabel("d(t), grey levels");
        plot.Title($"{name}: weak partition labels");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 720, 360);
    }
}

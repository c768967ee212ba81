using ScottPlot;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Cli.Reports;

/// <summary>The report's PNG plots, drawn with ScottPlot.</summary>
internal static class Plots
{
    private const int Width = 720;
    private const int Height = 480;

    /// <summary>ROC curve with the chance diagonal.</summary>
    public static void Roc(string path, IReadOnlyList<(double Fpr, double Tpr)> curve, double auroc, string detector) =>
        Roc(path, [(detector, curve, auroc)]);

    /// <summary>One ROC curve per detector, each labelled with its AUROC, and the chance diagonal.</summary>
    public static void Roc(string path, IReadOnlyList<(string Detector, IReadOnlyList<(double Fpr, double Tpr)> Curve, double Auroc)> curves)
    {
        var plot = new Plot();
        if (curves.Count > 10)
        {
            plot.Add.Palette = new ScottPlot.Palettes.Category20(); // the default palette repeats after ten colours
        }

        foreach (var (detector, curve, auroc) in curves)
        {
            var line = plot.Add.Scatter(curve.Select(p => p.Fpr).ToArray(), curve.Select(p => p.Tpr).ToArray());
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = $"{detector} (AUROC {auroc:F3})";
        }

        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.XLabel("false positive rate");
        plot.YLabel("true positive rate");
        plot.Title("ROC");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Calibrated score per frame, the 0.5 threshold, and the ground-truth anomalous frames shaded.</summary>
    public static void Timeline(string path, string clip, IReadOnlyList<ScoredFrame> frames)
    {
        var plot = new Plot();
        foreach (var (start, end) in AnomalousRuns(frames))
        {
            var span = plot.Add.HorizontalSpan(start - 0.5, end + 0.5);
            span.FillColor = Colors.Red.WithAlpha(0.15);
            span.LineColor = Colors.Transparent;
        }

        var line = plot.Add.Scatter(frames.Select(f => (double)f.Frame).ToArray(), frames.Select(f => f.Score).ToArray());
        line.MarkerSize = 3;
        line.LegendText = "calibrated score";
        var threshold = plot.Add.HorizontalLine(ScoreCalibration.NormalizedThreshold);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.Color = Colors.Red;
        threshold.LegendText = "threshold";
        plot.Axes.SetLimitsY(-0.02, 1.02);
        plot.XLabel("frame");
        plot.YLabel("score");
        plot.Title($"{clip} (shaded: ground-truth anomalous frames)");
        plot.SavePng(path, Width, Height / 2 + 80);
    }

    private static IEnumerable<(int Start, int End)> AnomalousRuns(IReadOnlyList<ScoredFrame> frames)
    {
        int? start = null;
        for (var i = 0; i <= frames.Count; i++)
        {
            var anomalous = i < frames.Count && frames[i].Label == 1;
            if (anomalous && start is null)
            {
                start = frames[i].Frame;
            }
            else if (!anomalous && start is int s)
            {
                yield return (s, frames[i - 1].Frame);
                start = null;
            }
        }
    }
}

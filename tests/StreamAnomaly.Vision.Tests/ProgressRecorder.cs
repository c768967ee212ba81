using StreamAnomaly.Vision.Training;

namespace StreamAnomaly.Vision.Tests;

/// <summary>Keeps every training progress report, in order, synchronously (unlike Progress&lt;T&gt;).</summary>
internal sealed class ProgressRecorder : IProgress<TrainingProgress>
{
    private readonly List<TrainingProgress> reports = [];

    public IReadOnlyList<TrainingProgress> Reports => reports;

    /// <summary>Stage names in the order the stages ran.</summary>
    public IReadOnlyList<string> Stages => reports.Select(r => r.Stage).Distinct().ToArray();

    public void Report(TrainingProgress value) => reports.Add(value);
}

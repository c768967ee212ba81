using Spectre.Console;
using StreamAnomaly.Vision.Training;

namespace StreamAnomaly.Cli.Commands;

/// <summary>Spectre.Console progress bars for long work (they degrade to plain lines when output is redirected).</summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with one bar that <paramref name="work"/> advances (value 0..max).</summary>
    public static T Run<T>(string description, double max, Func<Action<double, string?>, T> work) =>
        Run(description, max, (update, _) => work(update));

    /// <summary>
    /// As <see cref="Run{T}(string, double, Func{Action{double, string}, T})"/>; <paramref name="work"/>
    /// also gets a second action that moves the bar's end, for work that learns its true size on the way.
    /// </summary>
    public static T Run<T>(string description, double max, Func<Action<double, string?>, Action<double>, T> work)
    {
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(max, 1));
                var result = work(
                    (value, text) =>
                    {
                        task.Value = value;
                        if (text is not null)
                        {
                            task.Description = Markup.Escape(text);
                        }
                    },
                    end => task.MaxValue = Math.Max(end, 1));
                task.Value = task.MaxValue;
                return result;
            });
    }

    /// <summary>
    /// Runs a training with one bar per stage (a stage's bar appears with its first step) and
    /// returns what it returns, with each epoch's mean loss per stage.
    /// </summary>
    public static (T Result, IReadOnlyList<(string Stage, int Epoch, double Loss)> Losses) Training<T>(Func<IProgress<TrainingProgress>, T> work)
    {
        var losses = new List<(string Stage, int Epoch, double Loss)>();
        var result = AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => work(new StageBars(ctx, losses)));
        return (result, losses);
    }

    private sealed class StageBars(ProgressContext context, List<(string Stage, int Epoch, double Loss)> losses) : IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, ProgressTask> bars = [];

        public void Report(TrainingProgress value)
        {
            if (!bars.TryGetValue(value.Stage, out var bar))
            {
                bar = context.AddTask(Markup.Escape(value.Stage), maxValue: Math.Max(1, value.Steps * value.Epochs));
                bars[value.Stage] = bar;
            }

            bar.Value = ((value.Epoch - 1) * value.Steps) + value.Step;
            bar.Description = Markup.Escape(double.IsNaN(value.Loss)
                ? $"{value.Stage} {value.Step}/{value.Steps}"
                : $"{value.Stage} epoch {value.Epoch}/{value.Epochs} loss {value.Loss:F5}");
            if (value.EpochDone && !double.IsNaN(value.Loss))
            {
                losses.Add((value.Stage, value.Epoch, value.Loss));
            }
        }
    }
}

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

    /// <summary>A training progress sink that drives one bar over all epochs and records each epoch's mean loss.</summary>
    public sealed class Training(Action<double, string?> update, List<(string Stage, int Epoch, double Loss)> epochLosses) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => Report(value, 0);

        /// <summary>Reports a stage whose steps start after <paramref name="offset"/> steps of earlier stages.</summary>
        public void Report(TrainingProgress value, int offset)
        {
            var done = offset + ((value.Epoch - 1) * value.Steps) + value.Step;
            update(done, $"{value.Stage} epoch {value.Epoch}/{value.Epochs} loss {value.Loss:F5}");
            if (value.EpochDone)
            {
                epochLosses.Add((value.Stage, value.Epoch, value.Loss));
            }
        }
    }
}

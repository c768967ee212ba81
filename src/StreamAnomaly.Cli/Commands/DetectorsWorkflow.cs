using Spectre.Console;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary><c>detectors</c>: every detector of the catalog, its one-line help and its options.</summary>
internal static class DetectorsWorkflow
{
    public static void Run()
    {
        foreach (var definition in DetectorCatalog.All)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(definition.Name)}[/]: {Markup.Escape(definition.Summary)}");
            var table = new Table().AddColumns("option", "type", "default", "what it does");
            foreach (var option in DetectorOptionsJson.Describe(definition.Defaults))
            {
                table.AddRow(
                    Markup.Escape(option.Name + (option.Scoring ? " *" : string.Empty)),
                    Markup.Escape(option.Type),
                    Markup.Escape(option.Default),
                    Markup.Escape(option.Help));
            }

            AnsiConsole.Write(table);
        }

        AnsiConsole.MarkupLine("Set options with [bold]train --set name=value[/] or [bold]--options FILE.json[/]; * = a scoring option, which [bold]calibrate --set[/] may change without retraining.");
    }
}

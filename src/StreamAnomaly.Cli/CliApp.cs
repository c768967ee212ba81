using System.CommandLine;

namespace StreamAnomaly.Cli;

/// <summary>The streamanomaly command tree.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("StreamAnomaly: industrial video anomaly detection across a plant.");
        return root;
    }

    public static Task<int> RunAsync(string[] args) => Build().Parse(args).InvokeAsync();
}

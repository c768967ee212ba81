using System.Xml.Linq;

namespace StreamAnomaly.Core.Tests;

/// <summary>
/// The dependency rules of DESIGN.md section 2, read from the project files themselves:
/// Core references nothing; every other project references only what its job needs.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> AllowedProjectReferences = new()
    {
        ["StreamAnomaly.Core"] = [],
        ["StreamAnomaly.Vision"] = ["StreamAnomaly.Core"],
        ["StreamAnomaly.Ingest"] = ["StreamAnomaly.Core"],
        ["StreamAnomaly.Synthetic"] = ["StreamAnomaly.Core", "StreamAnomaly.Ingest"],
        ["StreamAnomaly.Cluster"] = ["StreamAnomaly.Core"],
        ["StreamAnomaly.Host"] = ["StreamAnomaly.Core", "StreamAnomaly.Cluster", "StreamAnomaly.Ingest", "StreamAnomaly.Vision", "StreamAnomaly.Synthetic"],
        ["StreamAnomaly.Cli"] = ["StreamAnomaly.Core", "StreamAnomaly.Vision", "StreamAnomaly.Ingest", "StreamAnomaly.Synthetic", "StreamAnomaly.Host"],
    };

    private static readonly Dictionary<string, string[]> ForbiddenPackagePrefixes = new()
    {
        ["StreamAnomaly.Core"] = [string.Empty],
        ["StreamAnomaly.Ingest"] = ["TorchSharp", "libtorch"],
        ["StreamAnomaly.Synthetic"] = ["TorchSharp", "libtorch"],
        ["StreamAnomaly.Cluster"] = ["TorchSharp", "libtorch", "Confluent", "OpenCvSharp"],
    };

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StreamAnomaly.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("StreamAnomaly.sln not found above the test binaries");
    }

    private static XDocument Project(string name) =>
        XDocument.Load(Path.Combine(RepositoryRoot(), "src", name, $"{name}.csproj"));

    public static TheoryData<string> SourceProjects() => new(
        Directory.GetDirectories(Path.Combine(RepositoryRoot(), "src")).Select(Path.GetFileName).OfType<string>());

    [Theory]
    [MemberData(nameof(SourceProjects))]
    public void Project_references_only_what_its_job_needs(string project)
    {
        Assert.True(AllowedProjectReferences.ContainsKey(project), $"{project} has no entry in the architecture rules: add one");
        var references = Project(project).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!))
            .ToArray();
        Assert.All(references, r => Assert.Contains(r, AllowedProjectReferences[project]));
    }

    [Theory]
    [MemberData(nameof(SourceProjects))]
    public void Project_uses_no_forbidden_package(string project)
    {
        var packages = Project(project).Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).ToArray();
        var forbidden = ForbiddenPackagePrefixes.GetValueOrDefault(project, []);
        Assert.DoesNotContain(packages, p => forbidden.Any(prefix => p.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)));
    }
}

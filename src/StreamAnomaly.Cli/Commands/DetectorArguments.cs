using System.Text.Json;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What the generic commands share: options from <c>--options FILE</c> and <c>--set</c>, and clip folders.</summary>
internal static class DetectorArguments
{
    /// <summary>
    /// <paramref name="definition"/>'s defaults, overlaid with the JSON object in
    /// <paramref name="optionsFile"/> (when given) and then every <c>name=value</c> of
    /// <paramref name="settings"/>; validated.
    /// </summary>
    public static DetectorOptions Options(IDetectorDefinition definition, string? optionsFile, IReadOnlyList<string> settings)
    {
        var options = definition.Defaults;
        if (optionsFile is not null)
        {
            if (!File.Exists(optionsFile))
            {
                throw new InvalidDataFileException(optionsFile, "options file not found");
            }

            FileKinds.EnsureRegularOrMissing(optionsFile);

            try
            {
                options = DetectorOptionsJson.Read(options.GetType(), JsonNode.Parse(File.ReadAllText(optionsFile)));
            }
            catch (JsonException e)
            {
                throw new InvalidDataFileException(optionsFile, $"not a JSON object ({e.Message})", e);
            }
            catch (InvalidOptionsException e)
            {
                throw new InvalidDataFileException(optionsFile, e.Message, e);
            }
        }

        return DetectorOptionsJson.With(options, settings);
    }

    /// <summary>The clips of <paramref name="folder"/> (interchange format; labels optional).</summary>
    public static IReadOnlyList<ILabelledClip> Clips(string folder) => ClipDataset.Open(folder, requireLabels: false);

    /// <summary>
    /// The validation folder: <paramref name="given"/>, else the data folder's sibling <c>val/</c>; an error naming
    /// <paramref name="option"/> when neither exists. A missing <paramref name="data"/> folder is named first.
    /// </summary>
    public static string ValidationFolder(string data, string? given, string option = "--val")
    {
        if (!Directory.Exists(data))
        {
            throw new InvalidDataFileException(data, "clip folder not found");
        }

        if (given is not null)
        {
            return given;
        }

        var full = Path.GetFullPath(data.TrimEnd('/', '\\'));
        var sibling = Path.Combine(Path.GetDirectoryName(full) ?? full, "val");
        return Directory.Exists(sibling) && sibling != full
            ? sibling
            : throw new ArgumentException($"{data}: no val/ folder beside it; give {option}, a folder of normal clips");
    }
}

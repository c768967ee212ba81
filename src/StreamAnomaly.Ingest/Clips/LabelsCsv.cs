using System.Globalization;
using CsvHelper;
using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Ingest.Clips;

/// <summary>
/// Reads and writes <c>CLIP.labels.csv</c>: RFC 4180 CSV, UTF-8, header exactly
/// <c>frame,label,category</c>, one row per frame with <c>frame</c> = 0, 1, 2, ... in order,
/// <c>label</c> 0 (normal) or 1 (anomalous) and <c>category</c> free text (quoted when it holds a
/// comma, quote or line break).
/// </summary>
public static class LabelsCsv
{
    /// <summary>The exact header row.</summary>
    public static readonly IReadOnlyList<string> Header = ["frame", "label", "category"];

    // The header is read as an ordinary record so that it can be checked exactly.
    private static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with
    {
        Separator = ',',
        HasHeader = false,
        TrackLineNumbers = true,
        MalformedData = CsvMalformedDataHandling.Throw,
    };

    private static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <summary>
    /// Reads and validates a labels file. Throws <see cref="InvalidDataFileException"/> naming the
    /// file (and the line) for a missing file, bad header, wrong field count, non-integer frame or
    /// label, label other than 0/1, or frames not numbered 0..n-1 in order.
    /// </summary>
    public static IReadOnlyList<FrameLabel> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileKinds.EnsureRegularOrMissing(path);
        if (!File.Exists(path))
        {
            throw new InvalidDataFileException(path, "labels file not found");
        }

        try
        {
            using var csv = CsvReader.FromFile(path, ReaderOptions);
            if (!csv.Read())
            {
                throw new InvalidDataFileException(path, "empty file, expected the header 'frame,label,category'");
            }

            var header = Fields(csv);
            if (!header.SequenceEqual(Header, StringComparer.Ordinal))
            {
                throw new InvalidDataFileException(path, $"line {csv.LineNumber}: header must be exactly 'frame,label,category', got '{string.Join(',', header)}'");
            }

            var labels = new List<FrameLabel>();
            while (csv.Read())
            {
                labels.Add(ParseRow(path, csv.LineNumber, Fields(csv), labels.Count));
            }

            return labels;
        }
        catch (CsvFormatException ex)
        {
            throw new InvalidDataFileException(path, $"malformed CSV: {ex.Message.Split('\n')[0].Trim()}", ex);
        }
        catch (IOException ex)
        {
            throw new InvalidDataFileException(path, $"cannot read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes labels (frames must be 0..n-1 in order and labels 0/1, else <see cref="ArgumentException"/>).
    /// UTF-8 without byte order mark, LF line ends.
    /// </summary>
    public static void Write(string path, IReadOnlyList<FrameLabel> labels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(labels);
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i].Frame != i)
            {
                throw new ArgumentException($"label {i} has frame {labels[i].Frame}; frames must be 0..n-1 in order", nameof(labels));
            }

            if (labels[i].Label is not (0 or 1))
            {
                throw new ArgumentException($"frame {i} has label {labels[i].Label}; labels are 0 or 1", nameof(labels));
            }
        }

        using var csv = CsvWriter.ToFile(path, WriterOptions);
        csv.WriteRecord([.. Header]);
        foreach (var label in labels)
        {
            csv.WriteRecord(
            [
                label.Frame.ToString(CultureInfo.InvariantCulture),
                label.Label.ToString(CultureInfo.InvariantCulture),
                label.Category ?? string.Empty,
            ]);
        }

        csv.Flush();
    }

    private static string[] Fields(CsvReader csv)
    {
        var fields = new string[csv.FieldCount];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = csv.GetString(i);
        }

        return fields;
    }

    private static FrameLabel ParseRow(string path, long line, string[] fields, int expectedFrame)
    {
        if (fields.Length != 3)
        {
            throw new InvalidDataFileException(path, $"line {line}: expected 3 fields (frame,label,category), got {fields.Length}");
        }

        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var frame))
        {
            throw new InvalidDataFileException(path, $"line {line}: frame '{fields[0]}' is not a non-negative integer");
        }

        if (!int.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var label))
        {
            throw new InvalidDataFileException(path, $"line {line}: label '{fields[1]}' is not an integer");
        }

        if (label is not (0 or 1))
        {
            throw new InvalidDataFileException(path, $"line {line}: label {label} is not 0 or 1");
        }

        if (frame != expectedFrame)
        {
            throw new InvalidDataFileException(path, $"line {line}: frame {frame} out of order, expected {expectedFrame} (frames are 0..n-1 in order)");
        }

        return new FrameLabel(frame, label, fields[2]);
    }
}

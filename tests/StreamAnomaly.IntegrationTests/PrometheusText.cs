using System.Globalization;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Just enough of the Prometheus text format to add up a metric's samples.</summary>
public static class PrometheusText
{
    /// <summary>How many samples (label sets) <paramref name="metric"/> has.</summary>
    public static int Count(string text, string metric) =>
        text.Split('\n').Count(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal));

    /// <summary>
    /// The sum of every sample of <paramref name="metric"/> (any labels) whose label set contains
    /// <paramref name="label"/> (e.g. <c>line="line-b"</c>) when given; 0 when there is none.
    /// </summary>
    public static double Sum(string text, string metric, string? label = null)
    {
        var total = 0.0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[metric.Length..];
            string labels;
            if (rest.StartsWith('{'))
            {
                var end = rest.IndexOf('}', StringComparison.Ordinal);
                labels = rest[1..end];
                rest = rest[(end + 1)..];
            }
            else if (rest.StartsWith(' '))
            {
                labels = string.Empty;
            }
            else
            {
                continue; // another metric with this one's name as a prefix
            }

            if (label is not null && !labels.Split(',').Contains(label, StringComparer.Ordinal))
            {
                continue;
            }

            total += double.Parse(rest.Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return total;
    }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace StreamAnomaly.Core.Detection;

/// <summary>
/// Base of every detector's options record: one sealed record per detector, with init-only
/// properties whose initial values are the defaults, a <see cref="DescriptionAttribute"/> each (the
/// help text of <c>streamanomaly detectors</c>) and DataAnnotations for their limits. The record is
/// stored as JSON in the bundle manifest and validated whenever it is read or changed, with errors
/// that name the option (<see cref="DetectorOptionsJson"/>).
/// </summary>
public abstract record DetectorOptions : IValidatableObject
{
    /// <summary>Message of a <see cref="RangeAttribute"/>: "must lie in MIN .. MAX".</summary>
    protected const string Between = "must lie in {1} .. {2}";

    /// <summary>
    /// Most parameters one layer may hold: 2^27 (134 million floats, 512 MiB). A fully-connected
    /// bottleneck holds (input side / stride)^2 x channels x code parameters, a product of three
    /// options, so options each within their own limits could still ask for terabytes; a bundle's
    /// options are checked against this before any network is built. The largest layer of the
    /// papers' configurations holds about 2 million; the 1024 px autoencoder at its default code
    /// sits exactly at the limit.
    /// </summary>
    public const long MaxLayerParameters = 1L << 27;

    /// <summary>Checks that span several options (a window that must fit the input, say).</summary>
    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => [];

    /// <summary>A failed check of <paramref name="option"/> (the C# property name).</summary>
    protected static ValidationResult Fail(string option, string message) => new(message, [option]);

    /// <summary>
    /// Null when <paramref name="parameters"/> fits <see cref="MaxLayerParameters"/>, else a failed
    /// check of <paramref name="option"/> naming the <paramref name="layer"/> and its size.
    /// </summary>
    protected static ValidationResult? LayerLimit(string option, string layer, long parameters) =>
        parameters > MaxLayerParameters
            ? Fail(option, string.Create(CultureInfo.InvariantCulture, $"the {layer} would hold {parameters:N0} parameters, more than the {MaxLayerParameters:N0} a layer may hold (lower the size, the widths or the code)"))
            : null;
}

/// <summary>
/// Marks an option that changes only how scores are made from the networks' outputs, not what the
/// networks learn: <c>calibrate --set</c> may change it without retraining.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ScoringOptionAttribute : Attribute;

/// <summary>Options that cannot be taken: the message names the option and what is wrong.</summary>
public sealed class InvalidOptionsException(string message) : ArgumentException(message);

/// <summary>One option as <c>streamanomaly detectors</c> lists it.</summary>
/// <param name="Name">JSON and <c>--set</c> name (camelCase).</param>
/// <param name="Type">"integer", "number", "true|false", "text" or the enum's values.</param>
/// <param name="Default">The default value as JSON.</param>
/// <param name="Help">One line from the option's <see cref="DescriptionAttribute"/>.</param>
/// <param name="Scoring">True for a <see cref="ScoringOptionAttribute"/> option.</param>
public sealed record OptionInfo(string Name, string Type, string Default, string Help, bool Scoring);

/// <summary>
/// Reads, writes, edits and describes options records: JSON in camelCase (enums as camelCase
/// text), unknown options refused, every value checked against the record's limits.
/// </summary>
public static class DetectorOptionsJson
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        WriteIndented = true,
    };

    /// <summary>The options as a JSON object (every option, defaults included).</summary>
    public static JsonObject ToJson(DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonSerializer.SerializeToNode(options, options.GetType(), Json)!.AsObject();
    }

    /// <summary>
    /// Reads options of <paramref name="type"/> from <paramref name="json"/> (a missing option keeps
    /// its default) and validates them. Throws <see cref="InvalidOptionsException"/> naming the
    /// option for an unknown name, a value of the wrong type or one outside its limits.
    /// </summary>
    public static DetectorOptions Read(Type type, JsonNode? json)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (json is not JsonObject members)
        {
            throw new InvalidOptionsException($"options must be a JSON object, not {json?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}");
        }

        var properties = Properties(type);
        foreach (var (name, _) in members)
        {
            if (!properties.ContainsKey(name))
            {
                throw Unknown(name, properties.Keys);
            }
        }

        DetectorOptions? options;
        try
        {
            options = (DetectorOptions?)members.Deserialize(type, Json);
        }
        catch (JsonException e)
        {
            var name = e.Path?.TrimStart('$', '.') is { Length: > 0 } path ? path : "?";
            var expected = properties.TryGetValue(name, out var property) ? TypeName(property.PropertyType) : "another value";
            throw new InvalidOptionsException($"option '{name}': expected {expected}");
        }

        Validate(options ?? throw new InvalidOptionsException("options must be a JSON object, not null"));
        return options;
    }

    /// <summary>
    /// <paramref name="options"/> with each <c>name=value</c> of <paramref name="settings"/> applied,
    /// validated. With <paramref name="scoringOnly"/>, only <see cref="ScoringOptionAttribute"/>
    /// options may change (the rest would not match the trained weights).
    /// </summary>
    public static DetectorOptions With(DetectorOptions options, IEnumerable<string> settings, bool scoringOnly = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var type = options.GetType();
        var properties = Properties(type);
        var json = ToJson(options);
        foreach (var setting in settings)
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new InvalidOptionsException($"'{setting}': expected option=value");
            }

            var name = setting[..equals].Trim();
            var key = properties.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) ?? throw Unknown(name, properties.Keys);
            var property = properties[key];
            if (scoringOnly && property.GetCustomAttribute<ScoringOptionAttribute>() is null)
            {
                var scoring = properties.Where(p => p.Value.GetCustomAttribute<ScoringOptionAttribute>() is not null).Select(p => p.Key).ToArray();
                throw new InvalidOptionsException($"option '{key}' shapes what the networks learn: retrain to change it (options that only change scoring: {(scoring.Length == 0 ? "none" : string.Join(", ", scoring))})");
            }

            json[key] = Parse(key, setting[(equals + 1)..].Trim(), property.PropertyType);
        }

        return Read(type, json);
    }

    /// <summary>Throws <see cref="InvalidOptionsException"/> naming the first option outside its limits.</summary>
    public static void Validate(DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            var first = results[0];
            var member = first.MemberNames.FirstOrDefault();
            throw new InvalidOptionsException(member is null ? first.ErrorMessage ?? "invalid options" : $"option '{JsonNamingPolicy.CamelCase.ConvertName(member)}': {first.ErrorMessage}");
        }
    }

    /// <summary>Every option of <paramref name="defaults"/>' type, in declaration order, with its default.</summary>
    public static IReadOnlyList<OptionInfo> Describe(DetectorOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var json = ToJson(defaults);
        return Properties(defaults.GetType())
            .Select(p => new OptionInfo(
                p.Key,
                TypeName(p.Value.PropertyType),
                json[p.Key]?.ToJsonString() ?? "null",
                p.Value.GetCustomAttribute<DescriptionAttribute>()?.Description ?? string.Empty,
                p.Value.GetCustomAttribute<ScoringOptionAttribute>() is not null))
            .ToArray();
    }

    /// <summary>The options' JSON names (camelCase) and properties, in declaration order.</summary>
    private static Dictionary<string, PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.CanWrite && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .OrderBy(static p => p.MetadataToken)
            .ToDictionary(static p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), static p => p, StringComparer.Ordinal);

    private static InvalidOptionsException Unknown(string name, IEnumerable<string> known) =>
        new($"unknown option '{name}' (options: {string.Join(", ", known)})");

    private static JsonNode? Parse(string name, string text, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return JsonValue.Create(text);
        }

        if (target.IsEnum)
        {
            var names = Enum.GetNames(target).Select(JsonNamingPolicy.CamelCase.ConvertName).ToArray();
            return names.FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } value
                ? JsonValue.Create(value)
                : throw new InvalidOptionsException($"option '{name}': '{text}' is not one of {string.Join(", ", names)}");
        }

        if (target == typeof(bool) && bool.TryParse(text, out var flag))
        {
            return JsonValue.Create(flag);
        }

        if (target == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (target == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        throw new InvalidOptionsException($"option '{name}': '{text}' is not {TypeName(type)}");
    }

    private static string TypeName(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        return target switch
        {
            _ when target == typeof(int) => "an integer",
            _ when target == typeof(double) => "a number",
            _ when target == typeof(bool) => "true or false",
            _ when target == typeof(string) => "text",
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(target).Select(JsonNamingPolicy.CamelCase.ConvertName))}",
            _ => target.Name,
        };
    }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Core.Tests.Detection;

public enum Shape
{
    Round,
    SquareCorner,
}

/// <summary>Options of a made-up detector, one of each kind of option.</summary>
public sealed record SampleOptions : DetectorOptions
{
    [Description("Input side")]
    [Range(8, 64, ErrorMessage = Between)]
    public int Size { get; init; } = 32;

    [Description("A rate")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double Rate { get; init; } = 0.5;

    [Description("A switch")]
    [ScoringOption]
    public bool Enabled { get; init; } = true;

    [Description("A shape")]
    public Shape Shape { get; init; } = Shape.Round;

    [Description("A window")]
    [Range(0, 64, ErrorMessage = Between)]
    [ScoringOption]
    public int Window { get; init; }

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window > Size)
        {
            yield return Fail(nameof(Window), $"must fit the input ({Size})");
        }
    }
}

public sealed class DetectorOptionsJsonTests
{
    [Fact]
    public void Options_round_trip_through_json_in_camel_case_with_enums_as_text()
    {
        var options = new SampleOptions { Size = 16, Rate = 0.25, Enabled = false, Shape = Shape.SquareCorner, Window = 4 };

        var json = DetectorOptionsJson.ToJson(options);

        Assert.Equal("squareCorner", json["shape"]!.GetValue<string>());
        Assert.Equal(16, json["size"]!.GetValue<int>());
        Assert.Equal(options, DetectorOptionsJson.Read(typeof(SampleOptions), json));
    }

    [Fact]
    public void A_missing_option_keeps_its_default()
    {
        Assert.Equal(new SampleOptions { Size = 16 }, DetectorOptionsJson.Read(typeof(SampleOptions), new JsonObject { ["size"] = 16 }));
    }

    [Fact]
    public void An_unknown_option_is_refused_naming_it_and_the_known_ones()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), new JsonObject { ["colour"] = "red" }));
        Assert.Equal("unknown option 'colour' (options: size, rate, enabled, shape, window)", error.Message);
    }

    [Theory]
    [InlineData("size", "\"big\"", "option 'size': expected an integer")]
    [InlineData("enabled", "3", "option 'enabled': expected true or false")]
    [InlineData("shape", "\"triangle\"", "option 'shape': expected one of round, squareCorner")]
    public void A_value_of_the_wrong_type_is_refused_naming_the_option_and_the_type(string name, string value, string message)
    {
        var json = JsonNode.Parse($"{{ \"{name}\": {value} }}");
        Assert.Equal(message, Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), json)).Message);
    }

    [Fact]
    public void A_value_outside_its_range_is_refused_naming_the_option_and_the_range()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), new JsonObject { ["size"] = 100 }));
        Assert.Equal("option 'size': must lie in 8 .. 64", error.Message);
    }

    [Fact]
    public void A_check_across_options_names_the_option_it_blames()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), new JsonObject { ["size"] = 8, ["window"] = 9 }));
        Assert.Equal("option 'window': must fit the input (8)", error.Message);
    }

    [Fact]
    public void Json_that_is_not_an_object_is_refused()
    {
        Assert.Equal("options must be a JSON object, not array", Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), new JsonArray())).Message);
        Assert.Equal("options must be a JSON object, not null", Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Read(typeof(SampleOptions), null)).Message);
    }

    [Fact]
    public void Settings_change_each_named_option_whatever_the_case_of_its_name()
    {
        var options = DetectorOptionsJson.With(new SampleOptions(), ["SIZE=16", "rate=0.125", "enabled=false", "shape=squarecorner"]);
        Assert.Equal(new SampleOptions { Size = 16, Rate = 0.125, Enabled = false, Shape = Shape.SquareCorner }, options);
    }

    [Theory]
    [InlineData("size", "'size': expected option=value")]
    [InlineData("size=1.5", "option 'size': '1.5' is not an integer")]
    [InlineData("rate=NaN", "option 'rate': 'NaN' is not a number")]
    [InlineData("enabled=yes", "option 'enabled': 'yes' is not true or false")]
    [InlineData("depth=3", "unknown option 'depth' (options: size, rate, enabled, shape, window)")]
    [InlineData("window=40", "option 'window': must fit the input (32)")]
    public void A_setting_that_cannot_be_taken_is_refused_saying_why(string setting, string message)
    {
        Assert.Equal(message, Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.With(new SampleOptions(), [setting])).Message);
    }

    [Fact]
    public void With_scoring_only_a_setting_of_what_the_networks_learn_is_refused_and_scoring_options_pass()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.With(new SampleOptions(), ["size=16"], scoringOnly: true));
        Assert.Equal("option 'size' shapes what the networks learn: retrain to change it (options that only change scoring: enabled, window)", error.Message);
        Assert.Equal(new SampleOptions { Window = 4 }, DetectorOptionsJson.With(new SampleOptions(), ["window=4"], scoringOnly: true));
    }

    [Fact]
    public void Describe_lists_every_option_with_its_type_default_help_and_scoring_flag()
    {
        var info = DetectorOptionsJson.Describe(new SampleOptions());
        Assert.Equal(["size", "rate", "enabled", "shape", "window"], info.Select(o => o.Name));
        Assert.Equal(new OptionInfo("shape", "one of round, squareCorner", "\"round\"", "A shape", false), info[3]);
        Assert.Equal(new OptionInfo("window", "an integer", "0", "A window", true), info[4]);
    }
}

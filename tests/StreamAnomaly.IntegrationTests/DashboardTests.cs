using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using StreamAnomaly.Host;
using Xunit.Abstractions;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// The live dashboard in a real browser: Debian's headless chromium driven by Selenium through
/// chromium-driver (scripts/ensure-deps.sh --test installs both) against an in-process plant.
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed class DashboardTests(PlantFixture fixture, ITestOutputHelper output)
{
    private const string ChromeDriver = "/usr/bin/chromedriver";
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_updating_camera_tiles_and_an_alarm_on_line_b_after_an_injected_anomaly()
    {
        Assert.True(File.Exists(ChromeDriver) && File.Exists(Chromium), $"{Chromium} and {ChromeDriver} are needed (run scripts/ensure-deps.sh --test as root)");
        var watch = Stopwatch.StartNew();
        var recorder = new PlantRecorder();
        var settings = PlantFixture.Plant(lines: 2, perLine: 2);
        await using var node = await PlantNode.StartAsync(settings, new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.NotNull(node.DashboardAddress);
        output.WriteLine($"plant up after {watch.Elapsed.TotalSeconds:F1} s (the first test of the collection also trains the shared autoencoder)");
        watch.Restart();
        using var driver = StartBrowser();
        driver.Navigate().GoToUrl(node.DashboardAddress);

        // a tile per camera, each under its line
        var cameras = settings.Lines.SelectMany(l => l.Cameras.Select(c => (Line: l.Id, Camera: c.Id))).ToArray();
        Assert.True(await Eventually.True(() => driver.FindElements(By.CssSelector("figure.tile[data-camera]")).Count == cameras.Length, TimeSpan.FromSeconds(15)), "a tile per camera");
        foreach (var (line, camera) in cameras)
        {
            Assert.Single(driver.FindElements(By.CssSelector($"section[data-line='{line}'] figure.tile[data-camera='{camera}']")));
        }

        // tiles update: the frame version moves on and the image is loaded
        string FrameVersion(string camera) => driver.FindElement(By.CssSelector($"figure.tile[data-camera='{camera}']")).GetAttribute("data-frame") ?? "0";
        Assert.True(await Eventually.True(() => FrameVersion("line-a-cam1") != "0", TimeSpan.FromSeconds(30)), "a first frame is shown");
        var first = FrameVersion("line-a-cam1");
        Assert.True(await Eventually.True(() => FrameVersion("line-a-cam1") != first, TimeSpan.FromSeconds(10)), "the frame updates");
        Assert.True(await Eventually.True(() => cameras.All(c => FrameVersion(c.Camera) != "0"), TimeSpan.FromSeconds(10)), "every tile shows a frame");
        Assert.True(await Eventually.True(() => Convert.ToInt64(((IJavaScriptExecutor)driver).ExecuteScript("return document.querySelector(\"figure.tile[data-camera='line-b-cam1'] img\").naturalWidth")) > 0, TimeSpan.FromSeconds(10)), "the frame image loads");
        Assert.True(await Eventually.True(() => recorder.DecidedPerLine.GetValueOrDefault("line-a") > 10 && recorder.DecidedPerLine.GetValueOrDefault("line-b") > 10, TimeSpan.FromSeconds(30)), "frames of both lines are decided");
        output.WriteLine($"tiles update after {watch.Elapsed.TotalSeconds:F1} s");

        using (var http = new HttpClient { BaseAddress = node.StatusAddress })
        {
            using var jpeg = await http.GetAsync("dashboard/cameras/line-a-cam1/frame.jpg");
            Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
            Assert.Equal([0xFF, 0xD8], (await jpeg.Content.ReadAsByteArrayAsync())[..2]);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("dashboard/cameras/no-such-cam/frame.jpg")).StatusCode);
        }

        var injection = await node.InjectAsync("line-b-cam1", "foreign-object-beside-belt");
        Assert.Null(injection.Error);
        var alarm = By.CssSelector("section[data-line='line-b'][data-state='alarm']");
        Assert.True(await Eventually.True(() => driver.FindElements(alarm).Count == 1, TimeSpan.FromSeconds(30)), "line B shows an alarm");
        output.WriteLine($"alarm on the page after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("ALARM", driver.FindElement(alarm).FindElement(By.CssSelector(".badge")).Text);
        Assert.Equal("ok", driver.FindElement(By.CssSelector("section[data-line='line-a']")).GetAttribute("data-state"));
        Assert.Empty(recorder.Raised("line-a"));
        await AssertEvidenceLinkedAsync(driver, node, recorder.Raised("line-b").First());

        // a couple more snapshots so the heatmap and the timeline show the anomaly, then the picture for the README
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var shot = ((ITakesScreenshot)driver).GetScreenshot();
        var local = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        shot.SaveAsFile(local);
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1")
        {
            shot.SaveAsFile(Path.Combine(RepositoryRoot(), "docs", "dashboard.png"));   // the README's picture
        }

        Assert.Equal(1280, Convert.ToInt32(((IJavaScriptExecutor)driver).ExecuteScript("return window.innerWidth"), System.Globalization.CultureInfo.InvariantCulture));
        output.WriteLine($"screenshot {local}; {watch.Elapsed.TotalSeconds:F1} s in all");
    }

    /// <summary>The line's evidence link leads to the alarm's record: the camera's decided frame with its scores and grids, and its picture.</summary>
    private static async Task AssertEvidenceLinkedAsync(IWebDriver driver, PlantNode node, Core.Streaming.AlarmEvent raised)
    {
        var link = driver.FindElement(By.CssSelector("section[data-line='line-b'] a.evidence"));
        Assert.EndsWith($"/alarms/{Uri.EscapeDataString(raised.AlarmId)}", link.GetAttribute("href"), StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = node.StatusAddress };
        using var record = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"alarms/{Uri.EscapeDataString(raised.AlarmId)}"));
        Assert.Equal(raised.AlarmId, record.RootElement.GetProperty("alarm").GetProperty("id").GetString());
        var camera = Assert.Single(record.RootElement.GetProperty("cameras").EnumerateArray());
        Assert.Equal("line-b-cam1", camera.GetProperty("camera").GetString());
        Assert.True(camera.GetProperty("score").GetDouble() >= 0.5, "the decided frame kept is a hot one");
        Assert.True(camera.GetProperty("detectors").GetProperty("autoencoder").GetDouble() >= 0.5);
        Assert.Equal(16 * 16, camera.GetProperty("grid").GetProperty("residual").GetArrayLength()); // Worker:GridSize
        using var jpeg = await http.GetAsync(camera.GetProperty("frame").GetProperty("url").GetString()!.TrimStart('/'));
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0xFF, 0xD8], (await jpeg.Content.ReadAsByteArrayAsync())[..2]);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("alarms/no-such-alarm")).StatusCode);
    }

    [Fact]
    public async Task The_event_stream_pushes_json_snapshots_and_does_not_hold_up_the_node_shutdown()
    {
        var node = await PlantNode.StartAsync(PlantFixture.Plant(lines: 2, perLine: 1), new NodeServices { Scorers = () => [fixture.Scorer()], Log = _ => { } });
        var stopped = false;
        try
        {
            using var http = new HttpClient { BaseAddress = node.StatusAddress };
            using var page = await http.GetAsync("dashboard");
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("/dashboard/events", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var events = await http.GetAsync("dashboard/events", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
            var snapshots = new List<System.Text.Json.JsonElement>();
            while (snapshots.Count < 2 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    snapshots.Add(System.Text.Json.JsonDocument.Parse(line["data: ".Length..]).RootElement);
                }
            }

            Assert.Equal(2, snapshots.Count);
            Assert.True(snapshots[1].GetProperty("at").GetInt64() > snapshots[0].GetProperty("at").GetInt64(), "snapshots follow each other");
            Assert.Equal(["line-a-cam1", "line-b-cam1"], snapshots[1].GetProperty("cameras").EnumerateArray().Select(c => c.GetProperty("id").GetString()));

            // the stream is still open while the node stops
            var watch = Stopwatch.StartNew();
            stopped = true;
            await node.DisposeAsync();
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"node stopped in {watch.Elapsed.TotalSeconds:F1} s with an open event stream");
            output.WriteLine($"node stopped in {watch.Elapsed.TotalSeconds:F1} s with an open event stream");
        }
        finally
        {
            if (!stopped)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static ChromeDriver StartBrowser()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
        try
        {
            // --window-size is the outer size: grow the window so the page itself (and the screenshot) is 1280x900
            var inner = Convert.ToInt32(driver.ExecuteScript("return window.innerHeight"), System.Globalization.CultureInfo.InvariantCulture);
            var outer = driver.Manage().Window.Size;
            driver.Manage().Window.Size = new System.Drawing.Size(outer.Width, outer.Height + (900 - inner));
            return driver;
        }
        catch
        {
            driver.Dispose();
            throw;
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamAnomaly.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("StreamAnomaly.sln not found above the test folder");
    }
}

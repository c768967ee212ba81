using System.IO.Compression;
using StreamAnomaly.Cli;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// The offline commands never delete or overwrite what they did not write, never hang on a
/// special file, and end bad input with one line and exit code 2.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class OfflineSafetyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("offline-safety-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string PathOf(params string[] parts) => Path.Combine([_root, .. parts]);

    /// <summary>A labelled clip folder (two 32 px image-folder clips of 6 frames) plus an unrelated file.</summary>
    private string Data(string name = "data", ClipStorage storage = ClipStorage.PngFolder, int frames = 6)
    {
        var folder = PathOf(name);
        Directory.CreateDirectory(folder);
        for (var c = 0; c < 2; c++)
        {
            using var writer = new ClipWriter(folder, $"clip{c}", fps: 5, storage);
            for (var f = 0; f < frames; f++)
            {
                writer.Append(CliFixture.Scene(32, (c * 100) + f, square: f == 3), new FrameLabel(f, f == 3 ? 1 : 0, f == 3 ? "square" : "background"));
            }

            writer.Complete();
        }

        File.WriteAllText(Path.Combine(folder, "notes.txt"), "field notes");
        return folder;
    }

    private static Dictionary<string, string> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public async Task Eval_with_out_pointing_at_the_data_folder_is_refused_and_deletes_nothing()
    {
        var data = Data();
        var before = Snapshot(data);

        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", AutoencoderBundles.Untrained(PathOf("ae.sabundle")), "--data", data, "--out", data]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {data}: the output is the input folder {data}; a command never writes over or into what it reads (choose an output elsewhere)", error.Trim());
        Assert.Equal(before, Snapshot(data));
    }

    [Fact]
    public async Task Eval_with_out_inside_the_data_folder_is_refused()
    {
        var data = Data();

        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", AutoencoderBundles.Untrained(PathOf("ae.sabundle")), "--data", data, "--out", Path.Combine(data, "report")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("the output lies inside the input folder", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(data, "report")));
    }

    [Fact]
    public async Task Eval_refuses_a_non_empty_out_folder_that_is_not_an_earlier_report()
    {
        var data = Data();
        var other = PathOf("thesis");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "chapter1.tex"), "keep me");

        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", AutoencoderBundles.Untrained(PathOf("ae.sabundle")), "--data", data, "--out", other]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains($"{other}: exists, is not empty and is not an earlier report (no .streamanomaly-report)", error, StringComparison.Ordinal);
        Assert.Equal(["chapter1.tex"], Directory.EnumerateFileSystemEntries(other).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Eval_replaces_its_own_earlier_report()
    {
        var data = Data();
        var bundle = AutoencoderBundles.Untrained(PathOf("ae.sabundle"));
        var report = PathOf("report");

        Assert.Equal(0, (await ConsoleCapture.Run(["eval", "--bundle", bundle, "--data", data, "--out", report])).Code);
        Assert.True(File.Exists(Path.Combine(report, OutputFolder.MarkerFile)));
        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", bundle, "--data", data, "--out", report]);

        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(report, "scores.csv")));
    }

    [Fact]
    public async Task Calibrate_does_not_write_through_a_planted_partial_link()
    {
        var data = Data();
        var bundle = AutoencoderBundles.Untrained(PathOf("ae.sabundle"));
        var output = PathOf("recalibrated.sabundle");
        var victim = PathOf("victim.txt");
        File.WriteAllText(victim, "keep me");
        File.CreateSymbolicLink(output + ".partial", victim);
        File.CreateSymbolicLink(PathOf(".recalibrated.sabundle.partial"), victim);

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", bundle, "--data", data, "--out", output]);

        Assert.True(code == 0, error);
        Assert.Equal("keep me", File.ReadAllText(victim));
        Assert.True(ModelBundleOpens(output));
    }

    [Fact]
    public async Task Calibrate_refuses_to_overwrite_a_file_that_is_not_a_bundle()
    {
        var data = Data();
        var notes = PathOf("notes.sabundle");
        File.WriteAllText(notes, "keep me");

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", AutoencoderBundles.Untrained(PathOf("ae.sabundle")), "--data", data, "--out", notes]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("exists and is not a model bundle; refusing to overwrite it", error, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(notes));
    }

    [Fact]
    public async Task Train_reports_a_fifo_in_the_clip_folder_instead_of_hanging()
    {
        var data = Data("train");
        Data("val");
        var fifo = Path.Combine(data, "camera3.avi");
        MakeFifo(fifo);

        var (code, error) = await ConsoleCapture.Run(["train", "--data", data, "--out", PathOf("ae.sabundle"), "--set", "epochs=1", "--set", "size=32", "--set", "width=4", "--set", "code=8"])
            .WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {fifo}: is a FIFO (named pipe), not a regular file; refusing to read it", error.Trim());
        Assert.False(File.Exists(PathOf("ae.sabundle")));
    }

    [Fact]
    public async Task Eval_of_a_truncated_video_is_refused_naming_it_and_writes_no_report()
    {
        var data = Data(storage: ClipStorage.MjpgAvi, frames: 36);
        var video = Path.Combine(data, "clip1.avi");
        var bytes = await File.ReadAllBytesAsync(video);
        await File.WriteAllBytesAsync(video, bytes[..(bytes.Length * 2 / 5)]);

        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", AutoencoderBundles.Untrained(PathOf("ae.sabundle")), "--data", data, "--out", PathOf("report")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Matches($"^error: {System.Text.RegularExpressions.Regex.Escape(video)}: only [0-9]+ frames decode but its labels list 36 \\(a truncated or damaged video\\)$", error.Trim());
        Assert.False(Directory.Exists(PathOf("report")));
    }

    [Fact]
    public async Task Eval_of_a_bundle_whose_manifest_is_null_ends_in_one_line()
    {
        var bundle = AutoencoderBundles.Untrained(PathOf("ae.sabundle"));
        using (var zip = ZipFile.Open(bundle, ZipArchiveMode.Update))
        {
            zip.GetEntry("manifest.json")!.Delete();
            using var stream = zip.CreateEntry("manifest.json").Open();
            stream.Write("null"u8);
        }

        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", bundle, "--data", Data(), "--out", PathOf("report")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {bundle}: corrupted model bundle (manifest is a JSON null, not an object)", error.Trim());
    }

    [Fact]
    public async Task Synth_refuses_a_frame_size_beyond_its_limit_in_one_line()
    {
        var (code, error) = await ConsoleCapture.Run(["synth", "--out", PathOf("suite"), "--size", "1000000"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: --size must be in 16 .. 1024, got 1000000", error.Trim());
        Assert.False(Directory.Exists(PathOf("suite")));
    }

    [Fact]
    public void A_permission_error_becomes_path_colon_problem()
    {
        Assert.Equal("/data/clips/a.avi: permission denied", CliApp.Describe(new UnauthorizedAccessException("Access to the path '/data/clips/a.avi' is denied.")));
    }

    private static bool ModelBundleOpens(string path) => Core.Bundles.ModelBundle.Load(path).Manifest.Detector == "autoencoder";

    private static void MakeFifo(string path)
    {
        if (Mkfifo(path, 0x1B6) != 0)
        {
            throw new IOException($"mkfifo {path} failed");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);
}

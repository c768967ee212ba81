using System.CommandLine;
using Spectre.Console;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Cli.Research;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

namespace StreamAnomaly.Cli;

/// <summary>The streamanomaly command tree.</summary>
internal static class CliApp
{
    /// <summary>Exit code for bad input (a file, an option): the message says what.</summary>
    public const int BadInput = 2;

    public static RootCommand Build(TimeProvider time)
    {
        var root = new RootCommand("StreamAnomaly: industrial video anomaly detection across a plant.");
        root.Subcommands.Add(StreamDemoCommand(time));
        root.Subcommands.Add(RunCommand(time));
        root.Subcommands.Add(BrokerCommand());
        root.Subcommands.Add(QuickstartCommand(time));
        root.Subcommands.Add(SynthCommand());
        root.Subcommands.Add(DetectorsCommand());
        root.Subcommands.Add(TrainCommand(time));
        root.Subcommands.Add(CalibrateCommand(time));
        root.Subcommands.Add(EvalCommand());
        root.Subcommands.Add(new Command("bench", "Performance benchmarks") { BenchIntegratedCommand(), BenchPatchCoreCommand(), BenchTemporalCommand(), BenchPipelineCommand() });
        root.Subcommands.Add(ResearchCommand(time));
        return root;
    }

    public static Task<int> RunAsync(string[] args) => RunAsync(args, TimeProvider.System);

    /// <summary>
    /// Parses and runs one command. A failure the command did not handle becomes one line on
    /// standard error (<see cref="FailureReport"/>), never a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TimeProvider time)
    {
        var parse = Build(time).Parse(args);
        try
        {
            if (parse.Errors.Count == 0 && parse.Action is { } action && ReferenceEquals(action, parse.CommandResult.Command.Action))
            {
                // Every command but help and version runs models: libtorch's settings first, then
                // TorchSharp's native library, so that a missing dependency is reported in one line.
                TorchRuntime.Configure();
                NativeLibraries.Preload("LibTorchSharp", AppContext.BaseDirectory);
            }

            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return FailureReport.Write(e, time, Console.Error);
        }
    }

    /// <summary>
    /// Runs a command body; bad input becomes a one-line "error: ..." on stderr and exit code 2,
    /// with no stack trace.
    /// </summary>
    internal static int Guarded(Action body)
    {
        try
        {
            body();
            return 0;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            return BadInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }


    /// <summary>
    /// Failures that come from what the user gave (a file, a folder, an option), not from a bug:
    /// bad or unreadable data, a path without permission, an image or video OpenCV refused.
    /// </summary>
    private static bool IsBadInput(Exception e) =>
        e is InvalidDataFileException or ArgumentException or IOException or UnauthorizedAccessException or OpenCvSharp.OpenCVException;

    /// <summary>The one line after "error: ": "PATH: problem" wherever the path is known.</summary>
    internal static string Describe(Exception e)
    {
        var line = e switch
        {
            // .NET's text is "Access to the path '/x/y' is denied."
            UnauthorizedAccessException when System.Text.RegularExpressions.Regex.Match(e.Message, "path '(?<path>.*)'") is { Success: true } m => $"{m.Groups["path"].Value}: permission denied",
            UnauthorizedAccessException => $"permission denied ({e.Message})",
            OpenCvSharp.OpenCVException cv => $"OpenCV refused the input ({cv.FuncName}: {cv.ErrMsg})",
            _ => e.Message,
        };
        return line.ReplaceLineEndings(" ");
    }

    private static Command TrainCommand(TimeProvider time)
    {
        var detector = new Option<string>("--detector") { Description = $"Detector to train: {string.Join(", ", DetectorCatalog.Names)} (see `streamanomaly detectors`)", DefaultValueFactory = _ => AutoencoderDetector.Name };
        var data = new Option<string>("--data") { Description = "Folder of NORMAL training clips (interchange format)", Required = true };
        var output = new Option<string>("--out") { Description = "Model bundle file to write", Required = true };
        var validation = new Option<string?>("--val") { Description = "Folder of normal clips to calibrate the thresholds on (default: DATA/../val)" };
        var optionsFile = new Option<string?>("--options") { Description = "JSON file of detector options, laid over the defaults" };
        var settings = SetOption("Detector option as name=value, laid over --options (repeatable; e.g. --set epochs=8 --set size=64)");
        var percentile = new Option<double>("--percentile") { Description = "Threshold = this percentile of normal validation scores", DefaultValueFactory = _ => 99.0 };
        var seed = new Option<int>("--seed") { Description = "Random seed (initialisation, shuffling, augmentation)", DefaultValueFactory = _ => 0 };
        var device = DeviceOption();
        var categories = CategoryOption("Train and calibrate only on frames of this label category (repeatable)");
        var signKey = SignKeyOption();
        var command = new Command("train", "Train a detector on normal clips and write a calibrated model bundle")
        {
            detector, data, output, validation, optionsFile, settings, percentile, seed, device, categories, signKey,
        };
        command.SetAction(r => Guarded(() => TrainWorkflow.Run(
            new TrainRequest(
                r.GetValue(detector)!,
                r.GetValue(data)!,
                r.GetValue(output)!,
                r.GetValue(validation),
                r.GetValue(optionsFile),
                r.GetValue(settings) ?? [],
                Percent(r.GetValue(percentile), "--percentile"),
                r.GetValue(seed),
                r.GetValue(device)!,
                r.GetValue(categories) ?? [],
                r.GetValue(signKey)),
            time)));
        return command;
    }

    private static Command DetectorsCommand()
    {
        var command = new Command("detectors", "List every detector with its options, their defaults and what they do");
        command.SetAction(_ => Guarded(DetectorsWorkflow.Run));
        return command;
    }

    private static Command EvalCommand()
    {
        var bundle = new Option<string[]>("--bundle")
        {
            Description = "Model bundle to evaluate; repeat it to fuse several as a line aggregator does (the fused score first, then each bundle's)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var data = new Option<string>("--data") { Description = "Folder of labelled clips (interchange format)", Required = true };
        var output = new Option<string>("--out") { Description = "Report folder to write (scores.csv, metrics.json, roc.png, timelines/)", DefaultValueFactory = _ => "report" };
        var grid = new Option<int>("--grid") { Description = "Cells per side of the grids several bundles are fused on (as the workers' Worker:GridSize)", DefaultValueFactory = _ => new WorkerConfig().GridSize };
        var compare = new Option<bool>("--compare") { Description = "Several bundles side by side instead of their fusion: each scored and timed alone, one table (comparison.md, comparison.csv) and a ROC curve per detector" };
        var device = DeviceOption();
        var command = new Command("eval", "Score labelled clips with a bundle (every scoring variant), the fusion of several or several side by side; print the papers' tables and write a report") { bundle, data, output, grid, compare, device };
        command.SetAction(r => Guarded(() => EvalWorkflow.Run(new EvalRequest(r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(output)!, r.GetValue(device)!, r.GetValue(grid), r.GetValue(compare)))));
        return command;
    }

    private static Command CalibrateCommand(TimeProvider time)
    {
        var bundle = new Option<string>("--bundle") { Description = "Model bundle to recalibrate", Required = true };
        var data = new Option<string>("--data") { Description = "Folder of normal clips to set the thresholds on (e.g. SUITE/val, or fresh footage of the camera)", Required = true };
        var output = new Option<string>("--out") { Description = "Bundle file to write: the same weights, new calibrations (may be --bundle itself)", Required = true };
        var categories = CategoryOption("Only frames of this label category (repeatable; default: every normal frame)");
        var percentile = new Option<double>("--percentile") { Description = "Threshold = this percentile of the frames' scores", DefaultValueFactory = _ => 99.0 };
        var settings = SetOption("Change a scoring option of the bundle first, e.g. --set peak=8 (repeatable; `streamanomaly detectors` marks them)");
        var device = DeviceOption();
        var signKey = SignKeyOption();
        var command = new Command("calibrate", "Refit a bundle's score thresholds on normal clips without retraining (after a camera or light change, or a changed scoring option)")
        {
            bundle, data, output, categories, percentile, settings, device, signKey,
        };
        command.SetAction(r => Guarded(() => CalibrateWorkflow.Run(
            new CalibrateRequest(
                r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(output)!, r.GetValue(categories) ?? [], Percent(r.GetValue(percentile), "--percentile"), r.GetValue(settings) ?? [], r.GetValue(device)!, r.GetValue(signKey)),
            time)));
        return command;
    }

    private static Command ResearchCommand(TimeProvider time) =>
        new("research", "The source papers' experiments: pseudo-labels and mask AP (integrated CNN), weak labels and mask ablations (temporal masking)")
        {
            PseudolabelCommand(), EvalMasksCommand(time), TrueMasksCommand(), LabelsCommand(), AblationCommand(),
        };

    private static Command TrueMasksCommand()
    {
        var bundle = new Option<string>("--bundle") { Description = "Integrated-CNN bundle", Required = true };
        var data = new Option<string>("--data") { Description = "Labelled clips with their normal-object masks (CLIP.masks/normal-object/)", Required = true };
        var output = new Option<string>("--out") { Description = "Report folder", DefaultValueFactory = _ => "report" };
        var device = DeviceOption();
        var command = new Command("true-masks", "Table 5 plus the integrated CNN scored with the clips' true normal-object masks in place of its head's: what the scoring reaches with a perfect head") { bundle, data, output, device };
        command.SetAction(r => Guarded(() => TrueMasksWorkflow.Run(new TrueMasksRequest(r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(output)!, r.GetValue(device)!))));
        return command;
    }

    private static Command AblationCommand()
    {
        var bundle = new Option<string>("--bundle") { Description = "Temporal bundle", Required = true };
        var data = new Option<string>("--data") { Description = "Folder of labelled clips (interchange format)", Required = true };
        var output = new Option<string>("--out") { Description = "Report folder (ablation.csv)", DefaultValueFactory = _ => "ablation" };
        var validation = new Option<string?>("--val") { Description = "Folder of normal clips to calibrate each mask setting on (default: DATA/../val)" };
        var device = DeviceOption();
        var command = new Command("ablation", "The temporal paper's ablations of the learned mask (Eigen-CAM layers 1/2/4, threshold 0/0.1/0.2, window 3/7/11), each setting calibrated on --val") { bundle, data, output, validation, device };
        command.SetAction(r => Guarded(() => AblationWorkflow.Run(new AblationRequest(r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(output)!, r.GetValue(validation), r.GetValue(device)!))));
        return command;
    }

    /// <summary>The one home of the signing key for the commands that write bundles: a file, never the key itself on the command line.</summary>
    private static Option<string?> SignKeyOption() => new("--sign-key")
    {
        Description = "File holding the bundle signing key (HMAC-SHA256, at least 32 characters: `openssl rand -hex 32 > FILE`); workers configured with the same key (Worker:BundleKeyFile) load only bundles it signed",
    };

    private static Option<string> DeviceOption() => new("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };

    private static Option<string[]> SetOption(string description) => new("--set") { Description = description, AllowMultipleArgumentsPerToken = true };

    private static Option<string[]> CategoryOption(string description) => new("--category") { Description = description, AllowMultipleArgumentsPerToken = true };

    /// <summary>Async variant of <see cref="Guarded"/>; also maps refused configuration to exit code 2; Ctrl+C cancels.</summary>
    internal static async Task<int> GuardedAsync(Func<CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            await body(cancel.Token);
            return 0;
        }
        catch (Host.Settings.InvalidConfigurationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            return BadInput;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("stopped");
            return cancellationToken.IsCancellationRequested ? 130 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static Command StreamDemoCommand(TimeProvider time)
    {
        var cameras = new Option<int>("--cameras") { Description = "Synthetic cameras, spread over the lines", DefaultValueFactory = _ => 4 };
        var lines = new Option<int>("--lines") { Description = "Production lines", DefaultValueFactory = _ => 2 };
        var duration = new Option<double>("--duration") { Description = "Seconds the plant runs after commissioning", DefaultValueFactory = _ => 60 };
        var bundle = new Option<string?>("--bundle") { Description = "Model bundle to use instead of commissioning a new detector" };
        var every = new Option<double>("--inject-every") { Description = "Seconds between injected anomalies (one line at a time)", DefaultValueFactory = _ => 15 };
        var seed = new Option<int>("--seed") { Description = "Scene seed of the first camera", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "Published frame size in pixels", DefaultValueFactory = _ => 128 };
        var fps = new Option<double>("--fps") { Description = "Frames per second per camera", DefaultValueFactory = _ => 5 };
        var commission = new Option<double>("--commission-seconds") { Description = "Seconds of each camera's normal footage the detector learns from", DefaultValueFactory = _ => new CommissioningOptions().Seconds };
        var detector = new Option<string[]>("--detector")
        {
            Description = $"Detector commissioned, repeatable to fuse several (e.g. --detector patchcore --detector cycle): {string.Join(", ", DetectorCatalog.Names)}",
            DefaultValueFactory = _ => [new CommissioningOptions().Detector],
            AllowMultipleArgumentsPerToken = true,
        };
        var settings = SetOption("Option of the commissioned detector as name=value, over the demo's settings for it (repeatable); with several detectors, DETECTOR.name=value");
        var command = new Command("demo", "Run the plant on embedded defaults: synthetic cameras -> Kafka -> workers -> line aggregators -> alarms, with a live view")
        {
            cameras, lines, duration, bundle, every, seed, size, fps, commission, detector, settings,
        };
        command.SetAction((r, ct) => GuardedAsync(
            token => StreamDemoWorkflow.RunAsync(
                new StreamDemoRequest(
                    Positive(r.GetValue(cameras), "--cameras"), Positive(r.GetValue(lines), "--lines"), PositiveSeconds(r.GetValue(duration), "--duration"),
                    r.GetValue(bundle), PositiveSeconds(r.GetValue(every), "--inject-every"), r.GetValue(seed), Positive(r.GetValue(size), "--size"), PositiveSeconds(r.GetValue(fps), "--fps"),
                    Commissioned(r.GetValue(detector)!, r.GetValue(settings) ?? [], PositiveSeconds(r.GetValue(commission), "--commission-seconds"))),
                time,
                token),
            ct));
        return command;
    }

    /// <summary>
    /// The demo's commissioning of each of <paramref name="detectors"/>: its demo settings (the
    /// default detector's), then <paramref name="settings"/>: all of them with one detector; with
    /// several, each must name its detector (<c>cycle.windowCycles=0.5</c>).
    /// </summary>
    internal static IReadOnlyList<CommissioningOptions> Commissioned(IReadOnlyList<string> detectors, IReadOnlyList<string> settings, double seconds)
    {
        if (detectors.Count == 0 || detectors.Distinct(StringComparer.Ordinal).Count() != detectors.Count)
        {
            throw new ArgumentException($"--detector: name each detector once (got {string.Join(", ", detectors)})");
        }

        foreach (var detector in detectors)
        {
            DetectorCatalog.Get(detector);
        }

        if (detectors.Count > 1 && settings.FirstOrDefault(s => !detectors.Any(d => s.StartsWith(d + ".", StringComparison.Ordinal))) is { } bare)
        {
            throw new ArgumentException($"--set {bare}: with several detectors, name the one it is for, e.g. --set {detectors[0]}.{bare}");
        }

        var preset = new CommissioningOptions(seconds);
        return detectors.Select(detector => preset with
        {
            Detector = detector,
            Settings =
            [
                .. detector == preset.Detector ? preset.Settings : [],
                .. detectors.Count == 1 ? settings : settings.Where(s => s.StartsWith(detector + ".", StringComparison.Ordinal)).Select(s => s[(detector.Length + 1)..]),
            ],
        }).ToArray();
    }

    private static Command RunCommand(TimeProvider time)
    {
        var roles = new Option<string?>("--roles") { Description = "Comma-separated roles of this node: ingest, worker, aggregator (default: from the configuration, all three)" };
        var config = new Option<string?>("--config") { Description = "JSON settings file laid over config/appsettings.json (environment STREAMANOMALY__SECTION__KEY wins over both)" };
        var command = new Command("run", "Run a StreamAnomaly node until stopped (Ctrl+C or SIGTERM leave the cluster gracefully)") { roles, config };
        command.SetAction((r, ct) => GuardedAsync(token => RunWorkflow.RunAsync(r.GetValue(config), r.GetValue(roles), time, token), ct));
        return command;
    }

    private static Command BrokerCommand()
    {
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the frames, alarms and dead-letter topics", DefaultValueFactory = _ => 16 };
        var command = new Command("broker", "Host an embedded Kafka broker (librdkafka mock cluster) for other processes; prints its bootstrap address") { partitions };
        command.SetAction((r, ct) => GuardedAsync(token => RunWorkflow.BrokerAsync(Positive(r.GetValue(partitions), "--partitions"), token), ct));
        return command;
    }

    private static double PositiveSeconds(double value, string option) =>
        value > 0 && double.IsFinite(value) ? value : throw new ArgumentException($"{option} must be > 0, got {value}");

    private static Command QuickstartCommand(TimeProvider time)
    {
        var output = new Option<string?>("--out") { Description = "Folder for the demo's data, bundle and report (default: a new temporary folder)" };
        var size = new Option<int>("--size") { Description = "Frame and model size in pixels (multiple of 16)", DefaultValueFactory = _ => 64 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var command = new Command("quickstart", "The offline walk-through: render the benchmark, train, calibrate, evaluate") { output, size, epochs, seed };
        command.SetAction(r => Guarded(() => DemoWorkflow.Run(
            new DemoRequest(r.GetValue(output), r.GetValue(size), Positive(r.GetValue(epochs), "--epochs"), r.GetValue(seed)), time)));
        return command;
    }

    private static Command SynthCommand()
    {
        var suite = new Option<string>("--suite") { Description = "Benchmark suite to render", DefaultValueFactory = _ => Synthetic.Suite.RobotCellSuite.Name };
        var output = new Option<string>("--out") { Description = "Folder to create (must not exist or be empty)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed of the whole suite", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = $"Frame width and height in pixels ({Synthetic.Suite.RobotCellSuiteOptions.MinFrameSize} .. {Synthetic.Suite.RobotCellSuiteOptions.MaxFrameSize})", DefaultValueFactory = _ => 128 };
        var fps = new Option<double>("--fps") { Description = $"Frames per second (at most {Synthetic.Suite.RobotCellSuiteOptions.MaxFps})", DefaultValueFactory = _ => 5.0 };
        var scale = new Option<Synthetic.Suite.SuiteScale>("--scale") { Description = "small (about 2,300 frames) or full (about 10x, close to the papers)", DefaultValueFactory = _ => Synthetic.Suite.SuiteScale.Small };
        var command = new Command("synth", "Render a benchmark suite with exact ground truth (train/, val/, test/, contact sheet)") { suite, output, seed, size, fps, scale };
        command.SetAction(r => Guarded(() => SynthWorkflow.Run(new SynthRequest(
            r.GetValue(suite)!,
            r.GetValue(output)!,
            r.GetValue(seed),
            Within(r.GetValue(size), Synthetic.Suite.RobotCellSuiteOptions.MinFrameSize, Synthetic.Suite.RobotCellSuiteOptions.MaxFrameSize, "--size"),
            r.GetValue(fps) is var f && f > 0 && f <= Synthetic.Suite.RobotCellSuiteOptions.MaxFps ? f : throw new ArgumentException($"--fps must be in (0, {Synthetic.Suite.RobotCellSuiteOptions.MaxFps}], got {f}"),
            r.GetValue(scale)))));
        return command;
    }

    private static Command PseudolabelCommand()
    {
        var bundle = new Option<string>("--bundle") { Description = "Integrated-CNN bundle whose residual is labelled", Required = true };
        var data = new Option<string>("--data") { Description = "Folder of clips (interchange format)", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for labels/CLIP/NNNNNN.png, contact-sheet.png and (with ground-truth masks) agreement.json", Required = true };
        var category = new Option<string>("--category") { Description = "Only frames of this label category (empty: every frame)", DefaultValueFactory = _ => "normal-object" };
        var threshold = new Option<double?>("--threshold") { Description = "Threshold of the residual divided by its normal per-pixel size (default: the bundle's, fitted in training)" };
        var variant = new Option<PseudoLabelVariant>("--variant") { Description = "Noise removal: NoiseRemovalAfterBlobs (paper's best), NoNoiseRemoval, NoiseRemovalBeforeBlobs", DefaultValueFactory = _ => PseudoLabelVariant.NoiseRemovalAfterBlobs };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var command = new Command("pseudolabel", "Turn the integrated CNN's residual into normal-object instance labels (PNGs + contact sheet)") { bundle, data, output, category, threshold, variant, device };
        command.SetAction(r => Guarded(() => PseudolabelWorkflow.Run(new PseudolabelRequest(
            r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(output)!, r.GetValue(category) ?? string.Empty, r.GetValue(threshold), r.GetValue(variant), r.GetValue(device)!))));
        return command;
    }

    private static Command EvalMasksCommand(TimeProvider time)
    {
        var bundle = new Option<string>("--bundle") { Description = "Integrated-CNN bundle (its backbone and decoder are shared by every row)", Required = true };
        var data = new Option<string>("--data") { Description = "Training clips with normal-object frames and their masks (e.g. SUITE/train)", Required = true };
        var evalData = new Option<string?>("--eval-data") { Description = "Clips to score the heads on (default: DATA/../val)" };
        var output = new Option<string>("--out") { Description = "Report folder (table3.csv, table3.json)", DefaultValueFactory = _ => "mask-report" };
        var epochs = new Option<int>("--epochs") { Description = "Segmentation-head epochs per label source", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Frames per optimisation step", DefaultValueFactory = _ => 8 };
        var learningRate = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed of every head's initialisation and shuffling", DefaultValueFactory = _ => 0 };
        var threshold = new Option<double?>("--threshold") { Description = "Pseudo-label threshold of the scaled residual (default: the bundle's, fitted in training)" };
        var freeze = new Option<bool>("--freeze-backbone") { Description = "Train only the heads, on the frozen backbone (faster; the paper trains the backbone with them)" };
        var seeds = new Option<int>("--seeds") { Description = "Repeat the comparison with seeds --seed, --seed + 1, ... and report each row's mean AP (and every seed's AP@.50)", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var command = new Command("eval-masks", "Table 3: segmentation mask AP of heads trained on ground truth vs each pseudo-label variant, and labelling speed")
        {
            bundle, data, evalData, output, epochs, batch, learningRate, seed, seeds, threshold, freeze, device,
        };
        command.SetAction(r => Guarded(() => EvalMasksWorkflow.Run(
            new EvalMasksRequest(
                r.GetValue(bundle)!, r.GetValue(data)!, r.GetValue(evalData), r.GetValue(output)!, Positive(r.GetValue(epochs), "--epochs"), Positive(r.GetValue(batch), "--batch"),
                r.GetValue(learningRate), r.GetValue(seed), r.GetValue(threshold), r.GetValue(freeze), r.GetValue(device)!, Positive(r.GetValue(seeds), "--seeds")),
            time)));
        return command;
    }



    private static Command LabelsCommand()
    {
        var data = new Option<string>("--data") { Description = "Folder of NORMAL training clips (interchange format)", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write (CLIP.labels.csv and CLIP.png per clip)", Required = true };
        var partitions = new Option<int>("--partitions") { Description = "Partitions C of the machine cycle", DefaultValueFactory = _ => 4 };
        var transition = new Option<int>("--transition") { Description = "Ramp width of the smoothed labels, frames", DefaultValueFactory = _ => 2 };
        var size = new Option<int>("--size") { Description = "Frames are resized to this square size before d(t) is measured", DefaultValueFactory = _ => 64 };
        var command = new Command("labels", "Compute the temporal detector's weak partition labels (d(t), period, DTW) and write a CSV and plot per clip") { data, output, partitions, transition, size };
        command.SetAction(r => Guarded(() => LabelsWorkflow.Run(new LabelsRequest(
            r.GetValue(data)!, r.GetValue(output)!, Positive(r.GetValue(partitions), "--partitions"), r.GetValue(transition), Positive(r.GetValue(size), "--size")))));
        return command;
    }

    private static Command BenchIntegratedCommand()
    {
        var backbone = new Option<string>("--backbone") { Description = "resnet18, resnet34 or resnet50", DefaultValueFactory = _ => "resnet50" };
        var size = new Option<int>("--size") { Description = "Input side in pixels (multiple of 32)", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch") { Description = "Frames per forward pass", DefaultValueFactory = _ => 128 };
        var iterations = new Option<int>("--iterations") { Description = "Timed forward passes per configuration", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forward passes first", DefaultValueFactory = _ => 5 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var precision = new Option<string>("--precision") { Description = "fp32, bf16, fp16 or all (model and input cast)", DefaultValueFactory = _ => "all" };
        var channelsLast = new Option<bool>("--channels-last") { Description = "Also time channels-last (NHWC) layouts" };
        var cudnnBenchmark = new Option<bool>("--cudnn-benchmark") { Description = "cudnn.benchmark on CUDA (autotuned convolutions)", DefaultValueFactory = _ => true };
        var json = new Option<bool>("--json") { Description = "Also print one JSON line per configuration" };
        var command = new Command("integrated", "Inference frames/s of the integrated CNN (backbone, pyramid, both heads)")
        {
            backbone, size, batch, iterations, warmup, device, precision, channelsLast, cudnnBenchmark, json,
        };
        command.SetAction(r => Guarded(() => BenchWorkflow.RunIntegrated(
            new BenchRequest(
                r.GetValue(backbone)!, r.GetValue(size), Positive(r.GetValue(batch), "--batch"), Positive(r.GetValue(iterations), "--iterations"), r.GetValue(warmup),
                r.GetValue(device)!, r.GetValue(precision)!, r.GetValue(channelsLast), r.GetValue(cudnnBenchmark), r.GetValue(json)),
            Console.Out)));
        return command;
    }

    private static Command BenchPatchCoreCommand()
    {
        var frames = new Option<int[]>("--frames") { Description = "Training-set sizes to fit a bank on (repeatable)", DefaultValueFactory = _ => [1000], AllowMultipleArgumentsPerToken = true };
        var size = new Option<int>("--size") { Description = "PatchCore input side in pixels (multiple of 32)", DefaultValueFactory = _ => 224 };
        var test = new Option<int>("--test-frames") { Description = "Frames scored per timing", DefaultValueFactory = _ => 200 };
        var device = DeviceOption();
        var command = new Command("patchcore", "PatchCore fit time, bank size, scoring frames/s and memory per training-set size, against the autoencoder's frames/s") { frames, size, test, device };
        command.SetAction(r => Guarded(() => PatchCoreBenchWorkflow.Run(new PatchCoreBenchRequest(r.GetValue(frames) ?? [1000], r.GetValue(size), r.GetValue(test), r.GetValue(device)!), Console.Out)));
        return command;
    }

    private static Command BenchTemporalCommand()
    {
        var cameras = new Option<int>("--cameras") { Description = "Cameras of each worker batch (one frame each)", DefaultValueFactory = _ => 16 };
        var rounds = new Option<int>("--rounds") { Description = "Timed batches per way of scoring", DefaultValueFactory = _ => 10 };
        var settings = new Option<string[]>("--set") { Description = "Temporal option as name=value (e.g. size=64, window=8; repeatable)", AllowMultipleArgumentsPerToken = false };
        var device = DeviceOption();
        var command = new Command("temporal", "Temporal scoring frames/s in a worker: each camera's window alone against every window of a batch in one pass") { cameras, rounds, settings, device };
        command.SetAction(r => Guarded(() => TemporalBenchWorkflow.Run(
            new TemporalBenchRequest(Positive(r.GetValue(cameras), "--cameras"), Positive(r.GetValue(rounds), "--rounds"), r.GetValue(settings) ?? [], r.GetValue(device)!),
            Console.Out)));
        return command;
    }

    private static Command BenchPipelineCommand()
    {
        var cameras = new Option<int>("--cameras") { Description = "Cameras of the throughput and latency phases", DefaultValueFactory = _ => 16 };
        var seconds = new Option<double>("--seconds") { Description = "Measured seconds per phase (plus a third of it as warm-up)", DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--size") { Description = "Frame side in pixels", DefaultValueFactory = _ => 128 };
        var command = new Command("pipeline", "Pipeline frames/s, latency and CPU per frame against raw Kafka and the bare detector") { cameras, seconds, size };
        command.SetAction((r, ct) => GuardedAsync(
            token => PipelineBenchWorkflow.RunAsync(new PipelineBenchRequest(Positive(r.GetValue(cameras), "--cameras"), PositiveSeconds(r.GetValue(seconds), "--seconds"), r.GetValue(size)), Console.Out, token),
            ct));
        return command;
    }

    private static int Within(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new ArgumentException($"{name} must be in {min} .. {max}, got {value}");

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentException($"{name} must be positive, got {value}");

    private static double Percent(double value, string name) =>
        value is >= 0 and <= 100 ? value : throw new ArgumentException($"{name} must be in 0 .. 100, got {value}");
}

using StreamAnomaly.Cli;

// A failure on another thread (an actor, a timer) ends the process like one in the command, with
// one line and a log file instead of the runtime's stack trace.
AppDomain.CurrentDomain.UnhandledException += static (_, e) =>
    Environment.Exit(FailureReport.Write((Exception)e.ExceptionObject, TimeProvider.System, Console.Error));

return await CliApp.RunAsync(args);

using StreamAnomaly.Cli;

return await CliApp.RunAsync(args);

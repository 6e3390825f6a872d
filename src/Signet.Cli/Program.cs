using Signet.Cli;

return await SignetCli.RunAsync(args, CliConsole.System);

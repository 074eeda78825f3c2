using System.CommandLine;
using CryoFlow.Cli.Commands;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Errors;
using CryoFlow.Pipeline.Reconstruction;

namespace CryoFlow.Cli;

/// <summary>The composition root: binds the command line to the commands and maps failures to exit codes.</summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var io = new ConsoleIo(stdout ?? Console.Out, stderr ?? Console.Error, args);
        var root = new RootCommand("CryoFlow: ab-initio cryo-EM reconstruction (Brubaker, Punjani & Fleet), streamed through bounded memory.");
        foreach (var command in CommandCatalog.All(io)) root.Subcommands.Add(command);
        var parsed = root.Parse(args);
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Error, EnableDefaultExceptionHandler = false });
        }
        catch (CryoFlowDataException e)
        {
            io.Error.WriteLine("cryoflow: " + e.Message);
            return ExitCodes.BadInput;
        }
        catch (CheckpointWriteException e)
        {
            io.Error.WriteLine("cryoflow: " + e.Message + " Free some space and run the same command again to resume.");
            return ExitCodes.CannotWrite;
        }
        catch (ReconstructionDivergedException e)
        {
            io.Error.WriteLine("cryoflow: the run diverged: " + e.Message);
            return ExitCodes.Diverged;
        }
        catch (IOException e)
        {
            io.Error.WriteLine("cryoflow: I/O error: " + e.Message);
            return ExitCodes.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            io.Error.WriteLine("cryoflow: access denied: " + e.Message);
            return ExitCodes.BadInput;
        }
    }
}

/// <summary>Where a command writes (the process console, or a capture in tests), and the arguments it was given.</summary>
public sealed record ConsoleIo(TextWriter Out, TextWriter Error, IReadOnlyList<string> Arguments)
{
    /// <summary>The command line as a person would type it, for logs.</summary>
    public string CommandLine => "cryoflow " + string.Join(' ', Arguments.Select(a => a.Contains(' ') ? $"\"{a}\"" : a));
}

/// <summary>The process exit statuses, documented in README.md.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Wrong command line (System.CommandLine also uses 1 for parse errors).</summary>
    public const int Usage = 1;
    /// <summary>Bad input data: a missing, truncated or malformed file; the message names file and field.</summary>
    public const int BadInput = 2;
    /// <summary>The run diverged: its objective kept becoming NaN or exploding after every rollback allowed; nothing was written.</summary>
    public const int Diverged = 3;
    /// <summary>A checkpoint could not be written (a full disk): the run stopped, the previous checkpoint is intact (sysexits EX_IOERR).</summary>
    public const int CannotWrite = 74;
    /// <summary>Interrupted (Ctrl-C / SIGINT): the current minibatch finished, a checkpoint and every output were written.</summary>
    public const int Interrupted = 130;
    /// <summary>Terminated (SIGTERM): as <see cref="Interrupted"/>.</summary>
    public const int Terminated = 143;
}

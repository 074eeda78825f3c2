namespace CryoFlow.Cli;

/// <summary>The composition root: binds the command line to the commands.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("cryoflow: no command given");
        return args.Length == 0 ? 1 : 1;
    }
}

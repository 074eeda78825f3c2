using System.Diagnostics;
using System.Text;

namespace CryoFlow.Cli.Tests;

/// <summary>
/// `cryoflow` as a real child process (`dotnet cryoflow.dll`, the build next to the tests), for what an in-process run
/// cannot show: being killed, and signals.
/// </summary>
internal sealed class ChildCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildCli(Process process) => _process = process;

    /// <summary>Starts `cryoflow ARGS` in <paramref name="workingDirectory"/>, capturing stdout and stderr.</summary>
    public static ChildCli Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cryoflow.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        var child = new ChildCli(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start"));
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What it wrote so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void Kill()
    {
        try { _process.Kill(); }
        catch (InvalidOperationException) { } // it exited on its own meanwhile
        _process.WaitForExit();
    }

    /// <summary>Sends a signal by name (TERM, INT) with kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the exit and returns the status.</summary>
    public int Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill();
            throw new TimeoutException($"cryoflow did not exit within {timeout}: {Output}");
        }
        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}

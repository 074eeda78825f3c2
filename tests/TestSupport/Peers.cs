using System.Diagnostics;
using Xunit;

namespace CryoFlow.TestSupport;

/// <summary>
/// Peer programs (RELION, python3-mrcfile) used as independent referees in tests. A test that needs
/// one calls <see cref="Require"/>: where the peer is missing the test is skipped, except under
/// CI=true, where a missing peer is a failure (CI installs the peers).
/// </summary>
public static class Peers
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Full path of an executable on PATH, or null.</summary>
    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>The Debian python3 that has python3-mrcfile, or null.</summary>
    public static string? PythonWithMrcfile()
    {
        foreach (string py in new[] { "/usr/bin/python3", Which("python3") ?? "" })
        {
            if (py.Length == 0 || !File.Exists(py)) continue;
            var r = Run(py, ["-c", "import mrcfile"], timeoutMs: 60_000);
            if (r.ExitCode == 0) return py;
        }
        return null;
    }

    /// <summary>Skip (or fail under CI) when <paramref name="path"/> is null.</summary>
    /// <param name="path">the peer's executable, or null when it was not found</param>
    /// <param name="peer">its name, for the message</param>
    /// <param name="packages">the Debian packages that provide it, for the message</param>
    public static string Require(string? path, string peer, string packages = "relion python3-mrcfile")
    {
        if (path is not null) return path;
        string msg = $"peer '{peer}' is not installed (apt-get install {packages})";
        if (IsCi) Assert.Fail(msg + "; under CI=true a missing peer is a failure");
        Assert.Skip(msg);
        return ""; // unreachable
    }

    public static string RequireRelion(string program = "relion_reconstruct") => Require(Which(program), program);

    public static string RequireMrcfile() => Require(PythonWithMrcfile(), "python3-mrcfile");

    /// <summary>Debian's chromium (/usr/bin/chromium, else on PATH), for tests that open pages in a headless browser.</summary>
    public static string RequireChromium() =>
        Require(File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : Which("chromium"), "chromium", "chromium");

    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
    }

    /// <summary>Runs a program to completion with a time limit; the limit kills it and fails the test.</summary>
    public static Result Run(string exe, IEnumerable<string> args, string? workDir = null, int timeoutMs = 600_000)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (workDir is not null) psi.WorkingDirectory = workDir;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + exe);
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{exe} did not finish within {timeoutMs} ms");
        }
        return new Result(p.ExitCode, so.Result, se.Result);
    }
}

using CryoFlow.TestSupport;

namespace CryoFlow.Interop.Tests;

public class RelionPeerTests
{
    [Fact]
    public void RelionProgramsAnswer()
    {
        string exe = Peers.RequireRelion("relion_project");
        var r = Peers.Run(exe, ["--version"], timeoutMs: 60_000);
        Assert.Contains("RELION", r.StdOut + r.StdErr, StringComparison.OrdinalIgnoreCase);
    }
}

using System.Diagnostics;

namespace KvAspire.Tests.Support;

/// <summary>How the tests start a built program: <c>dotnet program.dll …</c>, inside a network namespace when given.</summary>
public static class DotnetCommand
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments, string? networkNamespace = null)
    {
        // `ip netns exec` joins the namespace and then execs dotnet: the process is the program itself.
        var start = new ProcessStartInfo(networkNamespace is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in networkNamespace is null ? arguments : ["netns", "exec", networkNamespace, "dotnet", .. arguments])
            start.ArgumentList.Add(argument);
        return start;
    }
}

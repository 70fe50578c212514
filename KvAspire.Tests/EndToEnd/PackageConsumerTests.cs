using System.IO.Compression;
using System.Xml.Linq;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The libraries as a user gets them: <c>dotnet pack</c> of the solution, then an app outside the solution that
/// references them as packages from a local feed, built and run against a real node.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class PackageConsumerTests
{
    private static readonly string[] Packages = ["KvAspire.Contracts", "KvAspire.Driver", "KvAspire.Driver.Aspire", "KvAspire.Hosting"];

    [Fact]
    public async Task Packed_libraries_carry_their_metadata_and_an_app_referencing_them_from_a_feed_talks_to_a_node()
    {
        await using var node = await SingleNode.StartAsync();
        using var work = new TempDirectory();
        var feed = work.File("feed");
        // A version of its own, so that no copy of an earlier run in a packages folder stands in for these.
        var version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var configuration = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Paths.NodeDll)))!;

        var packed = await ClientProcess.RunSdkAsync(["pack", Paths.RepositoryFile("KvAspire.sln"), "--no-build", "-c", configuration, "-o", feed,
            $"-p:PackageVersion={version}"], work.Path, TimeSpan.FromMinutes(3));
        Assert.True(packed.ExitCode == 0, packed.Output + packed.Errors);
        Assert.Equal(Packages.SelectMany(p => new[] { $"{p}.{version}.nupkg", $"{p}.{version}.snupkg" }).Order(),
            Directory.GetFiles(feed).Select(Path.GetFileName).Order());
        foreach (var package in Packages)
            AssertComplete(Path.Combine(feed, $"{package}.{version}.nupkg"), package);

        var app = Directory.CreateDirectory(work.File("app")).FullName;
        WriteConsumer(app, feed, version, work.File("packages"));
        var run = await ClientProcess.RunSdkAsync(["run", "--", node.Topology.GrpcEndPoint], app, TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, run.Output + run.Errors);
        Assert.Equal("hello from a package, version 1, hosted by KvAspireClusterResource", run.Output.Trim());
    }

    /// <summary>An id, version, description, readme, licence, repository, XML documentation in the package.</summary>
    private static void AssertComplete(string nupkg, string id)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var nuspec = XDocument.Load(zip.GetEntry($"{id}.nuspec")!.Open()).Root!;
        var metadata = nuspec.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal(id, Field("id"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")) || Field("description") == "Package Description", $"{id}: no description");
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.NotNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository")?.Attribute("commit"));
        Assert.NotNull(zip.GetEntry("README.md"));
        Assert.NotNull(zip.GetEntry($"lib/net10.0/{id}.xml"));
    }

    private static void WriteConsumer(string app, string feed, string version, string packages)
    {
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{packages}" /></config>
              <packageSources><add key="local" value="{feed}" /></packageSources>
              <fallbackPackageFolders><add key="machine" value="{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}" /></fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="KvAspire.Driver.Aspire" Version="{version}" />
                <PackageReference Include="KvAspire.Hosting" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using KvAspire.Driver;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;

            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration["ConnectionStrings:kv"] = "Endpoints=" + args[0];
            builder.AddKvAspireClient("kv");
            using var host = builder.Build();
            var kv = host.Services.GetRequiredService<IKvClient>();
            await kv.CreateAsync("from-a-package", "hello from a package"u8.ToArray());
            var entry = await kv.ReadAsync("from-a-package");
            Console.WriteLine($"{entry.Text}, version {entry.Version}, hosted by {nameof(Aspire.Hosting.ApplicationModel.KvAspireClusterResource)}");
            """);
    }
}

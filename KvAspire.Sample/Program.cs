using KvAspire.Driver;
using KvAspire.Sample;
using Medallion.Threading;

// The sample service: GET /counters/{name} reads a counter (through the distributed cache), POST
// /counters/{name} adds the configured step to it, POST /counters/{name}/reset archives it and starts it
// again under a distributed lock. The step is the key config/sample/Counters/Step: change it, and the next
// increment uses the new step, with no restart.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Configuration.AddKvAspire("config/sample/", optional: true);
builder.AddKvAspireClient("kv");
builder.AddKvAspireDistributedCache("kv");
builder.AddKvAspireDistributedLocks("kv");
builder.Services.Configure<CounterSettings>(builder.Configuration.GetSection("Counters"));
builder.Services.AddSingleton<Counters>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/counters/{name}", async (string name, Counters counters, CancellationToken cancel) =>
    await counters.GetAsync(name, cancel) is { } count ? Results.Ok(count) : Results.NotFound());
app.MapPost("/counters/{name}", (string name, Counters counters, CancellationToken cancel) =>
    Answer(() => counters.IncrementAsync(name, cancel)));
app.MapPost("/counters/{name}/reset", (string name, Counters counters, IDistributedLockProvider locks, CancellationToken cancel) =>
    Answer(() => counters.ResetAsync(name, locks, cancel)));
app.Run();

static async Task<IResult> Answer<T>(Func<Task<T>> call)
{
    try
    {
        return Results.Ok(await call());
    }
    catch (KvUnavailableException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

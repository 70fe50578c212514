using KvAspire.Driver;
using KvAspire.Sample;

// The sample service: GET /counters/{name} reads a counter, POST /counters/{name} adds one to it.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddKvAspireClient("kv");
builder.Services.AddSingleton<Counters>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/counters/{name}", async (string name, Counters counters, CancellationToken cancel) =>
    await counters.GetAsync(name, cancel) is { } count ? Results.Ok(count) : Results.NotFound());
app.MapPost("/counters/{name}", async (string name, Counters counters, CancellationToken cancel) =>
{
    try
    {
        return Results.Ok(await counters.IncrementAsync(name, cancel));
    }
    catch (KvUnavailableException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});
app.Run();

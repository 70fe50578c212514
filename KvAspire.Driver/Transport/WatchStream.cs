using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Driver.Transport;

/// <summary>
/// A watch that outlives the node serving it: it keeps, per position, the revision it has every event up
/// to (from events and progress notices), and when its node fails it watches again at the next node from
/// those revisions, dropping anything at or below them: no gap, no duplicate. It goes on trying while no
/// node serves it for up to <see cref="KvClientOptions.WatchRetryWindow"/>.
/// </summary>
internal static class WatchStream
{
    /// <summary>The watch's batches, each position's first one (where it starts) once, later notices only when they move on.</summary>
    /// <exception cref="KvWatchCompactedException">A position no longer keeps the events after the revision the watch needs.</exception>
    /// <exception cref="KvUnavailableException">No node served the watch for the retry window.</exception>
    /// <exception cref="KvException">The watch was refused (INVALID_ARGUMENT: the message says why).</exception>
    public static async IAsyncEnumerable<WatchBatch> WatchAsync(KvConnection connection, WatchQuery query, IReadOnlyDictionary<int, long>? after,
        KvWatchProgress? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reached = new Dictionary<int, long>(after ?? new Dictionary<int, long>());
        var announced = new HashSet<int>();
        var requester = new ProgressRequester();
        progress?.Attach(requester.RequestAsync);
        var policy = connection.Policy;
        var pause = policy.FirstRetryPause;
        long? failingSince = null;
        for (var attempt = 0; ; attempt++)
        {
            var (channel, node) = connection.NodeFor(attempt);
            using var stream = KvClientTelemetry.StartWatchStream(node, query.Prefix);
            using var call = new KeyValue.KeyValueClient(channel).Watch(cancellationToken: cancellationToken);
            RpcException? failure = null;
            try
            {
                await call.RequestStream.WriteAsync(new WatchRequest { Create = WatchMessages.ToCreate(query, reached, progressNotify: true) }, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransportFailure.OfStreamWrite(e) is { } broken)
            {
                failure = broken;
            }
            if (failure is null)
                await requester.OpenedAsync(call.RequestStream);
            while (failure is null)
            {
                try
                {
                    if (!await call.ResponseStream.MoveNext(cancellationToken))
                        failure = new RpcException(new Status(StatusCode.Unavailable, $"{node} ended the watch"));
                }
                catch (RpcException e)
                {
                    failure = e;
                }
                if (failure is not null)
                    break;
                failingSince = null;
                pause = policy.FirstRetryPause;
                var batch = WatchMessages.ToBatch(call.ResponseStream.Current);
                var had = reached.GetValueOrDefault(batch.Position, -1);
                if (batch.AnsweredRequest is { } request)
                    requester.Answered(batch.Position, request, announced);
                else if (batch.Revision <= had && announced.Contains(batch.Position))
                    continue;
                announced.Add(batch.Position);
                reached[batch.Position] = Math.Max(had, batch.Revision);
                var fresh = batch with { Events = [.. batch.Events.Where(change => change.Revision > had)] };
                KvClientTelemetry.RecordWatchEvents(fresh.Events.Count);
                yield return fresh;
            }

            requester.Closed();
            var status = TransportFailure.AsUnavailable(failure);
            var detail = string.IsNullOrEmpty(status.Status.Detail) ? status.StatusCode.ToString() : status.Status.Detail;
            KvClientTelemetry.FinishWatchStream(stream, cancellationToken.IsCancellationRequested ? StatusCode.Cancelled : status.StatusCode, detail);
            cancellationToken.ThrowIfCancellationRequested();
            if (status.StatusCode == StatusCode.OutOfRange && WatchMessages.Compacted(status.Trailers) is { } compacted)
                throw new KvWatchCompactedException(compacted.Position, compacted.Floor, detail, node);
            // CANCELLED that this watch did not ask for (its token is not cancelled) is the stream cut on the
            // way (a reset of the HTTP/2 stream by a node stopping or starting): the watch goes on elsewhere.
            if (status.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Cancelled))
                throw new KvException(status.StatusCode, detail, node);
            failingSince ??= Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(failingSince.Value) >= policy.WatchRetryWindow)
                throw new KvUnavailableException(status.StatusCode, null, $"no node served the watch for {policy.WatchRetryWindow.TotalSeconds:0.#} s: {detail}", node);
            if (attempt % connection.Addresses.Count == connection.Addresses.Count - 1)
            {
                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, policy.MaxRetryPause.Ticks));
            }
        }
    }

    /// <summary>
    /// The app's progress requests, numbered, sent on the watch's current stream; the latest, when not every
    /// position has answered it as the stream fails, is sent again on the next.
    /// </summary>
    private sealed class ProgressRequester
    {
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _writing = new(1, 1);
        private readonly HashSet<int> _answered = [];
        private IClientStreamWriter<WatchRequest>? _stream;
        private long _latest;
        private bool _outstanding;

        public async Task<long> RequestAsync()
        {
            IClientStreamWriter<WatchRequest>? stream;
            long request;
            lock (_gate)
            {
                request = ++_latest;
                _outstanding = true;
                _answered.Clear();
                stream = _stream;
            }
            if (stream is not null)
                await SendAsync(stream, request);
            return request;
        }

        public Task OpenedAsync(IClientStreamWriter<WatchRequest> stream)
        {
            bool again;
            long request;
            lock (_gate)
            {
                _stream = stream;
                again = _outstanding;
                request = _latest;
            }
            return again ? SendAsync(stream, request) : Task.CompletedTask;
        }

        public void Closed()
        {
            lock (_gate)
                _stream = null;
        }

        /// <summary>A position answered a request; the latest is settled once every position the watch has announced has.</summary>
        public void Answered(int position, long request, HashSet<int> positions)
        {
            lock (_gate)
            {
                if (request != _latest)
                    return;
                _answered.Add(position);
                if (positions.IsSubsetOf(_answered))
                    _outstanding = false;
            }
        }

        private async Task SendAsync(IClientStreamWriter<WatchRequest> stream, long request)
        {
            await _writing.WaitAsync();
            try
            {
                await stream.WriteAsync(new WatchRequest { Progress = new WatchProgressRequest { Id = request } });
            }
            catch (Exception e) when (TransportFailure.OfStreamWrite(e) is not null)
            {
                // The stream is failing (its node closed the connection mid-write: an HttpProtocolException, an
                // IOException): the request goes again on the next one.
            }
            finally
            {
                _writing.Release();
            }
        }
    }
}

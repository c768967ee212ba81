using System.Globalization;
using Confluent.Kafka;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Host.Dashboard;

/// <summary>
/// Follows the frames topic for the dashboard: its own consumer group (<c>dashboard-RANDOM</c>,
/// so every node's dashboard sees every camera), starting at the newest frames, never committing.
/// Each valid frame is offered to <see cref="DashboardState.OfferFrame"/> (which throttles); a
/// frame whose image header declares more than <see cref="KafkaOptions.MaxImage"/> is skipped, so
/// an operator's browser is never sent an image bomb. Runs
/// on its own long-running thread; dispose to stop.
/// </summary>
public sealed class DashboardFrameFeed : IAsyncDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Action<string> _log;
    private readonly ImageLimits _maxImage;

    public DashboardFrameFeed(KafkaOptions options, string bootstrapServers, DashboardState state, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        _log = log;
        _maxImage = options.MaxImage;
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = "dashboard",
            GroupId = $"dashboard-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Latest,
            FetchWaitMaxMs = 100,
            MaxPartitionFetchBytes = Math.Max(options.MaxRecordBytes, 1024 * 1024),
            QueuedMaxMessagesKbytes = Math.Max(16 * 1024, 4 * options.MaxRecordBytes / 1024),
        };
        options.Security.ApplyTo(config);
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) => _log($"dashboard frame feed: {e.Reason}"))
            .SetLogHandler((_, _) => { })
            .Build();
        _consumer.Subscribe(options.FramesTopic);
        _loop = Task.Factory.StartNew(() => Run(state, _stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Run(DashboardState state, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result?.Message?.Value is { } value && FrameHeaders.TryRead(result.Message.Headers, out var metadata, out _, out _)
                    && ImageHeader.TryRead(value, out var image, out _) && _maxImage.Check(image.Width, image.Height) is null)
                {
                    state.OfferFrame(metadata, value);
                }
            }
            catch (ConsumeException e)
            {
                _log(string.Create(CultureInfo.InvariantCulture, $"dashboard frame feed: {e.Error.Reason}"));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        try
        {
            _consumer.Close();
        }
        catch (KafkaException)
        {
        }

        _consumer.Dispose();
        _stop.Dispose();
    }
}

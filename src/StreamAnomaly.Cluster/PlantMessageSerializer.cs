using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The serializer of every message that crosses nodes: a closed set of types, each with an explicit
/// two-letter manifest and a hand-written little-endian binary layout (no reflection, no type names
/// on the wire). A manifest outside the set, a truncated or over-long payload, a string or array
/// longer than its limit, or an unknown enum value is refused with a
/// <see cref="SerializationException"/> before anything large is allocated.
/// Bound in config/akka.conf (<c>akka.actor.serialization-bindings</c>).
/// </summary>
public sealed class PlantMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>This serializer's id on the wire (Akka.NET reserves 0..100 for its own).</summary>
    public const int Id = 4242;

    /// <summary>Longest string accepted (ids, names, errors), in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 4096;

    /// <summary>Most frame keys in one <see cref="FramesAccepted"/>.</summary>
    public const int MaxFrames = 65_536;

    /// <summary>Most cells in one grid (64 x 64, the largest <c>Worker:GridSize</c>).</summary>
    public const int MaxCells = 64 * 64;

    /// <summary>Most cameras named in one alarm.</summary>
    public const int MaxCameras = 4096;

    /// <summary>Most sequence numbers a snapshot keeps per camera (its deduplication window), and most frames in its debouncing window.</summary>
    public const int MaxWindow = 1 << 20;

    /// <summary>Most unpublished alarm events a snapshot keeps per sink.</summary>
    public const int MaxUnsent = 65_536;

    private const string EnsureCameraManifest = "EC";
    private const string InjectAnomalyManifest = "IA";
    private const string AnomalyInjectionManifest = "AI";
    private const string FramesAcceptedManifest = "FA";
    private const string GetLineStatusManifest = "GL";
    private const string LineStatusManifest = "LS";
    private const string PartialResultManifest = "PR";
    private const string LineDecisionManifest = "LD";
    private const string AlarmSentManifest = "AS";
    private const string LineSnapshotManifest = "SN";

    /// <summary>Every message type this serializer handles, with its manifest.</summary>
    public static IReadOnlyDictionary<Type, string> Manifests { get; } = new Dictionary<Type, string>
    {
        [typeof(EnsureCamera)] = EnsureCameraManifest,
        [typeof(InjectAnomaly)] = InjectAnomalyManifest,
        [typeof(AnomalyInjection)] = AnomalyInjectionManifest,
        [typeof(FramesAccepted)] = FramesAcceptedManifest,
        [typeof(GetLineStatus)] = GetLineStatusManifest,
        [typeof(LineStatus)] = LineStatusManifest,
        [typeof(PartialResult)] = PartialResultManifest,
        [typeof(LineDecision)] = LineDecisionManifest,
        [typeof(AlarmSent)] = AlarmSentManifest,
        [typeof(LineJournalSnapshot)] = LineSnapshotManifest,
    };

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <inheritdoc />
    public override string Manifest(object o) =>
        o is not null && Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{nameof(PlantMessageSerializer)} does not handle {o?.GetType().FullName ?? "null"}");

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        var w = new Writer();
        switch (obj)
        {
            case EnsureCamera m:
                w.String(m.Camera);
                break;
            case InjectAnomaly m:
                w.String(m.Camera);
                w.String(m.Kind);
                break;
            case AnomalyInjection m:
                w.String(m.Camera);
                w.String(m.Kind);
                w.Time(m.At);
                w.OptionalString(m.Error);
                break;
            case FramesAccepted m:
                w.Int32(m.Frames.Length);
                foreach (var frame in m.Frames)
                {
                    w.FrameKey(frame);
                }

                break;
            case GetLineStatus m:
                w.String(m.Line);
                break;
            case LineStatus m:
                w.String(m.Line);
                w.Bool(m.ActiveAlarm is not null);
                if (m.ActiveAlarm is { } alarm)
                {
                    w.Alarm(alarm);
                }

                w.Int32(m.PendingFrames);
                break;
            case PartialResult m:
                w.FrameKey(m.Frame);
                w.String(m.Line);
                w.Time(m.CaptureTime);
                w.String(m.Detector);
                w.Int32(m.Detectors);
                w.Double(m.RawScore);
                w.Double(m.Calibration.Threshold);
                w.Double(m.Calibration.Min);
                w.Double(m.Calibration.Max);
                w.Double(m.Calibration.Percentile);
                w.Int32(m.Residual.Width);
                w.Int32(m.Residual.Height);
                w.Single(m.Residual.Scale);
                w.Bytes(m.Residual.Cells);
                w.Bool(m.Ignored is not null);
                if (m.Ignored is { } ignored)
                {
                    w.Int32(ignored.Width);
                    w.Int32(ignored.Height);
                    w.Bytes(ignored.Coverage);
                }

                w.Bool(m.Phase is not null);
                if (m.Phase is { } phase)
                {
                    w.Double(phase);
                }

                w.Int32((int)m.Reduction);
                w.OptionalString(m.Model);

                break;
            case LineDecision m:
                w.FrameKey(m.Frame);
                w.Time(m.CaptureTime);
                w.Double(m.Score);
                break;
            case AlarmSent m:
                w.String(m.Sink);
                w.String(m.IdempotencyKey);
                break;
            case LineJournalSnapshot m:
                w.Snapshot(m);
                break;
            default:
                throw new SerializationException($"{nameof(PlantMessageSerializer)} does not handle {obj?.GetType().FullName ?? "null"}");
        }

        return w.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var r = new Reader(bytes, manifest);
        object message = manifest switch
        {
            EnsureCameraManifest => new EnsureCamera(r.String()),
            InjectAnomalyManifest => new InjectAnomaly(r.String(), r.String()),
            AnomalyInjectionManifest => new AnomalyInjection(r.String(), r.String(), r.Time(), r.OptionalString()),
            FramesAcceptedManifest => new FramesAccepted(r.Array(MaxFrames, "frames", static r => r.FrameKey())),
            GetLineStatusManifest => new GetLineStatus(r.String()),
            LineStatusManifest => new LineStatus(r.String(), r.Bool() ? r.Alarm() : null, r.Int32()),
            PartialResultManifest => new PartialResult(
                r.FrameKey(), r.String(), r.Time(), r.String(), r.Int32(), r.Double(),
                new ScoreCalibration(r.Double(), r.Double(), r.Double(), r.Double()),
                r.Residual(),
                r.Bool() ? r.Mask() : null,
                r.Bool() ? r.Phase() : null,
                r.Reduction(),
                r.OptionalString()),
            LineDecisionManifest => new LineDecision(r.FrameKey(), r.Time(), r.Double()),
            AlarmSentManifest => new AlarmSent(r.String(), r.String()),
            LineSnapshotManifest => r.Snapshot(),
            _ => throw new SerializationException($"{nameof(PlantMessageSerializer)}: unknown manifest '{Printable(manifest)}' (known: {string.Join(", ", Manifests.Values)})"),
        };
        r.End();
        return message;
    }

    private static string Printable(string? text) =>
        text is null ? "null" : new string(text.Take(32).Select(static c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>Appends little-endian values; strings and arrays are length-prefixed (Int32).</summary>
    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public byte[] ToArray() => _stream.ToArray();

        public void Int32(int value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, value);
            _stream.Write(b);
        }

        public void Int64(long value)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(b, value);
            _stream.Write(b);
        }

        public void Double(double value) => Int64(BitConverter.DoubleToInt64Bits(value));

        public void Single(float value) => Int32(BitConverter.SingleToInt32Bits(value));

        public void Bool(bool value) => _stream.WriteByte(value ? (byte)1 : (byte)0);

        public void Bytes(byte[] value)
        {
            Int32(value.Length);
            _stream.Write(value);
        }

        public void String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

        public void OptionalString(string? value)
        {
            Bool(value is not null);
            if (value is not null)
            {
                String(value);
            }
        }

        /// <summary>UTC ticks and the offset in minutes.</summary>
        public void Time(DateTimeOffset value)
        {
            Int64(value.UtcTicks);
            Int32((int)value.Offset.TotalMinutes);
        }

        public void FrameKey(FrameKey key)
        {
            String(key.Camera);
            Int64(key.Sequence);
        }

        public void Alarm(AlarmEvent alarm)
        {
            String(alarm.Line);
            String(alarm.AlarmId);
            Int32((int)alarm.Phase);
            Int32(alarm.Revision);
            Time(alarm.At);
            Double(alarm.PeakScore);
            Int32(alarm.Cameras.Length);
            foreach (var camera in alarm.Cameras)
            {
                String(camera);
            }
        }

        public void Snapshot(LineJournalSnapshot snapshot)
        {
            var state = snapshot.State;
            Int32(state.Cameras.Count);
            foreach (var camera in state.Cameras)
            {
                String(camera.Camera);
                Int64(camera.Floor);
                Int32(camera.Window.Count);
                foreach (var sequence in camera.Window)
                {
                    Int64(sequence);
                }

                Int64(camera.Highest);
                Time(camera.HighestCapture);
                Double(camera.Smoothed);
                Int32(camera.Recent.Count);
                foreach (var recent in camera.Recent)
                {
                    Bool(recent.Hot);
                    Time(recent.At);
                }
            }

            Bool(state.Alarm is not null);
            if (state.Alarm is { } active)
            {
                Alarm(active);
            }

            Double(state.AlarmPeak);
            Time(state.LastWarm);
            Int32(snapshot.Unsent.Count);
            foreach (var unsent in snapshot.Unsent)
            {
                String(unsent.Sink);
                Int32(unsent.Alarms.Count);
                foreach (var alarm in unsent.Alarms)
                {
                    Alarm(alarm);
                }
            }
        }
    }

    /// <summary>Reads what <see cref="Writer"/> wrote; every length is checked against its limit and against the bytes left.</summary>
    private sealed class Reader(byte[] bytes, string manifest)
    {
        private int _position;

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public double Double() => BitConverter.Int64BitsToDouble(Int64());

        public float Single() => BitConverter.Int32BitsToSingle(Int32());

        /// <summary>A cycle phase: a double in [0, 1).</summary>
        public double Phase()
        {
            var phase = Double();
            return phase is >= 0 and < 1 ? phase : throw Refused($"cycle phase {phase} outside [0, 1)");
        }

        public ScoreReduction Reduction()
        {
            var reduction = (ScoreReduction)Int32();
            return Enum.IsDefined(reduction) ? reduction : throw Refused($"score reduction {(int)reduction}");
        }

        public bool Bool() => Take(1)[0] switch
        {
            0 => false,
            1 => true,
            var b => throw Refused($"boolean byte {b}"),
        };

        public byte[] Bytes(int max, string what) => Take(Length(max, what, 1)).ToArray();

        public string String()
        {
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(Length(MaxStringBytes, "string", 1)));
            }
            catch (DecoderFallbackException)
            {
                throw Refused("a string that is not UTF-8");
            }
        }

        public string? OptionalString() => Bool() ? String() : null;

        public DateTimeOffset Time()
        {
            var ticks = Int64();
            var minutes = Int32();
            try
            {
                return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(minutes));
            }
            catch (ArgumentException)
            {
                throw Refused($"time {ticks} ticks at offset {minutes} min");
            }
        }

        public FrameKey FrameKey() => new(String(), Int64());

        public ResidualGrid Residual()
        {
            var (width, height) = GridSize("residual");
            var scale = Single();
            var cells = Bytes(MaxCells, "residual cells");
            return cells.Length == width * height && float.IsFinite(scale) && scale >= 0
                ? new ResidualGrid(width, height, scale, cells)
                : throw Refused($"residual grid {width}x{height} with {cells.Length} cells and scale {scale}");
        }

        public MaskGrid Mask()
        {
            var (width, height) = GridSize("mask");
            var cells = Bytes(MaxCells, "mask cells");
            return cells.Length == width * height ? new MaskGrid(width, height, cells) : throw Refused($"mask grid {width}x{height} with {cells.Length} cells");
        }

        private (int Width, int Height) GridSize(string what)
        {
            var width = Int32();
            var height = Int32();
            return width is > 0 and <= 64 && height is > 0 and <= 64 ? (width, height) : throw Refused($"{what} grid {width}x{height} (1..64 cells a side)");
        }

        public AlarmEvent Alarm()
        {
            var line = String();
            var id = String();
            var phase = Int32();
            if (!Enum.IsDefined((AlarmPhase)phase))
            {
                throw Refused($"alarm phase {phase}");
            }

            return new AlarmEvent(line, id, (AlarmPhase)phase, Int32(), Time(), Double(), Array(MaxCameras, "cameras", static r => r.String()));
        }

        public LineJournalSnapshot Snapshot()
        {
            var cameras = Array(MaxCameras, "snapshot cameras", static r => new CameraSnapshot(
                r.String(),
                r.Int64(),
                r.Array(MaxWindow, "deduplication window", static r => r.Int64()),
                r.Int64(),
                r.Time(),
                r.Double(),
                r.Array(MaxWindow, "debouncing window", static r => new RecentFrame(r.Bool(), r.Time()))));
            var state = new LineSnapshot(cameras, Bool() ? Alarm() : null, Double(), Time());
            var unsent = Array(MaxCameras, "alarm sinks", static r => new UnsentAlarms(r.String(), r.Array(MaxUnsent, "unsent alarms", static r => r.Alarm())));
            return new LineJournalSnapshot(state, unsent);
        }

        public T[] Array<T>(int max, string what, Func<Reader, T> item)
        {
            // Each element takes at least 4 bytes on the wire: a count above that is a lie.
            var items = new T[Length(max, what, 4)];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = item(this);
            }

            return items;
        }

        public void End()
        {
            if (_position != bytes.Length)
            {
                throw Refused($"{bytes.Length - _position} bytes after the message");
            }
        }

        private int Length(int max, string what, int minBytesEach)
        {
            var length = Int32();
            if (length < 0 || length > max || (long)length * minBytesEach > bytes.Length - _position)
            {
                throw Refused($"{what} length {length} (at most {max}, and no more than the bytes left)");
            }

            return length;
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > bytes.Length - _position)
            {
                throw Refused("a truncated message");
            }

            var span = bytes.AsSpan(_position, count);
            _position += count;
            return span;
        }

        private SerializationException Refused(string problem) =>
            new($"{nameof(PlantMessageSerializer)}: refused '{Printable(manifest)}' message: {problem}");
    }
}

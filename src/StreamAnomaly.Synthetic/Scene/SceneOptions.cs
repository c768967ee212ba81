namespace StreamAnomaly.Synthetic.Scene;

/// <summary>What can go wrong in one pick-and-place cycle (seed-002 style anomalies).</summary>
public enum AnomalyKind
{
    /// <summary>The part falls from the gripper during the carry and lies on the floor.</summary>
    DroppedPart,

    /// <summary>The part is put down off the tray's drop position and stays there.</summary>
    MisplacedPart,

    /// <summary>The arm freezes mid-cycle (during the carry) until the clip ends.</summary>
    StalledArm,

    /// <summary>The gripper closes above the part, on nothing; the part rides on to the belt's end.</summary>
    MissedPick,

    /// <summary>A foreign object rides in on the belt.</summary>
    ForeignObjectOnBelt,

    /// <summary>A foreign object appears on the floor beside the belt.</summary>
    ForeignObjectBesideBelt,

    /// <summary>The cycle runs at 0.6 x its duration.</summary>
    CycleTooFast,

    /// <summary>The cycle runs at 1.6 x its duration.</summary>
    CycleTooSlow,
}

/// <summary>One anomaly injected into cycle <paramref name="Cycle"/> (0-based) of a scene.</summary>
public sealed record AnomalySpec(AnomalyKind Kind, int Cycle)
{
    /// <summary>Kebab-case name used in clip names and categories, e.g. "dropped-part".</summary>
    public static string NameOf(AnomalyKind kind) => kind switch
    {
        AnomalyKind.DroppedPart => "dropped-part",
        AnomalyKind.MisplacedPart => "misplaced-part",
        AnomalyKind.StalledArm => "stalled-arm",
        AnomalyKind.MissedPick => "missed-pick",
        AnomalyKind.ForeignObjectOnBelt => "foreign-object-on-belt",
        AnomalyKind.ForeignObjectBesideBelt => "foreign-object-beside-belt",
        AnomalyKind.CycleTooFast => "cycle-too-fast",
        AnomalyKind.CycleTooSlow => "cycle-too-slow",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown anomaly kind"),
    };

    /// <summary>Duration factor of the anomalous cycle (1 unless the kind changes the speed).</summary>
    public double DurationScale => Kind switch
    {
        AnomalyKind.CycleTooFast => 0.6,
        AnomalyKind.CycleTooSlow => 1.6,
        _ => 1.0,
    };
}

/// <summary>
/// Which parts of the robot-cell scene are switched on. Each feature draws from its own seeded
/// stream, so switching one off never changes the others (that is what the mask tests rely on).
/// </summary>
/// <param name="People">People walking behind the cell (mask kind <c>person</c>).</param>
/// <param name="Shadows">Translucent shadows drifting across the back wall.</param>
/// <param name="LampFlicker">The wall lamp panel flickers now and then.</param>
/// <param name="Hands">A worker's hand reaches in from a frame edge at irregular times (mask kind <c>normal-object</c>).</param>
/// <param name="Anomaly">An injected anomaly, or null for a normal scene.</param>
/// <param name="LightingDrift">Slow global additive brightness offset, |offset| &lt;= 8 grey levels.</param>
/// <param name="SensorNoise">Per-pixel Gaussian noise, sigma 3, clipped to +-10, seeded by (seed, t).</param>
/// <param name="FarWalkway">People walk along a far walkway high on the back wall, clear of the arm's workspace and the region of interest (robotcell-v2), instead of right behind the arm.</param>
public sealed record SceneOptions(
    bool People = false,
    bool Shadows = false,
    bool LampFlicker = false,
    bool Hands = false,
    AnomalySpec? Anomaly = null,
    bool LightingDrift = true,
    bool SensorNoise = true,
    bool FarWalkway = false)
{
    /// <summary>The robot, belt and parts only (plus drift and noise).</summary>
    public static SceneOptions Background { get; } = new();

    /// <summary>Background plus a worker's hand.</summary>
    public static SceneOptions WithHands { get; } = new(Hands: true);

    /// <summary>Background plus people behind, shadows and lamp flicker.</summary>
    public static SceneOptions WithPeople { get; } = new(People: true, Shadows: true, LampFlicker: true);
}

using TorchSharp;

namespace StreamAnomaly.Vision;

/// <summary>
/// Constants as long-lived <see cref="Scalar"/>s. TorchSharp 0.107 lets the finalizer free an
/// implicitly converted Scalar (<c>tensor * 2</c>, <c>tensor &gt; 0</c>) while its native call still
/// reads it: after enough calls a training run or a worker dies with "Unknown scalar type". Code that
/// runs per step or per frame passes these, or a <c>using</c>-held <c>value.ToScalar()</c>, instead.
/// </summary>
internal static class HeldScalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
    public static readonly Scalar Half = 0.5.ToScalar();
}

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

    /// <summary>
    /// <paramref name="left"/> + <paramref name="right"/>. Tensor's <c>+</c> (and <c>add(Tensor)</c>)
    /// passes a temporary alpha Scalar of 1 that the finalizer can free while the native add reads it
    /// ("Expected false to be true" from Scalar::toFloat, seen once in a 45-minute training); the
    /// banned-API analyzer refuses <c>+</c> between tensors, so code adds with this held alpha.
    /// </summary>
    public static torch.Tensor Plus(this torch.Tensor left, torch.Tensor right) => left.add(right, One);
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>
/// CutPaste's trained part on the frozen backbone: a projection head (an MLP: linear, batch norm,
/// ReLU, twice) from the backbone's pooled features [N, F] to an embedding [N, E], and a linear
/// classifier from the embedding to the logits of the three <see cref="CutPasteClass"/>es. The
/// embedding is what the Gaussian models.
/// </summary>
internal sealed class CutPasteHead : Module<Tensor, Tensor>
{
    /// <summary>Classes the classifier tells apart: normal, CutPaste, scar.</summary>
    public const int Classes = 3;

    private readonly Sequential projection;
    private readonly Linear classifier;

    public CutPasteHead(long features, int hidden, int embedding) : base(nameof(CutPasteHead))
    {
        projection = Sequential(
            ("0", Linear(features, hidden)),
            ("1", BatchNorm1d(hidden)),
            ("2", ReLU()),
            ("3", Linear(hidden, embedding)),
            ("4", BatchNorm1d(embedding)),
            ("5", ReLU()));
        classifier = Linear(embedding, Classes);
        RegisterComponents();
    }

    /// <summary>The embedding [N, E] of pooled backbone features [N, F].</summary>
    public Tensor Embed(Tensor features) => projection.call(features);

    /// <summary>The class logits [N, 3] of embeddings [N, E].</summary>
    public Tensor Classify(Tensor embedding) => classifier.call(embedding);

    /// <summary>The class logits [N, 3] of pooled backbone features [N, F].</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return classifier.call(projection.call(features)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            projection.Dispose();
            classifier.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Everything CutPaste learns, as one module for the bundle's weights: the <c>head</c> and the <c>density</c> of the normal embeddings.</summary>
internal sealed class CutPasteModel : nn.Module
{
    private readonly CutPasteHead head;
    private readonly GaussianDensity density;

    public CutPasteModel(CutPasteHead head, GaussianDensity density) : base(nameof(CutPasteModel))
    {
        (this.head, this.density) = (head, density);
        RegisterComponents();
    }

    public CutPasteHead Head => head;

    public GaussianDensity Density => density;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            head.Dispose();
            density.Dispose();
        }

        base.Dispose(disposing);
    }
}

namespace StreamAnomaly.Vision.Training;

/// <summary>Reported after every optimisation step of a training stage.</summary>
/// <param name="Stage">Name of the training stage, e.g. "autoencoder".</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs of the stage.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">Mean loss of the epoch so far; NaN for a stage without a loss (building a memory bank).</param>
public sealed record TrainingProgress(string Stage, int Epoch, int Epochs, int Step, int Steps, double Loss)
{
    /// <summary>True on the last step of an epoch (the loss is then the epoch's mean).</summary>
    public bool EpochDone => Step == Steps;
}

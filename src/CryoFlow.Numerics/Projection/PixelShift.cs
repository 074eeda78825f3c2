namespace CryoFlow.Numerics.Projection;

/// <summary>An image shift in pixels; +X moves content towards larger x (column) indices.</summary>
public readonly record struct PixelShift(double X, double Y);

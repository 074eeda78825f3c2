namespace CryoFlow.Numerics.Quadrature;

/// <summary>A unit vector (viewing direction) in the volume's frame: x, y, z as the volume's [z][y][x] axes.</summary>
public readonly record struct UnitVector(double X, double Y, double Z)
{
    public double Dot(UnitVector o) => X * o.X + Y * o.Y + Z * o.Z;
}

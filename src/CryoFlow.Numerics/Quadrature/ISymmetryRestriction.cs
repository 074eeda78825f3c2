namespace CryoFlow.Numerics.Quadrature;

/// <summary>
/// Restricts viewing directions to a point group's asymmetric unit. Directions outside are dropped and the
/// remaining weights are rescaled to sum to 4 pi.
/// </summary>
public interface ISymmetryRestriction
{
    /// <summary>Point-group symbol, e.g. "C1".</summary>
    string Name { get; }

    /// <summary>Number of symmetry operations.</summary>
    int Order { get; }

    /// <summary>True when the unit direction lies in the asymmetric unit.</summary>
    bool ContainsDirection(UnitVector direction);
}

/// <summary>No symmetry: the whole sphere.</summary>
public sealed class C1Symmetry : ISymmetryRestriction
{
    public static C1Symmetry Instance { get; } = new();

    private C1Symmetry()
    {
    }

    public string Name => "C1";

    public int Order => 1;

    public bool ContainsDirection(UnitVector direction) => true;
}

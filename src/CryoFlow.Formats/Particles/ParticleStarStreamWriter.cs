using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Writes a new RELION 3.1 particle STAR file (data_optics + data_particles) one particle at a
/// time, in the layout of <see cref="ParticleTableBuilder"/>, with memory independent of the number
/// of particles. The file appears only on <see cref="Complete"/>.
/// </summary>
public sealed class ParticleStarStreamWriter : IDisposable
{
    private readonly StarStreamWriter _star;
    private readonly OpticsGroup[] _groups;
    private readonly bool _ctf, _pose, _subset, _origin;

    /// <param name="path">the STAR file</param>
    /// <param name="optics">the optics groups, numbered 1, 2, ... in this order</param>
    /// <param name="hasCtf">whether every particle gives a CTF</param>
    /// <param name="hasPose">whether every particle gives a pose</param>
    /// <param name="hasRandomSubset">whether every particle gives rlnRandomSubset</param>
    /// <param name="hasOrigin">whether every particle gives its micrograph and coordinate</param>
    public ParticleStarStreamWriter(string path, IReadOnlyList<OpticsSettings> optics, bool hasCtf, bool hasPose, bool hasRandomSubset, bool hasOrigin = false)
    {
        if (optics.Count == 0) throw new ArgumentException("at least one optics group is needed", nameof(optics));
        _groups = optics.Select((o, i) => new OpticsGroup(i + 1, OpticsGroup.DefaultName(i + 1), o, i)).ToArray();
        (_ctf, _pose, _subset, _origin) = (hasCtf, hasPose, hasRandomSubset, hasOrigin);
        _star = StarStreamWriter.Create(path, StarVersions.Relion31);
        try
        {
            _star.WriteBlock(ParticleRows.OpticsBlock(_groups));
            _star.BeginLoop("particles", ParticleRows.Columns(hasCtf, hasPose, hasRandomSubset, hasOrigin));
        }
        catch
        {
            _star.Dispose();
            throw;
        }
    }

    public long Count => _star.RowCount;

    /// <param name="opticsGroup">1-based group number</param>
    /// <param name="image">stack path as it should be written, 0-based index</param>
    /// <param name="origin">micrograph and coordinate (when the writer was opened with hasOrigin)</param>
    public void Add(int opticsGroup, ParticleRef image, CtfParameters? ctf = null, Pose? pose = null, int? randomSubset = null, ParticleOrigin? origin = null)
    {
        if (opticsGroup < 1 || opticsGroup > _groups.Length) throw new ArgumentOutOfRangeException(nameof(opticsGroup), $"no optics group {opticsGroup}");
        if (_ctf != ctf is not null || _pose != pose is not null || _subset != randomSubset is not null || _origin != origin is not null)
            throw new ArgumentException($"particle {Count} gives CTF/pose/subset/origin = {ctf is not null}/{pose is not null}/{randomSubset is not null}/{origin is not null}, "
                + $"the writer was opened for {_ctf}/{_pose}/{_subset}/{_origin}");
        ArgumentOutOfRangeException.ThrowIfNegative(image.Index);
        StarTable.CheckValue(image.StackPath);
        _star.WriteRow(ParticleRows.Values(_groups[opticsGroup - 1], image, ctf, pose, randomSubset, origin));
    }

    public void Complete() => _star.Complete();

    public void Dispose() => _star.Dispose();
}

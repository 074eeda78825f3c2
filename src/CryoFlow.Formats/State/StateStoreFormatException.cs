using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.State;

/// <summary>A state snapshot or working log that is truncated, corrupted or of another format; names the file,
/// the byte offset and, where known, the particle.</summary>
public sealed class StateStoreFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

using System.Runtime.InteropServices;

namespace CryoFlow.Formats.Checkpoints;

/// <summary>
/// The file operations a checkpoint makes, in one place so that tests can inject faults (a full disk, a failing
/// rename) by overriding them. <see cref="Real"/> is the operating system's; nothing but checkpoint writing goes
/// through this class.
/// </summary>
public class CheckpointFileSystem
{
    public static CheckpointFileSystem Real { get; } = new();

    /// <summary>A new file, writable and seekable; fails if it exists.</summary>
    public virtual Stream CreateFile(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);

    /// <summary>Forces what was written to <paramref name="file"/> onto the disk (fsync).</summary>
    public virtual void FlushToDisk(Stream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file is FileStream fs) fs.Flush(flushToDisk: true);
        else file.Flush();
    }

    public virtual void CreateDirectory(string path) => Directory.CreateDirectory(path);

    /// <summary>Renames a directory (atomic within one file system).</summary>
    public virtual void MoveDirectory(string from, string to) => Directory.Move(from, to);

    public virtual void DeleteDirectory(string path) => Directory.Delete(path, recursive: true);

    /// <summary>Forces a directory's entries (a file created or renamed in it) onto the disk; best effort.</summary>
    public virtual void SyncDirectory(string path) => DirectorySync.TrySync(path);
}

/// <summary>
/// fsync of a directory, which .NET does not offer (a FileStream cannot open one): open(2), fsync(2), close(2) from
/// the C library, resolved at run time. Where the library or the call is unavailable (Windows, where NTFS orders
/// renames itself) it does nothing.
/// </summary>
internal static unsafe class DirectorySync
{
    private static readonly string[] Candidates = ["libc.so.6", "libc", "libSystem.dylib"];
    private static readonly delegate* unmanaged<byte*, int, int> Open;
    private static readonly delegate* unmanaged<int, int> Fsync;
    private static readonly delegate* unmanaged<int, int> Close;

    static DirectorySync()
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (string name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "open", out nint open) && NativeLibrary.TryGetExport(lib, "fsync", out nint fsync) &&
                NativeLibrary.TryGetExport(lib, "close", out nint close))
            {
                Open = (delegate* unmanaged<byte*, int, int>)open;
                Fsync = (delegate* unmanaged<int, int>)fsync;
                Close = (delegate* unmanaged<int, int>)close;
                return;
            }
        }
    }

    /// <returns>whether the directory was synced</returns>
    public static bool TrySync(string path)
    {
        if (Open == null) return false;
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(path) + "\0");
        int fd;
        fixed (byte* p = utf8) fd = Open(p, 0); // O_RDONLY: enough to fsync a directory on Linux and macOS
        if (fd < 0) return false;
        try
        {
            return Fsync(fd) == 0;
        }
        finally
        {
            Close(fd);
        }
    }
}

"""Which file system holds a folder: network and user-space mounts are polled, as their native change events
miss changes made by other machines."""

from __future__ import annotations

# File system types whose native change events miss changes made by other machines.
NETWORK_FS_PREFIXES = ("nfs", "cifs", "smb", "ncpfs", "9p", "afs", "ceph", "glusterfs", "lustre", "davfs",
                       "fuse.")
LOCAL_FUSE_TYPES = frozenset({"fuseblk", "fuse.fuse-overlayfs", "fuse.portal", "fuse.lxcfs"})


def _unescape_mount(field_text: str) -> str:
    """/proc/mounts writes spaces, tabs and backslashes in mount points as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field_text = field_text.replace(code, char)
    return field_text


def mount_type(path: str, mounts_text: str | None = None) -> str | None:
    """The file system type of the mount holding ``path`` (Linux /proc/mounts), or None if unknown."""
    if mounts_text is None:
        try:
            with open("/proc/mounts", encoding="utf-8", errors="replace") as f:
                mounts_text = f.read()
        except OSError:
            return None
    best, best_type = "", None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point, fstype = _unescape_mount(parts[1]), parts[2]
        prefix = point if point.endswith("/") else point + "/"
        if (path == point or path.startswith(prefix)) and len(point) >= len(best):
            best, best_type = point, fstype
    return best_type


def is_network_fs(fstype: str | None) -> bool:
    """True for network and user-space mounts, where inotify does not see other machines' changes."""
    if not fstype or fstype in LOCAL_FUSE_TYPES:
        return False
    return fstype.startswith(NETWORK_FS_PREFIXES)

"""Typed errors of the core.

The core never prints or exits: it raises one of these with a message written for a person, and
the CLI or the GUI decides how to show it.
"""

from __future__ import annotations


class PhotoClipError(Exception):
    """Base of every error the core raises on purpose; its message is shown to the user as is."""


class CatalogError(PhotoClipError):
    """The catalog cannot be opened, migrated or written."""


class DiskFullError(CatalogError):
    """The disk holding the library is full; nothing was corrupted, work stopped."""


class DecodeError(PhotoClipError):
    """One image could not be read or decoded; the message is the reason recorded for that photo.

    ``unreadable`` marks a failure of the file system rather than of the image (the file vanished, was
    refused, or could not be read), which says nothing about the photo's content. ``transient`` marks
    one that may pass (an I/O error, a share timing out): indexing retries it on the next run instead
    of recording the photo as broken.
    """

    def __init__(self, message: str, *, unreadable: bool = False, transient: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable or transient
        self.transient = transient


class ModelError(PhotoClipError):
    """A model bundle is missing, invalid, or cannot run."""


class NoModelError(ModelError):
    """No model is installed or active yet."""


class NetworkError(ModelError):
    """A download needed the network and could not reach it."""


class QueryError(PhotoClipError):
    """A search query cannot be understood (empty, bad weight, unreadable image term)."""


class NotFoundError(PhotoClipError):
    """A folder, photo, tag or album the user named does not exist."""

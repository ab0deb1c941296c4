"""The ``webcoos://`` filesystem: the archive as a read-only fsspec tree.

:class:`WebcoosFileSystem` lists folders from the API client and opens files as
:class:`WebcoosFile` (ranged reads of their public URLs); globs open only the
day folders they match; listings of finished days never expire.
"""

from intake_webcoos.fs.file import WebcoosFile
from intake_webcoos.fs.filesystem import WebcoosFileSystem

__all__ = ["WebcoosFile", "WebcoosFileSystem"]

"""The desktop app (PySide6). Qt lives only in this package; it drives `photoclip.library.Library`."""

"""Suite-wide test settings: Qt offscreen, a private data folder, no stray user settings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MUSICAPP_DEBUG", "")

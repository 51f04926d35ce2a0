"""Suite-wide test settings: Qt offscreen, a private data folder, no stray user settings."""

from __future__ import annotations

import os
import signal
import tempfile

# A background job of a non-interactive shell (CI, `cmd &`) starts with SIGINT ignored, and
# an ignored signal stays ignored across exec: the Ctrl-C tests' subprocesses would never see
# it. Restore Python's own handler so the children start with the default disposition.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# fine-tuned models of the tests go to a throw-away folder, never the user's real one
os.environ["MUSICAPP_USER_MODELS"] = tempfile.mkdtemp(prefix="musicapp-test-models-")
os.environ.setdefault("MUSICAPP_DEBUG", "")

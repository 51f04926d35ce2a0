"""Suite-wide test settings: Qt offscreen and private per-user folders for the whole run.

Before anything imports Qt or musicapp, the user's configuration, data and cache folders are
pointed at one temporary "home" for this test session (``XDG_CONFIG_HOME``,
``XDG_DATA_HOME``, ``XDG_CACHE_HOME``, ``MUSICAPP_DATA``, ``MUSICAPP_CACHE``), so no test,
nor any subprocess a test starts (they inherit the environment), can read or rewrite the
real ``~/.config/musicapp`` settings, recovery files or caches.
``test_isolation.py`` checks that the app's own path lookups land there.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

# A background job of a non-interactive shell (CI, `cmd &`) starts with SIGINT ignored, and
# an ignored signal stays ignored across exec: the Ctrl-C tests' subprocesses would never see
# it. Restore Python's own handler so the children start with the default disposition.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# fine-tuned models of the tests go to a throw-away folder, never the user's real one
os.environ["MUSICAPP_USER_MODELS"] = tempfile.mkdtemp(prefix="musicapp-test-models-")
os.environ.setdefault("MUSICAPP_DEBUG", "")

TEST_HOME = Path(tempfile.mkdtemp(prefix="musicapp-test-home-"))
os.environ["MUSICAPP_TEST_HOME"] = str(TEST_HOME)
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                   ("XDG_CACHE_HOME", "cache"), ("MUSICAPP_DATA", "data/musicapp"),
                   ("MUSICAPP_CACHE", "cache/musicapp")):
    os.environ[_var] = str(TEST_HOME / _sub)
    (TEST_HOME / _sub).mkdir(parents=True, exist_ok=True)


def pytest_unconfigure(config) -> None:
    shutil.rmtree(TEST_HOME, ignore_errors=True)

"""The one atomic-write helper: unique temp names, commit on success, old file kept on failure."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from musicapp.core.atomic import atomic_path, atomic_write_text
from musicapp.core.errors import MusicappError


class WriteError(MusicappError):
    pass


def test_atomic_path_commits_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "shard.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".npz") and tmp != target
        np.savez_compressed(tmp, x=np.arange(3))  # a writer that insists on its suffix
    assert list(np.load(target)["x"]) == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["shard.npz"]


def test_atomic_path_failure_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "loss.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.csv"]


def test_atomic_path_turns_os_errors_into_the_callers_one_line_error(tmp_path):
    with pytest.raises(WriteError, match="cannot write"):
        with atomic_path(tmp_path / "missing" / "x.txt", WriteError) as tmp:
            tmp.write_text("x")


def test_concurrent_writers_use_distinct_temp_names(tmp_path):
    target, names, barrier = tmp_path / "card.md", [], threading.Barrier(4)

    def write(i: int) -> None:
        with atomic_path(target) as tmp:
            names.append(tmp.name)
            barrier.wait(5)  # all four temp files exist at once
            tmp.write_text(f"writer {i}")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == 4 and target.read_text().startswith("writer ")
    assert [p.name for p in tmp_path.iterdir()] == ["card.md"]


def test_atomic_write_text_replaces_whole_file(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("x" * 1000)
    atomic_write_text(target, "{}\n")
    assert target.read_text() == "{}\n"

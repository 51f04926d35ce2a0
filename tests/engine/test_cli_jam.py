"""``musicapp jam`` as a user runs it: a JACK keyboard plays a call, the answer comes back,
Ctrl-C ends the jam mid-answer with nothing left sounding and the take written to a file."""

from __future__ import annotations

import signal
import time

import pytest

from engine_helpers import stuck_notes, virtual_keyboard
from test_cli_engine import run_cli, running_cli

from musicapp.core.midifile import read_midi


@pytest.fixture
def cli_keys(jack_server):
    yield from virtual_keyboard("clikeys")


def test_jam_answers_a_call_and_ctrl_c_mid_answer_leaves_nothing_sounding(inbox, cli_keys, tmp_path):
    out = tmp_path / "jam.mid"
    with running_cli("jam", "--input", "clikeys:out", "--output", inbox.name, "--bars", "1",
                     "--tempo", "240", "--key", "C major", "--record", str(out)) as proc:
        assert inbox.wait_until(lambda got: any(m[0] == 0x99 for _, m in got), timeout=60), proc.stderr.read()
        bar0 = time.perf_counter() + 1.0 - 0.01  # the first click starts a 1-bar count-in (1 s)
        for i, pitch in enumerate((60, 64, 67, 72)):  # one bar of quarters
            while time.perf_counter() < bar0 + 0.25 * i:
                time.sleep(0.0005)
            cli_keys.send_message((0x90, pitch, 100))
            time.sleep(0.12)
            cli_keys.send_message((0x80, pitch, 0))
        assert inbox.wait_until(lambda got: any(m[0] == 0x91 for _, m in got), timeout=3)
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
        stdout, stderr = proc.stdout.read(), proc.stderr.read()
    assert proc.returncode == 0, stderr
    assert "call 1: " in stdout and "in C major" in stdout
    msgs = inbox.collect(0.1)
    assert [m[1] for _, m in msgs if m[0] == 0x90] == [60, 64, 67, 72]  # the player, echoed
    assert not stuck_notes(msgs)
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["Jam calls", "Jam answers"]
    assert [n.pitch for n in song.tracks[0].notes] == [60, 64, 67, 72]
    assert song.tracks[1].notes and song.tracks[1].notes[0].start >= 4 * 480 * 240 // 240


@pytest.mark.parametrize("args, message", [
    (["--bars", "0"], "--bars must be 1-8 or 'pause'"),
    (["--bars", "two"], "--bars must be 1-8 or 'pause'"),
    (["--tempo", "5"], "--tempo must be 20-300 BPM"),
    (["--key", "H major"], "unknown key 'H major'"),
    (["--model", "nosuchmodel"], "no melody model 'nosuchmodel'"),
    (["--input", "nosuchport"], "no MIDI input port matches 'nosuchport'"),
])
def test_bad_jam_options_give_one_line_and_no_traceback(jack_server, args, message):
    base = {"--input": "system", "--output": "x"}
    merged = dict(base)
    merged.update(dict(zip(args[::2], args[1::2])))
    res = run_cli("jam", *[x for kv in merged.items() for x in kv], timeout=60)
    assert res.returncode == 1
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1

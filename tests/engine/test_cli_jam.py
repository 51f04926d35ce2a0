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
    (["--model", "nosuchmodel"], "no model named 'nosuchmodel'"),
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


MASTER = r"""
import os, sys, time, rtmidi
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(3))
except OSError:
    pass
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="clockmaster")
out.open_virtual_port("out")
print("ready", flush=True)
sys.stdin.readline()  # Start when told
pulse = 60.0 / (float(sys.argv[1]) * 24)
t0 = time.perf_counter() + 0.01
out.send_message([0xFA])
print(t0, flush=True)
k = 0
while True:
    at = t0 + k * pulse
    while time.perf_counter() < at - 0.002:
        time.sleep(0.001)
    while time.perf_counter() < at:
        pass
    out.send_message([0xF8])
    k += 1
"""


def test_jam_without_a_tempo_follows_the_midi_clock_on_its_input(inbox):
    """A drum machine (its own realtime process): Start, then 24 pulses per beat at 150 BPM."""
    import re
    import subprocess
    import sys

    bpm = 150.0
    master = subprocess.Popen([sys.executable, "-c", MASTER, str(bpm)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert master.stdout.readline().strip() == "ready"
        with running_cli("jam", "--input", "clockmaster:out", "--output", inbox.name, "--bars", "1") as proc:
            assert proc.stdout.readline().startswith("loading")  # the input is open
            master.stdin.write("\n")
            master.stdin.flush()  # the player presses Start on the drum machine
            t0 = float(master.stdout.readline())
            heard: list[float] = []  # perf_counter when each click was polled (~2 ms late)
            deadline = time.perf_counter() + 60
            while len(heard) < 7 and time.perf_counter() < deadline and proc.poll() is None:
                before = len(inbox.received)
                got = inbox.drain()
                heard += [time.perf_counter() for _, m in got[before:] if m[0] == 0x99]
                time.sleep(0.001)
            proc.send_signal(signal.SIGINT)
            proc.wait(15)
            stdout, stderr = proc.stdout.read(), proc.stderr.read()
    finally:
        master.kill()
        master.wait(5)
    found = re.search(r"following the MIDI clock on clockmaster:out: ([0-9.]+) BPM", stdout)
    assert found, stdout + stderr
    assert abs(float(found.group(1)) - bpm) < 1.5  # within 1 % (pulses timed by polling)
    gaps = sorted(b - a for a, b in zip(heard, heard[1:]))
    assert abs(gaps[len(gaps) // 2] - 0.4) < 0.012  # a beat at 150 BPM
    # the 4 count-in clicks end on one of the master's bar lines (every 1.6 s from its Start)
    off = (heard[4] - t0) % 1.6
    assert min(off, 1.6 - off) < 0.03
    assert [m[1] for _, m in inbox.received if m[0] == 0x99][4] == 76  # the accent

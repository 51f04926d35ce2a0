"""``musicapp jam`` as a user runs it: a JACK keyboard plays a call, the answer comes back,
Ctrl-C ends the jam mid-answer with nothing left sounding and the take written to a file."""

from __future__ import annotations

import signal
import time

import numpy as np

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


@pytest.fixture
def clock_keys(jack_server):
    yield from virtual_keyboard("clockkeys")


def test_jam_without_a_tempo_follows_the_midi_clock_on_its_input(inbox, clock_keys):
    import threading

    bpm, stop, sent = 150.0, threading.Event(), []
    pulse = 60.0 / (bpm * 24)

    def master() -> None:  # a drum machine: Start, then 24 pulses per beat, bars of 1.6 s
        t0 = time.perf_counter() + 0.01
        clock_keys.send_message((0xFA,))
        k = 0
        while not stop.is_set():
            at = t0 + k * pulse
            while time.perf_counter() < at:
                time.sleep(0.0003)
            clock_keys.send_message((0xF8,))
            sent.append((k, time.perf_counter()))
            k += 1

    th = threading.Thread(target=master, daemon=True)
    try:
        with running_cli("jam", "--input", "clockkeys:out", "--output", inbox.name, "--bars", "1") as proc:
            assert proc.stdout.readline().startswith("loading")  # the input is open
            th.start()  # the player presses Start on the drum machine
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
        stop.set()
        if th.is_alive():
            th.join(2)
    import re

    found = re.search(r"following the MIDI clock on clockkeys:out: ([0-9.]+) BPM", stdout)
    assert found, stdout + stderr
    assert abs(float(found.group(1)) - bpm) < 0.75  # the pulses are timed by polling: +-0.5 %
    gaps = sorted(b - a for a, b in zip(heard, heard[1:]))
    assert abs(gaps[len(gaps) // 2] - 0.4) < 0.012  # a beat at 150 BPM
    # the 4 count-in clicks end on one of the master's bar lines (every 96 pulses from its
    # Start), as its pulses really went out (a line through their send times)
    ks, ws = np.array([k for k, _ in sent], float), np.array([w for _, w in sent])
    per_pulse, origin = np.polyfit(ks, ws, 1)
    off = (heard[4] - origin) % (96 * per_pulse)
    assert min(off, 96 * per_pulse - off) < 0.03
    assert [m[1] for _, m in inbox.received if m[0] == 0x99][4] == 76  # the accent

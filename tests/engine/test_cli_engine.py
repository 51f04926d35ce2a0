"""``musicapp ports``, ``play`` and ``render`` as a user runs them, against the JACK dummy server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, TempoChange, Track

from engine_helpers import scale_song, stuck_notes


def run_cli(*args, env=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "musicapp", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@contextlib.contextmanager
def running_cli(*args):
    """A ``musicapp`` subprocess, killed at the end if the test did not stop it."""
    proc = subprocess.Popen([sys.executable, "-m", "musicapp", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def scale_mid(tmp_path):
    path = tmp_path / "scale.mid"
    write_midi(scale_song(notes=6, step=120, bpm=240), path)  # a note every 0.0625 s
    return path


@pytest.fixture
def long_mid(tmp_path):
    path = tmp_path / "long.mid"
    notes = tuple(Note(i * 240, 60 + i, 20_000, 100) for i in range(4))
    write_midi(Song(tracks=(Track(notes=notes),), tempos=(TempoChange.from_bpm(0, 240),)), path)
    return path


def test_ports_lists_the_jack_ports(inbox):
    res = run_cli("ports")
    assert res.returncode == 0, res.stderr
    assert "MIDI backend: Jack" in res.stdout and inbox.name in res.stdout


def test_play_returns_when_the_song_ends_with_every_note_released(inbox, scale_mid):
    res = run_cli("play", str(scale_mid), "--port", inbox.name)
    assert res.returncode == 0, res.stderr
    msgs = inbox.collect(0.05)
    assert [m[1] for _, m in msgs if m[0] == 0x90] == list(range(60, 66))
    assert stuck_notes(msgs) == {}


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signals_stop_play_and_release_every_note(inbox, long_mid, sig, code):
    with running_cli("play", str(long_mid), "--port", inbox.name) as proc:
        assert inbox.wait_until(lambda m: sum(x[1][0] == 0x90 for x in m) >= 2, timeout=15)
        proc.send_signal(sig)
        proc.wait(10)
    assert proc.returncode == code, proc.stderr.read()
    msgs = inbox.collect(0.05)
    assert stuck_notes(msgs) == {} and (0xB0, 123, 0) in [m for _, m in msgs]


def test_loop_flag_keeps_playing_until_stopped(inbox, scale_mid):
    with running_cli("play", str(scale_mid), "--port", inbox.name, "--loop") as proc:
        assert inbox.wait_until(lambda m: sum(x[1] == (0x90, 60, 90) for x in m) >= 2, timeout=15)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert stuck_notes(inbox.collect(0.05)) == {}


def test_unknown_port_is_one_clear_line(jack_server, scale_mid):
    res = run_cli("play", str(scale_mid), "--port", "no-such-port-xyz")
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "no MIDI output port matches" in res.stderr


def test_no_midi_backend_is_one_clear_line(scale_mid):
    env = {"MUSICAPP_MIDI_API": "jack", "JACK_DEFAULT_SERVER": "musicapp-no-such-server"}
    for args in (("ports",), ("play", str(scale_mid), "--port", "x")):
        res = run_cli(*args, env=env)
        assert res.returncode == 1
        assert res.stderr.strip() == ("musicapp: no MIDI system is available (tried Jack); start "
                                      "JACK or enable the ALSA sequencer, or use the built-in synth")


def test_play_on_the_synth_without_audio_device_is_one_clear_line(scale_mid):
    res = run_cli("play", str(scale_mid), "--synth",
                  env={"JACK_DEFAULT_SERVER": "musicapp-no-such-server"})
    if "playing" in res.stdout:
        pytest.skip("this machine has an audio output device")
    assert res.returncode == 1 and "no audio output device" in res.stderr
    assert res.stderr.strip().count("\n") == 0


def test_render_writes_a_wav_with_the_notes_pitches(tmp_path):
    mid, wav = tmp_path / "a.mid", tmp_path / "a.wav"
    write_midi(Song(tracks=(Track(program=16, notes=(Note(0, 69, 960, 100),)),)), mid)
    res = run_cli("render", str(mid), "-o", str(wav), "--rate", "22050", "--engine", "own")
    assert res.returncode == 0, res.stderr
    with wave.open(str(wav)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    audio = np.frombuffer(frames, dtype="<i2").reshape(-1, 2)[: rate].astype(float)
    spectrum = np.abs(np.fft.rfft(audio[:, 0] * np.hanning(len(audio))))
    assert abs(np.fft.rfftfreq(len(audio), 1 / rate)[np.argmax(spectrum)] - 440) < 3


def test_render_of_a_bad_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    res = run_cli("render", str(bad), "-o", str(tmp_path / "x.wav"))
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


def test_play_on_a_virtual_port_reaches_a_program_that_connects_to_it(jack_server, long_mid):
    import rtmidi

    from musicapp.engine.ports import list_input_ports

    reader = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="daw")
    with running_cli("play", str(long_mid), "--virtual", "daw-feed", "--loop") as proc:
        end = time.monotonic() + 15
        while not any("daw-feed" in p for p in list_input_ports()) and time.monotonic() < end:
            time.sleep(0.05)
        ports = reader.get_ports()
        reader.open_port(next(i for i, p in enumerate(ports) if "daw-feed" in p))
        got: list = []
        while len([m for m in got if m[0] == 0x90]) < 1 and time.monotonic() < end:
            item = reader.get_message()
            got.append(tuple(item[0])) if item else time.sleep(0.002)
        assert any(m[0] == 0x90 for m in got)
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    reader.delete()
    assert proc.returncode == 130

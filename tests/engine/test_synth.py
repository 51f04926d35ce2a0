"""The built-in synth: right pitches (FFT), velocity, polyphony, releases, offline render."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

from musicapp.core.song import Control, Note, Song, Track
from musicapp.engine.audio import BuiltinSynthOutput, render_song, write_wav
from musicapp.engine.errors import AudioDeviceError, EngineError
from musicapp.engine.synth import Synth, SynthConfig, midi_to_hz

from engine_helpers import FakeStream, needs_fluidsynth

SR = 24000


def peaks(audio: np.ndarray, sr: int, count: int) -> list[float]:
    """Frequencies (Hz) of the ``count`` strongest separated spectral peaks."""
    x = audio[:, 0] * np.hanning(len(audio))
    mag = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    found: list[float] = []
    for i in np.argsort(mag)[::-1]:
        if all(abs(freqs[i] - f) > 15 for f in found):
            found.append(float(freqs[i]))
        if len(found) == count:
            break
    return sorted(found)


def lowest_strong_peak(audio: np.ndarray, sr: int) -> float:
    mag = np.abs(np.fft.rfft(audio[:, 0] * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    return float(freqs[np.argmax(mag > 0.25 * mag.max())])


@pytest.mark.parametrize("program", [0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 104])
def test_each_program_family_sounds_at_the_played_pitch(program):
    synth = Synth(SynthConfig(sample_rate=SR))
    synth.handle((0xC0, program))
    synth.handle((0x90, 69, 100))
    audio = synth.render(SR // 2)
    assert abs(lowest_strong_peak(audio, SR) - 440.0) < 4.0


def test_chord_has_every_pitch_of_the_chord():
    synth = Synth(SynthConfig(sample_rate=SR))
    for pitch in (60, 64, 67):
        synth.handle((0x90, pitch, 100))
    synth.handle((0xC0 | 0, 19))  # organ: steady partials
    got = peaks(synth.render(SR), SR, 3)
    want = [midi_to_hz(p) for p in (60, 64, 67)]
    assert np.allclose(got, want, atol=2.0), got


def test_velocity_sets_loudness():
    levels = []
    for velocity in (30, 120):
        synth = Synth(SynthConfig(sample_rate=SR))
        synth.handle((0x90, 60, velocity))
        levels.append(float(np.sqrt(np.mean(synth.render(SR // 4) ** 2))))
    assert levels[1] > 3 * levels[0] > 0


def test_note_off_releases_to_silence_and_frees_the_voice():
    synth = Synth(SynthConfig(sample_rate=SR))
    synth.handle((0xC0, 16))  # organ never dies away by itself
    synth.handle((0x90, 60, 100))
    synth.render(SR // 10)
    synth.handle((0x80, 60, 0))
    synth.render(SR // 2)
    assert synth.active_voices == 0
    assert np.abs(synth.render(256)).max() == 0.0


def test_sustain_pedal_holds_until_released_and_cc123_stops_all():
    synth = Synth(SynthConfig(sample_rate=SR))
    synth.handle((0xC0, 16))
    synth.handle((0xB0, 64, 127))
    synth.handle((0x90, 60, 100))
    synth.handle((0x80, 60, 0))
    synth.render(SR)
    assert synth.active_voices == 1
    synth.handle((0xB0, 64, 0))
    synth.render(SR // 2)
    assert synth.active_voices == 0
    synth.handle((0x90, 62, 100))
    synth.handle((0xB0, 123, 0))
    synth.render(SR // 2)
    assert synth.active_voices == 0


def test_drum_channel_plays_percussion():
    synth = Synth(SynthConfig(sample_rate=SR))
    for key in (36, 38, 42):
        synth.handle((0x99, key, 110))
    assert np.abs(synth.render(SR // 10)).max() > 0.05


def test_pitch_bend_moves_the_pitch_by_up_to_two_semitones_and_back():
    synth = Synth(SynthConfig(sample_rate=SR))
    synth.handle((0xC0, 19))  # organ: steady partials
    synth.handle((0x90, 69, 100))
    synth.render(SR // 10)
    synth.handle((0xE0, 127, 127))  # full up: +2 semitones (8191/8192 of them)
    assert abs(lowest_strong_peak(synth.render(SR // 2), SR) - midi_to_hz(71)) < 4.0
    synth.handle((0xE0, 0, 32))  # half down: -1 semitone
    assert abs(lowest_strong_peak(synth.render(SR // 2), SR) - midi_to_hz(68)) < 4.0
    synth.handle((0xB0, 121, 0))  # reset all controllers: back to centre
    assert abs(lowest_strong_peak(synth.render(SR // 2), SR) - 440.0) < 4.0


def test_channel_volume_expression_and_pan_shape_the_level():
    def rms(*controls):
        synth = Synth(SynthConfig(sample_rate=SR))
        for cc, value in controls:
            synth.handle((0xB0, cc, value))
        synth.handle((0x90, 60, 100))
        audio = synth.render(SR // 4)
        return np.sqrt(np.mean(audio ** 2, axis=0))

    full = rms()
    assert rms((7, 50))[0] < 0.35 * full[0]  # (50/100)^2 = 0.25
    assert rms((11, 64))[0] < 0.35 * full[0]
    assert np.allclose(full[0], full[1])  # centre: both sides alike
    left = rms((10, 0))
    assert left[1] < 1e-6 < left[0]


def test_render_song_plays_a_tracks_bend_and_volume():
    notes = (Note(0, 69, 960, 100),)  # 1 s at 120 BPM
    bend = (Control(480, "pitchwheel", 0, 8191), Control(480, "control_change", 7, 40))
    song = Song(tracks=(Track(program=19, notes=notes, controls=bend),))
    audio = render_song(song, sample_rate=SR, engine="own", tail_s=0.0)
    first, second = audio[SR // 10: SR * 4 // 10], audio[SR * 6 // 10: SR * 9 // 10]
    assert abs(lowest_strong_peak(first, SR) - 440.0) < 5.0
    assert abs(lowest_strong_peak(second, SR) - midi_to_hz(71)) < 5.0
    assert np.abs(second).max() < 0.4 * np.abs(first).max()


def test_render_song_puts_notes_at_their_times():
    notes = tuple(Note(i * 480, 72, 240, 100) for i in range(4))  # one per 0.5 s at 120 BPM
    song = Song(tracks=(Track(program=16, notes=notes),))
    audio = render_song(song, sample_rate=SR, engine="own", tail_s=0.5)
    assert len(audio) == int(round(2.25 * SR))
    env = np.abs(audio[:, 0]).reshape(-1, SR // 100).max(axis=1)  # 10 ms frames
    onsets = [i for i in range(len(env)) if env[i] > 0.05 and (i == 0 or env[i - 1] <= 0.05)]
    assert onsets == [0, 50, 100, 150]
    for k in range(4):
        part = audio[k * SR // 2 + SR // 20: k * SR // 2 + SR // 5]
        assert abs(lowest_strong_peak(part, SR) - midi_to_hz(72)) < 8


def test_write_wav_round_trips(tmp_path):
    audio = np.stack([np.linspace(-1, 1, 100, dtype=np.float32)] * 2, axis=1)
    path = tmp_path / "x.wav"
    write_wav(path, audio, SR)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, SR, 100)
    with pytest.raises(EngineError):
        write_wav(tmp_path / "missing" / "y.wav", audio, SR)


@needs_fluidsynth
def test_fluidsynth_with_system_soundfont_plays_the_right_pitch():
    song = Song(tracks=(Track(program=0, notes=(Note(0, 69, 960, 100),)),))
    audio = render_song(song, sample_rate=SR, engine="fluidsynth", tail_s=0.1)
    assert abs(lowest_strong_peak(audio[SR // 10: SR], SR) - 440.0) < 4.0


def test_live_synth_output_applies_messages_in_the_audio_callback():
    streams: list[FakeStream] = []
    out = BuiltinSynthOutput(engine="own", sample_rate=SR,
                             stream_factory=lambda **kw: streams.append(FakeStream(**kw)) or streams[-1])
    stream = streams[0]
    assert stream.started and stream.kwargs["samplerate"] == SR
    assert np.abs(stream.pull(256)).max() == 0.0
    out.send((0x90, 69, 100))
    assert abs(lowest_strong_peak(stream.pull(SR // 2), SR) - 440) < 4
    out.release_all()
    stream.pull(SR // 2)
    assert np.abs(stream.pull(256)).max() == 0.0
    out.close()
    assert stream.closed


def test_live_synth_without_audio_device_is_a_clear_error():
    code = ("import sounddevice as sd, sys\n"
            "if any(d['max_output_channels'] > 0 for d in sd.query_devices()): sys.exit(3)\n"
            "from musicapp.engine.audio import BuiltinSynthOutput\n"
            "from musicapp.engine.errors import AudioDeviceError\n"
            "try:\n    BuiltinSynthOutput(engine='own')\n"
            "except AudioDeviceError as err:\n    print(err)\n")
    env = {**os.environ, "JACK_DEFAULT_SERVER": "musicapp-no-such-server"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    if res.returncode == 3:
        pytest.skip("this machine has an audio output device")
    assert res.returncode == 0 and res.stdout.startswith("no audio output device"), res


def test_live_synth_plays_through_jack_audio(jack_server):
    out = BuiltinSynthOutput(engine="own", sample_rate=48000)
    try:
        out.send((0x90, 64, 100))
        deadline = time.monotonic() + 5
        while out.blocks_rendered < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.blocks_rendered >= 20 and out.peak > 0.01  # the audio callback is running
        assert out.sounding_notes() == [(0, 64)]
    finally:
        out.close()
    assert out.sounding_notes() == []


@needs_fluidsynth
def test_fluidsynth_follows_a_tracks_pitch_bend():
    bend = (Control(480, "pitchwheel", 0, 8191),)  # +2 semitones from 0.5 s on
    # a flute: organs in some GM SoundFonts (TimGM6mb) sound a 16' octave below the key
    song = Song(tracks=(Track(program=73, notes=(Note(0, 69, 960, 100),), controls=bend),))
    audio = render_song(song, sample_rate=SR, engine="fluidsynth", tail_s=0.0)
    assert abs(lowest_strong_peak(audio[SR // 10: SR * 4 // 10], SR) - 440.0) < 5.0
    assert abs(lowest_strong_peak(audio[SR * 6 // 10: SR * 9 // 10], SR) - midi_to_hz(71)) < 5.0

"""The built-in synth: a small polyphonic additive/FM synth in numpy, plus offline rendering.

Owns sound when there is no external gear and no SoundFont: voices with ADSR envelopes,
velocity that sets both loudness and brightness, GM programs mapped by family (piano,
organ, strings, brass, ...) to timbres, and a noise/sine drum kit on channel 10. It eats
raw MIDI messages (``handle``) and produces float32 stereo blocks (``render``), so the same
object serves the real-time audio callback and offline rendering to a buffer or WAV.

Units: ``sample_rate`` in Hz, times in seconds, blocks in frames; audio arrays have shape
(frames, 2), float32 in [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from musicapp.core.song import DRUM_CHANNEL

BEND_RANGE = 2.0  # semitones at full pitch bend (the GM default)
DEFAULT_VOLUME = 100  # CC7 at power-on; the synth's loudness is set for it


@dataclass(frozen=True, slots=True)
class Timbre:
    """One instrument sound. ``partials`` are harmonic amplitudes (1st, 2nd, ...).

    With ``fm_ratio`` > 0 the voice is a 2-operator FM pair instead: carrier at the note
    frequency, modulator at ``fm_ratio`` times it with peak index ``fm_index``.
    ``tail`` > 0 makes the sustain die away with that time constant (plucked, struck).
    """

    name: str
    partials: tuple[float, ...] = (1.0,)
    attack: float = 0.005
    decay: float = 0.1
    sustain: float = 0.8
    release: float = 0.15
    tail: float = 0.0
    fm_ratio: float = 0.0
    fm_index: float = 0.0
    brightness: float = 0.6  # how much velocity opens the upper partials (0..1)


def _saw(n: int) -> tuple[float, ...]:
    return tuple(1.0 / k for k in range(1, n + 1))


def _square(n: int) -> tuple[float, ...]:
    return tuple((1.0 / k if k % 2 else 0.0) for k in range(1, n + 1))


#: one timbre per GM family (program // 8)
FAMILY_TIMBRES: tuple[Timbre, ...] = (
    Timbre("piano", (1.0, 0.45, 0.25, 0.12, 0.08, 0.04), 0.002, 0.25, 0.55, 0.25, tail=1.6),
    Timbre("chromatic percussion", (1.0,), 0.001, 0.1, 0.6, 0.4, tail=0.9, fm_ratio=3.5,
           fm_index=1.2),
    Timbre("organ", (1.0, 0.6, 0.0, 0.35, 0.0, 0.2, 0.0, 0.15), 0.01, 0.02, 1.0, 0.06),
    Timbre("guitar", (1.0, 0.6, 0.35, 0.2, 0.12, 0.06), 0.002, 0.1, 0.6, 0.2, tail=0.9),
    Timbre("bass", (1.0, 0.55, 0.25, 0.1), 0.004, 0.15, 0.7, 0.12, tail=1.4),
    Timbre("strings", _saw(10), 0.09, 0.2, 0.85, 0.35),
    Timbre("ensemble", _saw(8), 0.12, 0.3, 0.8, 0.5),
    Timbre("brass", _saw(12), 0.04, 0.12, 0.8, 0.15, brightness=0.9),
    Timbre("reed", _square(11), 0.03, 0.1, 0.85, 0.12),
    Timbre("pipe", (1.0, 0.12, 0.05), 0.05, 0.1, 0.9, 0.15),
    Timbre("synth lead", _saw(16), 0.005, 0.1, 0.85, 0.12, brightness=0.8),
    Timbre("synth pad", _saw(6), 0.35, 0.5, 0.8, 0.8, brightness=0.3),
    Timbre("synth effects", (1.0,), 0.05, 0.3, 0.7, 0.6, fm_ratio=1.41, fm_index=2.0),
    Timbre("ethnic", (1.0, 0.7, 0.3, 0.25, 0.1), 0.002, 0.08, 0.5, 0.2, tail=0.7),
    Timbre("percussive", (1.0,), 0.001, 0.05, 0.5, 0.15, tail=0.35, fm_ratio=1.6, fm_index=2.5),
    Timbre("sound effects", (1.0,), 0.01, 0.2, 0.6, 0.3, fm_ratio=2.73, fm_index=3.0),
)


def timbre_for_program(program: int) -> Timbre:
    """The timbre standing in for GM ``program`` (0-127)."""
    if not 0 <= program <= 127:
        raise ValueError(f"program {program} outside 0..127")
    return FAMILY_TIMBRES[program // 8]


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """``sample_rate`` Hz; at most ``max_voices`` sound at once (oldest is stolen); ``gain``."""

    sample_rate: int = 48000
    max_voices: int = 48
    gain: float = 0.22


class _Voice:
    __slots__ = ("channel", "pitch", "freq", "amp", "timbre", "age", "released_at",
                 "released_level", "sustained", "drum", "seed", "bright", "phase")

    def __init__(self, channel: int, pitch: int, velocity: int, timbre: Timbre, drum: bool):
        self.channel, self.pitch, self.timbre, self.drum = channel, pitch, timbre, drum
        self.freq = midi_to_hz(pitch)
        v = velocity / 127.0
        self.amp = v ** 1.6
        self.bright = 1.0 - timbre.brightness * (1.0 - v)
        self.age = 0  # frames since the note-on
        self.released_at: int | None = None
        self.released_level = 0.0
        self.sustained = False
        self.seed = (channel * 128 + pitch) * 7919
        self.phase = 0.0  # radians of the fundamental at ``age`` (pitch bend changes the rate)


class Synth:
    """A polyphonic synth driven by raw MIDI messages. Not thread-safe: one caller at a time."""

    def __init__(self, config: SynthConfig = SynthConfig()) -> None:
        self.config = config
        self.sample_rate = config.sample_rate
        self._voices: list[_Voice] = []
        self._programs = [0] * 16
        self._sustain = [False] * 16
        self._bend = [0.0] * 16  # semitones
        self._expression = [127] * 16  # CC11
        self._volume = [DEFAULT_VOLUME] * 16  # CC7 (not reset by CC121, as in GM)
        self._pan = [64] * 16  # CC10

    def _reset_controllers(self, channels) -> None:
        """Pitch bend to centre, expression full (what CC121 resets, besides the pedal)."""
        for ch in channels:
            self._bend[ch], self._expression[ch] = 0.0, 127

    # ----- MIDI in ------------------------------------------------------------------------
    def handle(self, msg) -> None:
        """Apply one MIDI message: note on/off, program change, pitch bend (+-2 semitones),
        CC7 volume, CC10 pan, CC11 expression, CC64 sustain, CC120/121/123. Others ignored."""
        if not msg:
            return
        status = msg[0]
        kind, ch = status & 0xF0, status & 0x0F
        if kind == 0x90 and len(msg) == 3 and msg[2] > 0:
            self._note_on(ch, msg[1], msg[2])
        elif kind in (0x80, 0x90) and len(msg) >= 2:
            self._note_off(ch, msg[1])
        elif kind == 0xC0 and len(msg) >= 2:
            self._programs[ch] = msg[1] & 0x7F
        elif kind == 0xE0 and len(msg) == 3:
            self._bend[ch] = BEND_RANGE * ((msg[1] | msg[2] << 7) - 8192) / 8192
        elif kind == 0xB0 and len(msg) == 3:
            if msg[1] == 7:
                self._volume[ch] = msg[2]
            elif msg[1] == 10:
                self._pan[ch] = msg[2]
            elif msg[1] == 11:
                self._expression[ch] = msg[2]
            elif msg[1] == 121:
                self._reset_controllers([ch])
                self.handle((0xB0 | ch, 64, 0))
            elif msg[1] == 64:
                self._sustain[ch] = msg[2] >= 64
                if not self._sustain[ch]:
                    for v in self._voices:
                        if v.channel == ch and v.sustained:
                            self._release(v)
            elif msg[1] == 120:
                self._voices = [v for v in self._voices if v.channel != ch]
            elif msg[1] == 123:
                for v in self._voices:
                    if v.channel == ch:
                        self._release(v)

    @property
    def active_voices(self) -> int:
        return len(self._voices)

    def _note_on(self, ch: int, pitch: int, velocity: int) -> None:
        drum = ch == DRUM_CHANNEL
        timbre = timbre_for_program(self._programs[ch]) if not drum else FAMILY_TIMBRES[14]
        if len(self._voices) >= self.config.max_voices:
            self._voices.pop(0)
        self._voices.append(_Voice(ch, pitch, velocity, timbre, drum))

    def _note_off(self, ch: int, pitch: int) -> None:
        for v in self._voices:
            if v.channel == ch and v.pitch == pitch and v.released_at is None and not v.sustained:
                if self._sustain[ch]:
                    v.sustained = True
                else:
                    self._release(v)
                return

    def _release(self, v: _Voice) -> None:
        if v.released_at is None or v.sustained:
            v.sustained = False
            v.released_level = float(self._level(v, np.array([v.age / self.sample_rate]))[0])
            v.released_at = v.age

    # ----- audio out ----------------------------------------------------------------------
    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames of audio, shape (frames, 2), float32.

        Channel volume and expression scale a voice (squared, as GM's curves), pan places it
        (constant power), pitch bend sets its rate for this block (the phase stays continuous).
        """
        out = np.zeros((frames, 2), dtype=np.float64)
        sr = self.sample_rate
        n = np.arange(frames)
        alive: list[_Voice] = []
        for v in self._voices:
            ch = v.channel
            t = (v.age + n) / sr
            env = self._envelope(v, t)
            step = 2 * math.pi * v.freq * 2.0 ** (self._bend[ch] / 12) / sr
            phase = v.phase + step * n
            v.phase = (v.phase + step * frames) % (2 * math.pi)
            mono = (self._drum_wave(v, t) if v.drum else self._wave(v, phase, t)) * env * v.amp
            level = (self._volume[ch] / DEFAULT_VOLUME) ** 2 * (self._expression[ch] / 127) ** 2
            angle = max(self._pan[ch] - 1, 0) / 126 * math.pi / 2  # 64 is exactly centre
            out += mono[:, None] * (level * math.sqrt(2) * np.array([math.cos(angle), math.sin(angle)]))
            v.age += frames
            if not self._finished(v):
                alive.append(v)
        self._voices = alive
        return np.tanh(out * self.config.gain).astype(np.float32)

    def _wave(self, v: _Voice, phase: np.ndarray, t: np.ndarray) -> np.ndarray:
        """One voice's waveform at fundamental ``phase`` (radians); ``t`` seconds since note-on."""
        tb = v.timbre
        if tb.fm_ratio:
            index = tb.fm_index * v.bright * np.exp(-t / 0.8)
            return np.sin(phase + index * np.sin(tb.fm_ratio * phase))
        nyquist = self.sample_rate / 2  # partials are kept below it at the unbent pitch
        wave = np.zeros_like(t)
        for k, a in enumerate(tb.partials, start=1):
            if a and k * v.freq < nyquist:
                wave += a * (v.bright ** (k - 1)) * np.sin(k * phase)
        return wave

    def _drum_wave(self, v: _Voice, t: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(v.seed + v.age)
        noise = rng.uniform(-1, 1, t.shape)
        if v.pitch in (35, 36):  # kick: falling sine
            return np.sin(2 * math.pi * (50 * t + 60 * 0.04 * (1 - np.exp(-t / 0.04))))
        if v.pitch in (38, 40):  # snare: tone plus noise
            return 0.4 * np.sin(2 * math.pi * 190 * t) + 0.7 * noise
        if v.pitch in (42, 44, 46, 49, 51, 57, 59):  # hats/cymbals: bright noise
            return np.diff(noise, prepend=0.0)
        return 0.6 * np.sin(2 * math.pi * v.freq * t) + 0.3 * noise  # toms, blocks, clicks

    def _level(self, v: _Voice, t: np.ndarray) -> np.ndarray:
        """Envelope before release at times ``t`` (seconds since the note-on)."""
        tb = v.timbre
        if v.drum:
            return np.exp(-t / (0.35 if v.pitch in (35, 36, 49, 57) else 0.08))
        a, d, s = tb.attack, tb.decay, tb.sustain
        held = s * np.exp(-np.maximum(t - a - d, 0) / tb.tail) if tb.tail else np.full_like(t, s)
        level = np.where(t < a, t / a, np.where(t < a + d, 1 - (1 - s) * (t - a) / d, held))
        return level

    def _envelope(self, v: _Voice, t: np.ndarray) -> np.ndarray:
        level = self._level(v, t)
        if v.released_at is None or v.sustained:
            return level
        rel_t = t - v.released_at / self.sample_rate
        fade = np.clip(1 - rel_t / max(v.timbre.release, 1e-3), 0, 1)
        return np.where(rel_t < 0, level, v.released_level * fade)

    def _finished(self, v: _Voice) -> bool:
        sr = self.sample_rate
        if v.released_at is not None and not v.sustained:
            return (v.age - v.released_at) / sr > v.timbre.release
        if v.drum:
            return v.age / sr > 2.0
        return bool(v.timbre.tail) and v.age / sr > v.timbre.attack + v.timbre.decay + 8 * v.timbre.tail

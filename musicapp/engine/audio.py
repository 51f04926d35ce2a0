"""Sound from the built-in synth: offline rendering to a buffer or WAV, and live output.

Owns the choice of synth engine (FluidSynth with a system SoundFont where present, else the
numpy synth), sample-accurate offline rendering of a Song, WAV writing, and
``BuiltinSynthOutput``: an ``Output`` that feeds the synth from the scheduler thread and
plays it through sounddevice. MIDI messages are only queued by ``send``; the audio
callback applies them at the start of its next block (latency = one block).

Audio arrays have shape (frames, 2), float32; rates in Hz; times in seconds.
"""

from __future__ import annotations

import collections
import os
import wave
from pathlib import Path

import numpy as np

from musicapp.core.atomic import atomic_path
from musicapp.core.song import Song
from musicapp.engine.errors import AudioDeviceError, EngineError
from musicapp.engine.events import compile_song
from musicapp.engine.outputs import Message, Output
from musicapp.engine.synth import Synth, SynthConfig

ENGINES = ("auto", "own", "fluidsynth")


def make_synth(sample_rate: int = 48000, engine: str = "auto",
               soundfont: str | os.PathLike | None = None):
    """A synth object with ``handle(msg)`` / ``render(frames)``.

    ``engine``: "fluidsynth" (SoundFont, error if missing), "own" (numpy synth) or "auto"
    (FluidSynth when a SoundFont is present, else own). ``soundfont``: the .sf2 to load
    (default: ``fluid.find_soundfont()``); with "auto" a SoundFont that fails to load falls
    back to the own synth.
    """
    if engine not in ENGINES:
        raise EngineError(f"synth engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if not 8000 <= sample_rate <= 192000:
        raise EngineError(f"sample rate {sample_rate} Hz outside 8000..192000")
    from musicapp.engine import fluid

    if engine == "fluidsynth":
        return fluid.FluidSynthEngine(sample_rate, soundfont)
    if engine == "auto" and fluid.library_loads() and (soundfont or fluid.find_soundfont()):
        try:
            return fluid.FluidSynthEngine(sample_rate, soundfont)
        except AudioDeviceError:
            pass  # an unreadable SoundFont: the own synth still plays
    return Synth(SynthConfig(sample_rate=sample_rate))


def render_song(song: Song, sample_rate: int = 48000, engine: str = "auto",
                tail_s: float = 1.5) -> np.ndarray:
    """The whole ``song`` rendered sample-accurately; shape (frames, 2), float32.

    ``tail_s`` seconds after the last note-off let releases ring out.
    """
    synth = make_synth(sample_rate, engine)
    try:
        return _render(synth, song, sample_rate, tail_s)
    finally:
        getattr(synth, "close", lambda: None)()


def _render(synth, song: Song, sample_rate: int, tail_s: float) -> np.ndarray:
    events = compile_song(song)
    total = int(round((song.tick_to_seconds(events.end_tick) + tail_s) * sample_rate))
    out = np.zeros((max(total, 1), 2), dtype=np.float32)
    for msg in events.setup:
        synth.handle(msg)
    pos = 0
    for seconds, msg in zip(events.seconds, events.messages):
        frame = min(int(round(seconds * sample_rate)), total)
        while pos < frame:
            n = min(4096, frame - pos)
            out[pos:pos + n] = synth.render(n)
            pos += n
        synth.handle(msg)
    while pos < total:
        n = min(4096, total - pos)
        out[pos:pos + n] = synth.render(n)
        pos += n
    return out


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> None:
    """Write float audio (frames, channels) as 16-bit PCM WAV; replaces ``path`` atomically."""
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] not in (1, 2):
        raise EngineError(f"audio must have shape (frames, 1 or 2), got {data.shape}")
    pcm = (np.clip(data, -1.0, 1.0) * 32767).astype("<i2")
    target = Path(path)
    if target.is_dir():
        raise EngineError(f"cannot write {target}: it is a folder")
    with atomic_path(target, EngineError) as tmp, open(tmp, "wb") as fh, wave.open(fh, "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())


def default_output_device():
    """The sounddevice module, or ``AudioDeviceError`` when no output device exists."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as err:
        raise AudioDeviceError(f"no audio system (PortAudio) available: {err}") from None
    try:
        sd.query_devices(kind="output")
    except Exception:
        raise AudioDeviceError("no audio output device found; use 'musicapp render' to write "
                               "a WAV file, or play to a MIDI port") from None
    return sd


class BuiltinSynthOutput(Output):
    """The built-in synth playing live on the default (or given) audio device.

    ``stream_factory`` builds the audio stream (default ``sounddevice.OutputStream``); it
    is called with samplerate, channels, dtype, blocksize, device and callback.
    """

    def __init__(self, engine: str = "auto", sample_rate: int = 48000, blocksize: int = 512,
                 device: int | str | None = None, stream_factory=None,
                 soundfont: str | os.PathLike | None = None) -> None:
        super().__init__()
        if stream_factory is None:
            stream_factory = default_output_device().OutputStream
        self._synth = make_synth(sample_rate, engine, soundfont)
        self._pending: collections.deque[Message] = collections.deque()
        self.blocks_rendered = 0  # audio callbacks so far (for diagnostics)
        self.peak = 0.0  # highest absolute sample so far
        sf = getattr(self._synth, "soundfont", None)
        kind = f"FluidSynth, {sf.name}" if sf is not None else "own synth"
        self.name = f"built-in synth ({kind})"
        try:
            self._stream = stream_factory(samplerate=sample_rate, channels=2, dtype="float32",
                                          blocksize=blocksize, device=device,
                                          callback=self._callback)
            self._stream.start()
        except AudioDeviceError:
            raise
        except Exception as err:
            raise AudioDeviceError(f"cannot open the audio device: {err}") from None

    def _send(self, msg: Message) -> None:
        self._pending.append(msg)

    def _callback(self, outdata, frames, time_info, status) -> None:
        """PortAudio's thread: apply queued messages, then synthesise one block."""
        pending = self._pending
        while pending:
            self._synth.handle(pending.popleft())
        block = self._synth.render(frames)
        outdata[:] = block
        self.blocks_rendered += 1
        self.peak = max(self.peak, float(np.abs(block).max(initial=0.0)))

    def _close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass
        getattr(self._synth, "close", lambda: None)()

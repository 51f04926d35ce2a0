"""FluidSynth through ctypes: a SoundFont synth with the same face as ``engine.synth.Synth``.

Owns finding libfluidsynth and a General MIDI SoundFont on this system and driving them:
``handle(msg)`` takes raw MIDI, ``render(frames)`` returns float32 stereo of shape
(frames, 2). Nothing is downloaded; where the library or a SoundFont is missing,
``available()`` says so and callers fall back to the numpy synth.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from pathlib import Path

import numpy as np

from musicapp.engine.errors import AudioDeviceError

#: SoundFonts looked for, best first (after $MUSICAPP_SOUNDFONT and resources/soundfonts)
SYSTEM_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
                     "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2",
                     "/usr/share/sounds/sf2/*.sf2", "/usr/share/soundfonts/*.sf2")


def list_soundfonts() -> list[Path]:
    """Every SoundFont found, best first: ``$MUSICAPP_SOUNDFONT``, the app's own
    ``resources/soundfonts`` (the bundle ships one there), then the system's (Debian:
    ``fluid-soundfont-gm``, ``timgm6mb-soundfont``)."""
    from musicapp.paths import resources_dir

    env = os.environ.get("MUSICAPP_SOUNDFONT")
    patterns = ([env] if env else []) + [str(resources_dir() / "soundfonts" / "*.sf2"),
                                         *SYSTEM_SOUNDFONTS]
    found: list[Path] = []
    for pattern in patterns:
        for hit in sorted(glob.glob(pattern)):
            path = Path(os.path.realpath(hit))
            if path not in found and path.is_file() and path.stat().st_size > 0:
                found.append(path)
    return found


def find_soundfont() -> Path | None:
    """The best General MIDI SoundFont on this system (see ``list_soundfonts``), or None."""
    found = list_soundfonts()
    return found[0] if found else None


def _library_candidates() -> list[str]:
    """Where libfluidsynth may be: beside a frozen bundle's executable first, then the system."""
    names = ["libfluidsynth.so.3", "libfluidsynth.so.2", "libfluidsynth.3.dylib",
             "libfluidsynth.dylib", "libfluidsynth-3.dll"]
    out = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        out += [os.path.join(bundle, n) for n in names if os.path.exists(os.path.join(bundle, n))]
    return out + [ctypes.util.find_library("fluidsynth") or "", *names]


def _load_library():
    for candidate in filter(None, _library_candidates()):
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        vp = ctypes.c_void_p
        lib.new_fluid_settings.restype = vp
        lib.new_fluid_synth.restype = vp
        lib.new_fluid_synth.argtypes = [vp]
        lib.fluid_settings_setnum.argtypes = [vp, ctypes.c_char_p, ctypes.c_double]
        lib.fluid_settings_setint.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
        lib.fluid_synth_sfload.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
        for fn in ("fluid_synth_noteon", "fluid_synth_cc", "fluid_synth_key_pressure"):
            getattr(lib, fn).argtypes = [vp, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        for fn in ("fluid_synth_noteoff", "fluid_synth_program_change", "fluid_synth_pitch_bend",
                   "fluid_synth_channel_pressure"):
            getattr(lib, fn).argtypes = [vp, ctypes.c_int, ctypes.c_int]
        fp = ctypes.POINTER(ctypes.c_float)
        lib.fluid_synth_write_float.argtypes = [vp, ctypes.c_int, fp, ctypes.c_int, ctypes.c_int,
                                                fp, ctypes.c_int, ctypes.c_int]
        lib.delete_fluid_synth.argtypes = [vp]
        lib.delete_fluid_settings.argtypes = [vp]
        return lib
    return None


def available() -> bool:
    """True when libfluidsynth loads and a SoundFont is present."""
    return find_soundfont() is not None and library_loads()


def library_loads() -> bool:
    """True when libfluidsynth can be loaded (whether or not a SoundFont is present)."""
    return _load_library() is not None


class FluidSynthEngine:
    """FluidSynth with one SoundFont, rendering on demand (no audio driver of its own)."""

    def __init__(self, sample_rate: int = 48000, soundfont: str | os.PathLike | None = None,
                 gain: float = 0.5) -> None:
        lib = _load_library()
        sf = Path(soundfont) if soundfont else find_soundfont()
        if lib is None or sf is None or not sf.is_file():
            raise AudioDeviceError("FluidSynth needs libfluidsynth and a SoundFont (.sf2); "
                                   "none found (set MUSICAPP_SOUNDFONT)")
        self._lib = lib
        self.sample_rate = int(sample_rate)
        self.soundfont = sf
        self._settings = lib.new_fluid_settings()
        lib.fluid_settings_setnum(self._settings, b"synth.sample-rate", float(sample_rate))
        lib.fluid_settings_setnum(self._settings, b"synth.gain", float(gain))
        lib.fluid_settings_setint(self._settings, b"synth.reverb.active", 0)
        self._synth = lib.new_fluid_synth(self._settings)
        if lib.fluid_synth_sfload(self._synth, str(sf).encode(), 1) < 0:
            self.close()
            raise AudioDeviceError(f"FluidSynth could not load the SoundFont {sf}")

    def handle(self, msg) -> None:
        """Apply one raw MIDI message (note on/off, program change, control change, pitch bend,
        channel and key pressure)."""
        if not msg or self._synth is None:
            return
        kind, ch = msg[0] & 0xF0, msg[0] & 0x0F
        lib, syn = self._lib, self._synth
        if kind == 0x90 and len(msg) == 3 and msg[2] > 0:
            lib.fluid_synth_noteon(syn, ch, msg[1], msg[2])
        elif kind in (0x80, 0x90) and len(msg) >= 2:
            lib.fluid_synth_noteoff(syn, ch, msg[1])
        elif kind == 0xC0 and len(msg) >= 2:
            lib.fluid_synth_program_change(syn, ch, msg[1])
        elif kind == 0xB0 and len(msg) == 3:
            lib.fluid_synth_cc(syn, ch, msg[1], msg[2])
        elif kind == 0xE0 and len(msg) == 3:
            lib.fluid_synth_pitch_bend(syn, ch, msg[1] | msg[2] << 7)
        elif kind == 0xD0 and len(msg) >= 2:
            lib.fluid_synth_channel_pressure(syn, ch, msg[1])
        elif kind == 0xA0 and len(msg) == 3:
            lib.fluid_synth_key_pressure(syn, ch, msg[1], msg[2])

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames, shape (frames, 2), float32."""
        out = np.zeros((frames, 2), dtype=np.float32)
        if self._synth is None:
            return out
        fp = ctypes.POINTER(ctypes.c_float)
        base = out.ctypes.data_as(fp)
        right = ctypes.cast(ctypes.addressof(base.contents) + 4, fp)
        self._lib.fluid_synth_write_float(self._synth, frames, base, 0, 2, right, 0, 2)
        return out

    def close(self) -> None:
        if getattr(self, "_synth", None):
            self._lib.delete_fluid_synth(self._synth)
            self._synth = None
        if getattr(self, "_settings", None):
            self._lib.delete_fluid_settings(self._settings)
            self._settings = None

    def __del__(self) -> None:
        self.close()

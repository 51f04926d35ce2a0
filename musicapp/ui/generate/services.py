"""What the Generate panel needs from the models, injected by the composition root.

Owns the small contract between the UI and the Qt-free generation services: which models
exist for each job, how to open one on a device, and an optional warm-up (import torch) run
on the worker thread. The UI never imports ``musicapp.ml`` or torch; ``musicapp.assist``
builds the real ``GenerateServices`` and tests may build theirs around tiny real models.

An opened "lstm" service must offer ``continue_melody(seed_notes, bars=, variations=,
temperature=, top_p=, key=, pitch_range=, random_seed=, scale_mask=, meters=, start_tick=,
cancel=, progress=, ppq=, steering=)``; an "infill" service ``fill(melody, start_tick, end_tick,
...)`` (:class:`InfillService`); a "vae" service ``vary(phrase, amount, variations, meters=,
seed=, cancel=)`` and ``interpolate(a, b, steps, meters=, start_a=, start_b=, cancel=)``.
All return lists of candidate melodies, each a list of ``Note`` in ticks. ``steering`` is a
plain mapping (``STEERING_KEYS``: density notes per bar or None, rhythm 'seed'/'free',
repeat 0..1 or None), so the UI never needs the ML types.
A "harmony" service is a ``HarmonyService`` (chord progressions for a melody) and an
"accompany" service an ``AccompanyService`` (bass and keys tracks for the chord track).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from musicapp.core.song import Key, Note, TimeSignature

if TYPE_CHECKING:
    from musicapp.core.accompany import AccompanyOptions
    from musicapp.core.chords import Chord
    from musicapp.core.song import Song, Track

LSTM = "lstm"
VAE = "vae"
INFILL = "infill"
HARMONY = "harmony"
ACCOMPANY = "accompany"
STEERING_KEYS = ("density", "rhythm", "repeat")
#: cancel flag (a threading.Event or a callable) and progress(done, total): one state for every service
Cancel = Any
ProgressFn = Callable[[int, int], None] | None


class InfillService(Protocol):
    """What the Infill job calls: new notes for ``[start_tick, end_tick)`` from both sides."""

    def fill(self, melody: Sequence[Note], start_tick: int, end_tick: int, variations: int = 1,
             temperature: float = 1.0, top_p: float = 0.95, key: Key | str | None = "auto",
             pitch_range: tuple[int, int] | None = None, random_seed: int = 0, scale_mask: bool = True,
             meters: Sequence[TimeSignature] = ..., steering: Mapping[str, Any] | None = None,
             cancel: Cancel = None, progress: ProgressFn = None, ppq: int = ...) -> list[list[Note]]: ...
#: shown name -> device string handed to the services ("auto": CUDA/MPS if present).
DEVICES: dict[str, str] = {"Auto": "auto", "CPU": "cpu", "GPU": "cuda"}


class HarmonyService(Protocol):
    """Proposes chord progressions for a melody (``ml.harmony.Harmonizer``)."""

    def harmonize(self, melody: Sequence["Note"], song: "Song | None" = None, *, key: "Key | None" = None,
                  per_bar: int | str = "auto", variations: int = 4, temperature: float = 0.8,
                  style: str = "simple", locked: Sequence["Chord"] = (), seed: int | None = None,
                  cancel: Any = None) -> list[tuple["Chord", ...]]:
        """``variations`` progressions (each sorted Chords in ticks), best first."""


class AccompanyService(Protocol):
    """Writes bass and keys tracks that follow a song's chord track (``core.accompany.Accompanist``)."""

    def accompany(self, song: "Song", options: "AccompanyOptions", start: int = 0, end: int | None = None, *,
                  variations: int = 1, seed: int = 0, cancel: Any = None) -> list[tuple["Track", ...]]:
        """``variations`` candidates, each a tuple of new tracks, best first."""


@dataclass
class GenerateServices:
    """Factories for the generation services.

    ``models(kind)`` lists model names for ``kind`` ("lstm" or "vae"); ``open(kind, name,
    device)`` builds an (unloaded) service; ``warmup()`` prepares the ML runtime (called once,
    on the worker thread); ``describe(service)`` says where a loaded service runs.
    """

    open: Callable[[str, str, str], Any]
    models: Callable[[str], list[str]]
    warmup: Callable[[], None] | None = None
    describe: Callable[[Any], str] = field(default=lambda service: "")

"""Composition-root part for the jam: finds the model and turns it into the engine's callable.

Owns the join between ``musicapp.ml`` and ``musicapp.engine.jam`` (which never import each
other): ``find_model`` resolves ``--model NAME`` (a shipped/installed checkpoint name in the
models folder, or a checkpoint path) and ``jam_generate`` wraps ``MelodyGenerator`` as the
``Generate`` callable a ``JamSession`` calls from its generation thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from musicapp.core.errors import MusicappError

#: candidate answers sampled per request (one batch); the session keeps one that is not a copy
VARIATIONS = 4
#: sampling temperature of jam answers (a little tamer than the editor's default 1.0)
TEMPERATURE = 0.9


class ModelNotFound(MusicappError):
    """The checkpoint ``--model`` named cannot be loaded as a melody LSTM."""


def find_model(name: str | None) -> Path:
    """The LSTM checkpoint (``.json``) for ``--model``: None for the shipped one, a checkpoint
    path, or a model name (the user's fine-tuned models first, then the shipped ones), as
    every ``--model`` option resolves it (``ml.user_models.resolve_model``)."""
    from musicapp.ml.user_models import resolve_model

    return resolve_model(name, "lstm")


def jam_generate(checkpoint: Path, device: str = "cpu", threads: int = 1):
    """A loaded ``Generate`` callable for ``engine.jam`` backed by the LSTM at ``checkpoint``."""
    import torch

    from musicapp.ml.generate import MelodyGenerator

    if threads:
        torch.set_num_threads(threads)
    generator = MelodyGenerator(checkpoint, device=device)
    try:
        generator.load()
    except MusicappError:
        raise
    except Exception as err:  # a damaged checkpoint: one line, not a traceback
        raise ModelNotFound(f"cannot load model {checkpoint}: {err}") from None

    def generate(request, cancel: threading.Event):
        # register steering: a call far below or above the melodies the model knows is
        # continued whole octaves nearer them and moved back (low calls got silent answers)
        return generator.continue_melody(
            request.seed, bars=request.bars, variations=VARIATIONS, temperature=TEMPERATURE,
            key=request.key, pitch_range=request.pitch_range, random_seed=request.random_seed,
            meters=request.meters, start_tick=request.start_tick, cancel=cancel, ppq=request.ppq,
            pitch_classes=request.pitch_classes, steering={"register": True})

    generate(_warmup_request(), threading.Event())  # first call pays torch's one-off costs
    return generate


def _warmup_request():
    from musicapp.core.song import Note, TimeSignature
    from musicapp.engine.jam_parts import JamRequest

    seed = tuple(Note(i * 240, 60 + (2 * i) % 12, 240) for i in range(8))
    return JamRequest(seed, 1920, 2, None, (55, 79), (TimeSignature(0),), 480, 0)


class EngineJam:
    """The editor's ``JamService``: a ``JamSession`` on the window's transport and open MIDI
    input (``app.EngineInputs``; its thru already echoes the player), answered by the shipped
    LSTM. ``prepare`` loads the model in a thread of its own before the transport starts:
    loading holds the GIL for long stretches, which would delay the count-in's clicks."""

    def __init__(self, transport, inputs, model: str | None = None) -> None:
        self.transport, self.inputs, self.model = transport, inputs, model
        self._generate = None
        self._session = None
        self._last: list = []

    @property
    def loaded(self) -> bool:
        return self._generate is not None

    def prepare(self, done) -> None:
        """Load the model in the background; then ``done(error message or "")`` (that thread)."""
        checkpoint = find_model(self.model)

        def load() -> None:
            try:
                if self._generate is None:
                    self._generate = jam_generate(checkpoint)
            except Exception as err:
                done(f"Jam: {err}")
                return
            done("")

        threading.Thread(target=load, name="musicapp-jam-load", daemon=True).start()

    def start(self, bars: int, on_pause: bool, answer_channel: int, program: int, listener) -> None:
        from musicapp.engine.jam import JamConfig, JamSession

        source = self.inputs.source
        if source is None:
            raise MusicappError("Choose a MIDI input first (transport bar)")
        if self._generate is None:
            raise MusicappError("the jam model is not loaded yet")
        self.stop()
        self.transport.send_now((0xC0 | answer_channel, program))
        config = JamConfig(bars=bars, on_pause=on_pause, answer_channel=answer_channel)
        self._session = JamSession(self.transport, source, self._generate, config,
                                   listener=lambda e: listener(e.kind, e.message))
        self._session.start()

    def stop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.stop()
            self._last = session.exchanges()

    def exchanges(self) -> list:
        """The running jam's exchanges (after a stop: the last jam's, for landing its take)."""
        session = self._session
        return session.exchanges() if session is not None else list(self._last)

"""The Generate controller: requests, candidates shown as ghost notes, accept/dismiss, live re-seed.

Owns the assistant's state on the main thread: the options the panel edits, the current
session (seed, candidates, which one is shown) and the single ``InferenceWorker``. A request
copies the seed (immutable Notes) into a job closure; the worker runs it and the result
arrives queued. Only the newest request's result is shown. While candidates are shown (or
with ``options.live``), every song change is debounced and diffed against the seed track
(``seed.follow_edit``): if a seed note moved, appeared or vanished, the continuation is
regenerated with the same random seed, so the ghost notes follow the user's edits.
Accepting adds the shown candidate (Vary: replaces the phrase) as ONE undo step. The harmony
modes (Harmonise, Accompany; rules in ``harmony_modes``) use the same flow: their candidates
are chord progressions (ghost chords in the chord lane, block chords as ghost notes) or tracks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, QTimer, Signal

from musicapp.core import edits
from musicapp.core.scales import ScaleError, detect_key
from musicapp.core.song import Key, Note, Song
from musicapp.ui.document import Document
from musicapp.ui.generate.audition import Audition
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate import harmony_modes as hm
from musicapp.ui.generate.harmony_modes import ACCOMPANY_MODE, HARMONISE, HARMONY_MODES
from musicapp.ui.generate.services import ACCOMPANY, HARMONY, INFILL, LSTM, VAE, GenerateServices
from musicapp.ui.generate import infill_range
from musicapp.ui.generate.jobs import CONTINUE, INFILL_MODE, INTERPOLATE, VARY, make_job, refs_of
from musicapp.ui.generate.worker import InferenceWorker, ModelKey, Request

MODES = (CONTINUE, INFILL_MODE, VARY, INTERPOLATE, HARMONISE, ACCOMPANY_MODE)
DEBOUNCE_MS = 15


@dataclass
class GenerateOptions:
    """What the panel sets. ``key`` None = Auto (the song's key, else detected from the seed);
    ``seed_track`` None = Auto (the active track, or another one when it is empty); ticks and
    MIDI pitches as named. ``key``, ``key_lock`` and ``seed_track`` belong to the document
    (``reset_for_document``)."""

    mode: str = CONTINUE
    bars: int = 2
    variations: int = 4
    temperature: float = 1.0
    top_p: float = 0.95
    key_lock: bool = True
    chord_lock: bool = False  # Continue/Vary favour the chord track's tones on the beats
    key: Key | None = None
    pitch_low: int = 21  # A0..C8, the piano: a seed's own register is continued inside it
    pitch_high: int = 108
    seed_track: int | None = None
    swap_ab: bool = False  # Interpolate from the later phrase to the earlier one
    amount: float = 0.5
    live: bool = False
    per_bar: int | str = "auto"  # Harmonise: chords a bar (1, 2, 4) or "auto"
    harmony_style: str = "simple"  # Harmonise: "simple" triads or "rich"
    keep_chords: bool = False  # Harmonise: chords already in the span are kept (locked)
    accompany_style: str = "block"  # Accompany: a core.accompany_styles name
    device: str = "cpu"
    density: float | None = None  # steering: notes per bar (None: as the model likes)
    rhythm: str = "free"  # steering: "seed" keeps the seed's onset grid and shortest value
    repeat: float = 0.5  # steering: 0 avoids reusing earlier bars, 0.5 as trained, 1 reuses them
    models: dict[str, str] = field(default_factory=lambda: {LSTM: "lstm", VAE: "vae_2bar", INFILL: "infill",
                                                            HARMONY: "harmony", ACCOMPANY: "built-in"})

    def model_key(self, kind: str) -> ModelKey:
        return (kind, self.models[kind], self.device)

    def steering(self) -> dict:
        """The steering options as the services take them (``services.STEERING_KEYS``)."""
        return {"density": self.density, "rhythm": self.rhythm, "repeat": self.repeat}


@dataclass
class Session:
    """One round of candidates: what was asked, from which seed, and what came back."""

    mode: str
    seed: seeds.Seed
    random_seed: int
    track_notes: tuple[Note, ...]  # the seed track when the seed was last computed (for diffs)
    candidates: list[tuple[Note, ...]] = field(default_factory=list)
    index: int = 0
    offset: int = 0  # ticks added to the service's notes (Interpolate: after phrase B)

    @property
    def current(self) -> tuple[Note, ...]:
        return self.candidates[self.index] if self.candidates else ()


class GenerateController(QObject):
    """Joins the document and piano roll with the generation services through one worker."""

    changed = Signal()  # session, busy state or candidate index changed
    message = Signal(str, bool)  # text, is an error
    progress = Signal(int, int)  # done, total steps of the running request
    model_status = Signal(str, str, bool)  # kind, text, ok
    ghosts_shown = Signal(int)  # rid whose candidates are now ghost notes
    ghost_chords = Signal(object)  # tuple of Chords to show in the chord lane (() = none)

    def __init__(self, document: Document, services: GenerateServices, playback=None,
                 cursor=lambda: 0, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.services = services
        self.playback = playback
        self.cursor = cursor  # () -> edit cursor tick
        self.time_range = lambda: None  # () -> the ruler's (start, end) ticks or None (set by the window)
        self.options = GenerateOptions()
        self.session: Session | None = None
        self.busy = False
        self.last_seconds = 0.0
        self._rid = 0
        self._shown: tuple[Note, ...] = ()
        self._audition = Audition(document, playback, self)
        self.worker = InferenceWorker(services.open, services.warmup, services.describe)
        sig = self.worker.signals
        sig.finished.connect(self._on_finished)
        sig.failed.connect(self._on_failed)
        sig.cancelled.connect(self._on_cancelled)
        sig.progress.connect(self._on_progress)
        sig.model_status.connect(lambda key, text, ok: self.model_status.emit(key[0], text, ok))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._reseed)
        self._last_preview = None
        self._live_random = 0  # random seed of live re-seeding without candidates
        self._preview_seed: seeds.Seed | None = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.timeout.connect(self._request_preview)
        document.song_changed.connect(self._on_song_changed)
        document.ghosts_changed.connect(self._on_ghosts_changed)

    # ----- verbs ------------------------------------------------------------------------------
    def generate(self) -> None:
        """Run the current mode (the panel's main button)."""
        {CONTINUE: self.continue_phrase, VARY: self.vary_selection, INTERPOLATE: self.interpolate_selection,
         INFILL_MODE: self.infill_range, HARMONISE: self.harmonise, ACCOMPANY_MODE: self.accompany}[
            self.options.mode]()

    def infill_range(self) -> bool:
        """Regenerate the time range (ruler loop, else the selected notes' span) of the active
        track from the notes on both sides; candidates replace the notes starting in it."""
        return self._start(INFILL_MODE, self._infill_seed)

    def _infill_seed(self, d: Document) -> seeds.Seed:
        start, end = infill_range.pick_range(d.song, self.time_range(), d.selection)
        sel_tracks = {t for t, _ in d.selection}
        track = next(iter(sel_tracks)) if len(sel_tracks) == 1 else d.active_track
        return infill_range.infill_seed(d.song, track, start, end)

    def continue_phrase(self) -> bool:
        """Continue the selection (or the notes before the cursor); candidates follow the seed."""
        return self._start(CONTINUE, self._continue_seed)

    def _continue_seed(self, d: Document) -> seeds.Seed:
        source = self.options.seed_track
        if source is not None and not 0 <= source < len(d.song.tracks):
            source = None
        return seeds.pick_seed(d.song, d.active_track, d.selection, self.cursor(), source)

    def seed_for_mode(self) -> seeds.Seed | None:
        """The seed the current mode reads now (shown before generating), None if there is none."""
        d = self.document
        try:
            if self.options.mode == CONTINUE:
                return self._continue_seed(d)
            if self.options.mode == INFILL_MODE:
                return self._infill_seed(d)
            if self.options.mode == HARMONISE:
                return hm.harmony_seed(d.song, d.selection, d.active_track)
            if self.options.mode == ACCOMPANY_MODE:
                return hm.accompany_seed(d.song, d.selection, d.active_track)
            seed = seeds.selected_phrase(d.song, d.selection, d.active_track)
            if self.options.mode == INTERPOLATE:
                seeds.split_phrases(seed.notes)
            return seed
        except (seeds.SeedError, IndexError):
            return None

    def reset_for_document(self) -> None:
        """Another song was opened: drop candidates; key lock and seed source go back to Auto."""
        self.dismiss()
        self.set_options(key=None, key_lock=True, seed_track=None)
        self.changed.emit()

    def vary_selection(self) -> bool:
        """Variations of the selected phrase with the VAE (shown over it; accept replaces it)."""
        return self._start(VARY, lambda d: seeds.selected_phrase(d.song, d.selection, d.active_track))

    def interpolate_selection(self) -> bool:
        """Phrases between the two selected phrases (VAE), shown after the second one."""
        def pick(d: Document) -> seeds.Seed:
            seed = seeds.selected_phrase(d.song, d.selection, d.active_track)
            seeds.split_phrases(seed.notes)  # refuse early, with the message
            return seed
        return self._start(INTERPOLATE, pick)

    def harmonise(self) -> bool:
        """Chord progressions for the selected melody (or the active track): ghost chords."""
        return self._start(HARMONISE, lambda d: hm.harmony_seed(d.song, d.selection, d.active_track))

    def accompany(self) -> bool:
        """Bass and keys for the chord track (in the selection's bars): ghost notes."""
        return self._start(ACCOMPANY_MODE, lambda d: hm.accompany_seed(d.song, d.selection, d.active_track))

    def detect_chords(self) -> bool:
        """Chords detected from the selection (or the active track) into the chord track: one
        undo step, no candidates."""
        d = self.document
        try:
            edit, summary = hm.detect_edit(d.song, d.selection, d.active_track)
        except seeds.SeedError as err:
            self.message.emit(str(err), True)
            return False
        if d.apply("Detect chords", edit):
            self.message.emit(summary, False)
        return True

    def next_candidate(self, step: int = 1) -> None:
        s = self.session
        if s is not None and s.candidates:
            s.index = (s.index + step) % len(s.candidates)
            self._show()

    def previous_candidate(self) -> None:
        self.next_candidate(-1)

    def accept(self) -> bool:
        """Put the shown candidate into the song as one undo step; False if nothing was shown."""
        s = self.session
        if s is None or not s.current:
            return False
        notes, track = s.current, s.seed.dest
        if s.mode in HARMONY_MODES:  # chords or whole tracks, not notes of the seed track
            self._end_session()
            self.document.apply(f"Accept {s.mode.lower()} candidate", hm.accept_edit(s.mode, notes, s.seed.region))
            self.document.clear_ghost_notes()
            self.message.emit(f"Accepted {hm.describe(s.mode, notes)}", False)
            return True
        replaced = s.seed.notes if s.mode == VARY else ()
        clashes = seeds.overlapping(notes, self.document.song.tracks[track].notes, replaced)
        self._end_session()

        def edit(song: Song):
            if s.mode == INFILL_MODE:  # the range's notes go, nothing outside it changes
                return infill_range.replace_range(song, track, *s.seed.region, notes)
            if replaced:
                refs = refs_of(song, track, replaced)
                song = edits.remove_notes(song, refs)
            return edits.add_notes(song, track, notes)

        self.document.apply(f"Accept {s.mode.lower()} candidate", edit)
        self.document.clear_ghost_notes()
        if clashes:  # said in the warning colour: an overlap should not go unnoticed
            self.message.emit(f"Accepted {len(notes)} notes; {clashes} overlap notes already there", True)
        else:
            self.message.emit(f"Accepted {len(notes)} notes", False)
        return True

    def dismiss(self) -> None:
        """Drop all candidates and cancel the running request."""
        self._end_session()
        self.document.clear_ghost_notes()

    def audition(self) -> None:
        """Play the song with the shown candidate from the seed's bar up to the candidate's end."""
        s = self.session
        if s is None or not s.current:
            self.message.emit("No candidate to audition", True)
            return
        preview = self.preview_song()
        end = (max((n.end for n in self._shown), default=s.seed.region[1]) if s.mode in HARMONY_MODES
               else max(n.end for n in s.current))
        error = self._audition.play(preview, seeds.bar_floor(preview, s.seed.first_tick), end)
        if error:
            self.message.emit(error, True)

    def preview_song(self) -> Song:
        """The song as it would be with the shown candidate accepted (for auditioning)."""
        s = self.session
        song = self.document.song
        if s is None or not s.current:
            return song
        if s.mode == INFILL_MODE:
            return infill_range.replace_range(song, s.seed.dest, *s.seed.region, s.current).song
        if s.mode in HARMONY_MODES:
            return hm.preview_song(song, s.mode, s.current, s.seed.region)
        if s.mode == VARY:
            song = edits.remove_notes(song, refs_of(song, s.seed.track, s.seed.notes))
        return edits.add_notes(song, s.seed.dest, s.current).song

    def detected_key(self, seed: seeds.Seed | None = None) -> Key | None:
        """Key 'Auto' stands for: the song's key when it has one, else the key detected from
        ``seed`` (default: the Continue seed now), None for an empty seed."""
        d = self.document
        if d.song.key is not None:
            return d.song.key
        if seed is None:
            try:
                seed = self._continue_seed(d)
            except seeds.SeedError:
                return None
        try:
            return detect_key(seed.notes) if seed.notes else None
        except ScaleError:  # drums only: no key
            return None

    def set_options(self, **changes) -> None:
        """Change options; model or device changes drop loaded models (reloaded lazily)."""
        old = self.options
        self.options = replace(old, **changes)
        if self.options.device != old.device or self.options.models != old.models:
            self.worker.forget_models()
        if self.options.live and not old.live:
            self._live_random = random.randrange(1 << 30)
        self.changed.emit()  # the panel and the seed shown on the roll follow

    def preload(self) -> None:
        """Load the Continue model on the worker now (imports torch there), so the first
        request does not pay for it; the result is only a status line. ``app.run_app`` calls it
        1.5 s after the window shows: importing torch holds the GIL for a few hundred ms (a
        one-off main-thread stall), better while the user looks than in their first request."""
        if not self.busy and self.session is None:
            self._rid += 1
            self.worker.submit(Request(self._rid, self.options.model_key(LSTM), lambda svc, cancel, progress: [],
                                       "preload"))

    def shutdown(self) -> bool:
        """Cancel and stop the worker thread (window closing); True if it ended."""
        self._debounce.stop()
        return self.worker.close()

    # ----- requests ---------------------------------------------------------------------------
    def _start(self, mode: str, pick, random_seed: int | None = None) -> bool:
        try:
            seed = pick(self.document)
        except seeds.SeedError as err:
            self.message.emit(str(err), True)
            return False
        song = self.document.song
        rs = random.randrange(1 << 30) if random_seed is None else random_seed
        if self.options.mode != mode:  # the Mode box shows what runs (menu keys pick a mode too)
            self.set_options(mode=mode)
        self.session = Session(mode, seed, rs, song.tracks[seed.track].notes)
        self._request()
        return True

    def _request(self, seed: seeds.Seed | None = None) -> None:
        """Submit the session's request; ``seed`` overrides its seed (a drag in progress)."""
        s = self.session
        assert s is not None
        song, o = self.document.song, self.options
        asked = s if seed is None else replace(s, seed=seed)
        job, kind, s.offset = make_job(asked, song, o, self._key_for(asked.seed))
        self._rid += 1
        self.busy = True
        self.worker.submit(Request(self._rid, o.model_key(kind), job, s.mode.lower()))
        self.changed.emit()

    def _key_for(self, seed: seeds.Seed) -> Key | None:
        return self.options.key if self.options.key is not None else self.detected_key(seed)

    def _on_finished(self, rid: int, candidates, seconds: float) -> None:
        s = self.session
        if rid != self._rid:
            return
        self.busy = False
        if s is None:  # dismissed or accepted while it ran, or a preload
            self.changed.emit()
            return
        song = self.document.song
        if max(s.seed.track, s.seed.dest) >= len(song.tracks):
            self._end_session()
            return
        if s.mode in HARMONY_MODES:
            s.candidates = [hm.clip_candidate(s.mode, c, s.seed.region) for c in candidates]
        else:
            channel = song.tracks[s.seed.dest].channel
            vel = seeds.seed_velocity(s.seed.notes)
            s.candidates = [seeds.fit_candidate(c, channel, vel, s.offset) for c in candidates]
        s.index = min(s.index, max(0, len(s.candidates) - 1))
        self.last_seconds = seconds
        self._show()
        self.ghosts_shown.emit(rid)
        n = len(s.candidates)
        self.message.emit(f"{n} candidate{'s' * (n != 1)} in {seconds * 1000:.0f} ms — Tab cycles, "
                          "Return accepts, Esc dismisses", False)

    def _on_failed(self, rid: int, text: str) -> None:
        if rid == self._rid:
            self.busy = False
            if self.session is not None and not self.session.candidates:
                self.session = None
            self.message.emit(text, True)
            self.changed.emit()

    def _on_cancelled(self, rid: int) -> None:
        if rid == self._rid:  # cancelled without a newer request (dismiss, close)
            self.busy = False
            self.changed.emit()

    def _on_progress(self, rid: int, done: int, total: int) -> None:
        if rid == self._rid:
            self.progress.emit(done, total)

    # ----- ghosts and session -----------------------------------------------------------------
    def _show(self) -> None:
        s = self.session
        assert s is not None
        if s.mode in HARMONY_MODES:
            self._shown = hm.ghost_notes(self.document.song, s.mode, s.current, s.seed.dest)
        else:
            self._shown = tuple(sorted(s.current))
        self.ghost_chords.emit(tuple(s.current) if s.mode == HARMONISE else ())
        replaces = ()
        if s.mode == INFILL_MODE and s.seed.dest < len(self.document.song.tracks):
            replaces = infill_range.inside(self.document.song.tracks[s.seed.dest].notes, *s.seed.region)
        self.document.set_ghost_notes(self._shown, s.seed.dest, replaces)
        self.changed.emit()

    def _end_session(self) -> None:
        self.session = None
        self._shown = ()
        self.ghost_chords.emit(())
        self._debounce.stop()
        self._preview_timer.stop()
        if self.busy:
            self.worker.cancel()
        self.changed.emit()

    def _on_ghosts_changed(self) -> None:
        if self.session is not None and self.document.ghost_notes != self._shown:
            self._end_session()  # cleared or accepted elsewhere (menu, new document)

    def _on_song_changed(self) -> None:
        """Re-seed soon: on the next loop turn when idle (leading edge), else debounced."""
        if self.session is not None or self.options.live:
            idle = not self.busy and not self._debounce.isActive()
            self._debounce.setInterval(0 if idle else DEBOUNCE_MS)
            self._debounce.start()

    def _reseed(self) -> None:
        """Debounced: regenerate if the last edits touched the seed."""
        s, song = self.session, self.document.song
        if s is None:
            if self.options.live and not self.busy:  # one random seed while live: stable ghosts
                self._start(CONTINUE, self._continue_seed, self._live_random)
            return
        if s.mode in HARMONY_MODES:
            return  # their seeds do not follow edits
        if max(s.seed.track, s.seed.dest) >= len(song.tracks):
            self.dismiss()
            return
        after = song.tracks[s.seed.track].notes
        if s.mode == INFILL_MODE:  # an edit on either side regenerates; inside, the replaced notes update
            new = infill_range.follow_infill(s.seed, after)
            s.track_notes = after
            if new is None:
                if s.candidates:
                    self._show()
                return
            s.seed = new
            self._request()
            return
        bar = song.meter_at(s.seed.start).bar_ticks(song.ppq)
        new = seeds.follow_edit(s.seed, s.track_notes, after, song.ppq, bar)
        s.track_notes = after
        if new is None:
            return
        if s.mode != CONTINUE and not new.notes:
            self.dismiss()
            return
        if s.mode == INTERPOLATE:
            try:
                seeds.split_phrases(new.notes)
            except seeds.SeedError as err:
                self.message.emit(str(err), True)
                return
        s.seed = new
        self._request()

    def follow_preview(self, preview) -> None:
        """A tool is dragging or resizing notes (``canvas.preview``, not yet an edit): if seed
        notes are among them, regenerate for where they are now, so the ghosts follow the hand.
        The release then commits the edit and the normal re-seed settles the result."""
        s = self.session
        if s is None or s.mode != CONTINUE or preview is self._last_preview:
            return
        self._last_preview = preview
        new = seeds.follow_drag(s.seed, s.track_notes, self.document.song, preview)
        if new is not None and new.notes:
            self._preview_seed = new
            self._preview_timer.setInterval(0 if not self.busy else DEBOUNCE_MS)
            self._preview_timer.start()

    def _request_preview(self) -> None:
        if self.session is not None and self._preview_seed is not None:
            self._request(self._preview_seed)
        self._preview_seed = None

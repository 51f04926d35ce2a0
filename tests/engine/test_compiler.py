"""Edits reach the engine without compiling on the caller's thread; bursts compile once."""

from __future__ import annotations

import random
import threading
import time

from musicapp.core.song import Note, Song, Track
from musicapp.engine import events as events_mod
from musicapp.engine.compiler import CompileJob, SnapshotCompiler, compile_job, note_spans, sounds_at
from musicapp.engine.events import EventOptions
from musicapp.engine.outputs import RecordingOutput
from musicapp.engine.transport import Transport


def _song(pitch: int, n: int = 8) -> Song:
    return Song(tracks=(Track(notes=tuple(Note(i * 240, pitch, 240) for i in range(n))),))


def test_set_song_compiles_on_the_engines_compile_thread_not_the_callers(monkeypatch):
    threads = []
    original = events_mod.compile_song

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr("musicapp.engine.compiler.compile_song", spy)
    with Transport(RecordingOutput()) as tr:
        tr.set_song(_song(60))
        assert tr.wait_compiled()
    assert threads == ["musicapp-compile"]


def test_a_burst_of_submissions_compiles_the_newest_and_skips_the_middle():
    gate, delivered = threading.Event(), []

    def slow_compile(job):
        gate.wait(5)
        return compile_job(job)

    comp = SnapshotCompiler(lambda c: delivered.append(c.events.song), compile_fn=slow_compile)
    try:
        songs = [_song(40 + i) for i in range(30)]
        for s in songs:
            comp.submit(CompileJob(s, EventOptions(), None))
        time.sleep(0.05)
        gate.set()
        assert comp.flush(5)
        assert delivered[-1] is songs[-1]
        assert comp.compiles <= 2 and len(delivered) == comp.compiles
    finally:
        comp.close()


def test_play_right_after_an_edit_plays_the_edited_song():
    rec = RecordingOutput()
    with Transport(rec, _song(60)) as tr:
        for pitch in range(61, 72):
            tr.set_song(_song(pitch, 2))
        tr.play(0)
        time.sleep(0.15)
        tr.stop()
    ons = {m[1] for _, m in rec.messages if m[0] & 0xF0 == 0x90 and m[2] > 0}
    assert ons == {71}


def test_a_failing_compile_is_reported_and_the_thread_keeps_working():
    errors, delivered = [], []

    def compile_fn(job):
        if job.song.tracks[0].notes[0].pitch == 13:
            raise ValueError("broken")
        return compile_job(job)

    comp = SnapshotCompiler(delivered.append, errors.append, compile_fn)
    try:
        comp.submit(CompileJob(_song(13), EventOptions(), None))
        assert comp.flush(5)
        comp.submit(CompileJob(_song(60), EventOptions(), None))
        assert comp.flush(5)
    finally:
        comp.close()
    assert [str(e) for e in errors] == ["broken"] and len(delivered) == 1


def test_note_spans_answer_which_keys_sound_like_a_walk_over_every_note():
    rng = random.Random(5)
    notes = tuple(Note(rng.randrange(0, 4000), rng.choice((60, 62, 64)), rng.randrange(1, 900))
                  for _ in range(300))
    song = Song(tracks=(Track(notes=notes), Track(channel=1, notes=notes[:50])))
    spans = note_spans(song)
    for tick in range(0, 5000, 37):
        for key in ((0, 60), (0, 62), (0, 64), (1, 60), (1, 64), (0, 70)):
            track = song.tracks[key[0]]
            expected = any(n.pitch == key[1] and n.start <= tick < n.end for n in track.notes)
            assert sounds_at(spans, key, tick) == expected, (key, tick)


def test_cached_track_rows_compile_the_same_events_as_a_fresh_compile():
    from musicapp.engine.compiler import TrackRowCache
    from musicapp.engine.events import compile_song

    rng = random.Random(2)
    tracks = tuple(Track(channel=c, notes=tuple(Note(rng.randrange(0, 8000), rng.randrange(40, 90),
                                                     rng.randrange(1, 500)) for _ in range(200)))
                   for c in range(3))
    song = Song(tracks=tracks)
    cache = TrackRowCache()
    compile_job(CompileJob(song, EventOptions(), None), cache)
    edited = song.with_track(1, tracks[1].with_notes(n.moved(dp=1) for n in tracks[1].notes))
    got = compile_job(CompileJob(edited, EventOptions(metronome=True), (0, 960), 9600), cache)
    fresh = compile_song(edited, EventOptions(metronome=True, until_tick=9600))
    assert (got.events.ticks, got.events.seconds, got.events.messages) == \
        (fresh.ticks, fresh.seconds, fresh.messages)
    assert got.spans == note_spans(edited)

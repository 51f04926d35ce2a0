"""Controllers, pitch bend, aftertouch and later program changes: played, and chased on seek/loop."""

from __future__ import annotations

import time

from musicapp.core.song import Control, Note, Song, TempoChange, Track
from musicapp.engine.events import compile_song
from musicapp.engine.outputs import RecordingOutput
from musicapp.engine.transport import Transport

BEND_UP = Control(480, "pitchwheel", 0, 4096)


def _song() -> Song:
    """Channel 2 lead, 120 BPM (480 ticks = 0.5 s): volume at 0, a bend and a pedal later on."""
    lead = Track("lead", 2, 40, (Note(0, 60, 480), Note(480, 62, 480), Note(960, 64, 480)),
                 controls=(Control(0, "control_change", 7, 90), BEND_UP,
                           Control(960, "program_change", 0, 41), Control(960, "control_change", 64, 127)))
    return Song(tracks=(lead,), tempos=(TempoChange.from_bpm(0, 120),))


def test_controls_play_on_the_tracks_channel_after_note_offs_and_before_note_ons():
    ev = compile_song(_song())
    at_480 = [m for t, m in zip(ev.ticks, ev.messages) if t == 480]
    assert at_480 == [(0x82, 60, 0), (0xE2, 0, 96), (0x92, 62, 100)]
    at_960 = [m for t, m in zip(ev.ticks, ev.messages) if t == 960]
    assert at_960 == [(0x82, 62, 0), (0xC2, 41), (0xB2, 64, 127), (0x92, 64, 100)]


def test_chase_gives_the_program_and_values_in_force_and_resets_what_comes_later():
    ev = compile_song(_song())
    # before the bend and the pedal: volume as set at 0, bend and pedal back to rest
    assert ev.chase(240) == ((0xC2, 40), (0xE2, 0, 64), (0xB2, 64, 0), (0xB2, 7, 90))
    # after everything: the later program, the bend and the pedal as last set
    assert ev.chase(1200) == ((0xC2, 41), (0xB2, 7, 90), (0xE2, 0, 96), (0xB2, 64, 127))
    # events at the tick itself are played, not chased
    assert (0xE2, 0, 96) not in ev.chase(480)


def _played(out: RecordingOutput) -> list[tuple[int, ...]]:
    return [m for _, m in out.messages]


def test_playing_from_the_middle_sends_the_chase_before_the_first_note():
    rec = RecordingOutput()
    with Transport(rec, _song()) as tr:
        tr.play(720)
        time.sleep(0.4)  # the next note starts at 960, 0.25 s on
    sent = _played(rec)
    assert sent[:4] == [(0xC2, 40), (0xB2, 64, 0), (0xB2, 7, 90), (0xE2, 0, 96)]
    assert next(i for i, m in enumerate(sent) if m[0] == 0x92) > 4


def test_seeking_while_playing_releases_then_chases_the_new_position():
    rec = RecordingOutput()
    with Transport(rec, _song()) as tr:
        tr.play(1100)  # pedal down, bend up, program 41 (nothing else left to play)
        time.sleep(0.1)
        tr.seek(0)
        time.sleep(0.1)
    sent = _played(rec)
    reset = sent.index((0xB2, 123, 0))  # the release before the jump: bend back to centre too
    assert sent[reset + 1:reset + 6] == [(0xE2, 0, 64), (0xC2, 40), (0xB2, 7, 100), (0xE2, 0, 64),
                                         (0xB2, 64, 0)]
    assert sent[reset + 6:reset + 8] == [(0xB2, 7, 90), (0x92, 60, 100)]  # then tick 0 plays


def test_loop_wrap_puts_the_bend_back_to_where_the_loop_starts():
    rec = RecordingOutput()
    with Transport(rec, _song()) as tr:
        tr.set_loop(0, 960)  # 0.5 s of bend-free playing, then 0.5 s bent up
        tr.play(0)
        time.sleep(1.25)
    sent = _played(rec)
    wrap = sent.index((0xB2, 123, 0))  # release at the wrap
    assert sent[wrap + 1:wrap + 6] == [(0xE2, 0, 64), (0xC2, 40), (0xB2, 7, 100), (0xE2, 0, 64),
                                       (0xB2, 64, 0)]
    assert sent.index((0xE2, 0, 96)) < wrap  # the bend was played before the wrap


def test_the_loop_starts_chase_is_ready_before_the_engine_thread_needs_it(monkeypatch):
    import threading

    from musicapp.engine import events as events_mod

    engine_calls = []
    original = events_mod.track_chase

    def spy(track, tick):
        if threading.current_thread().name == "musicapp-engine":
            engine_calls.append(tick)
        return original(track, tick)

    monkeypatch.setattr(events_mod, "track_chase", spy)
    with Transport(RecordingOutput(), _song()) as tr:
        tr.set_loop(240, 960)
        tr.set_song(_song())  # an edit while looping: recompiled, chase warmed again
    assert engine_calls == []


def test_playing_goes_on_to_a_pedal_release_after_the_last_note():
    song = Song(tracks=(Track(notes=(Note(0, 60, 240),),
                              controls=(Control(0, "control_change", 64, 127), Control(720, "control_change", 64, 0))),),
                tempos=(TempoChange.from_bpm(0, 120),))
    ev = compile_song(song)
    assert ev.end_tick == 720 and ev.messages[-1] == (0xB0, 64, 0)
    rec = RecordingOutput()
    with Transport(rec, song) as tr:
        done = []
        tr.add_listener(lambda e: e.kind == "ended" and done.append(e.tick))
        tr.play(0)
        time.sleep(0.9)
    assert done == [720]
    sent = _played(rec)
    off = sent.index((0x80, 60, 0))
    assert sent[off + 1] == (0xB0, 64, 0)  # the file's pedal release, played before the end

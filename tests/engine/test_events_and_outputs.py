"""Song -> message compilation and the output's note bookkeeping (no ports needed)."""

from __future__ import annotations

import time

import pytest

from musicapp.core.song import Note, Song, TempoChange, Track
from musicapp.engine.errors import EngineError, PortError
from musicapp.engine.events import EventOptions, compile_song
from musicapp.engine.outputs import RecordingOutput, check_message
from musicapp.engine.transport import Transport


def test_note_off_goes_before_note_on_at_the_same_tick():
    song = Song(tracks=(Track(notes=(Note(0, 60, 480), Note(480, 60, 480))),))
    ev = compile_song(song)
    assert list(zip(ev.ticks, ev.messages)) == [
        (0, (0x90, 60, 100)), (480, (0x80, 60, 0)), (480, (0x90, 60, 100)), (960, (0x80, 60, 0))]
    assert ev.seconds == (0.0, 0.5, 0.5, 1.0) and ev.setup == ((0xC0, 0),)


def test_mute_and_solo_choose_the_tracks_that_sound():
    a = Track("a", 0, 5, (Note(0, 60, 10),))
    b = Track("b", 1, 7, (Note(0, 62, 10),), mute=True)
    c = Track("c", 2, 9, (Note(0, 64, 10),))
    pitches = lambda song: sorted(m[1] for m in compile_song(song).messages if m[0] & 0xF0 == 0x90)
    assert pitches(Song(tracks=(a, b, c))) == [60, 64]
    assert pitches(Song(tracks=(a, b, c.__class__(**{**_fields(c), "solo": True})))) == [64]


def _fields(track):
    return {f: getattr(track, f) for f in ("name", "channel", "program", "notes", "mute", "solo")}


def test_metronome_and_clock_follow_meter_and_tempo():
    song = Song(tracks=(Track(notes=(Note(0, 60, 1920),)),), tempos=(TempoChange.from_bpm(0, 60),))
    ev = compile_song(song, EventOptions(metronome=True, clock=True))
    clicks = [(t, m[1]) for t, m in zip(ev.ticks, ev.messages) if m[0] == 0x99]
    assert clicks == [(0, 76), (480, 77), (960, 77), (1440, 77)]
    clocks = [s for s, m in zip(ev.seconds, ev.messages) if m == (0xF8,)]
    assert len(clocks) == 96 and clocks[24] == pytest.approx(1.0)


def test_output_tracks_sounding_notes_and_releases_offs_then_controllers():
    out = RecordingOutput()
    for msg in [(0x90, 60, 100), (0x90, 60, 90), (0x91, 64, 80), (0x80, 60, 0), (0x92, 67, 0)]:
        out.send(msg)
    assert out.sounding_notes() == [(0, 60), (1, 64)]
    out.messages.clear()
    out.release_all()
    assert [m for _, m in out.messages] == [
        (0x80, 60, 0), (0x81, 64, 0),
        (0xB0, 64, 0), (0xB0, 123, 0), (0xB1, 64, 0), (0xB1, 123, 0), (0xB2, 64, 0), (0xB2, 123, 0)]
    assert out.sounding_notes() == []


@pytest.mark.parametrize("bad", [(), (60, 100), (0x90, 200, 1), (0x90, 1, 2, 3), "x", (0xF0, 1)])
def test_bad_messages_are_refused_with_a_port_error(bad):
    with pytest.raises(PortError):
        check_message(bad)


def test_transport_checks_its_input():
    with Transport() as tr:
        for call in (lambda: tr.seek(-1), lambda: tr.play("soon"), lambda: tr.set_loop(480, 0),
                     lambda: tr.set_count_in(99), lambda: tr.set_song("song"),
                     lambda: tr.audition(60, seconds=0), lambda: tr.note_on(60, channel=16),
                     lambda: tr.note_on(128)):
            with pytest.raises(EngineError):
                call()
    with pytest.raises(EngineError, match="closed"):
        tr.play()


def test_playhead_moves_with_the_tempo_map_and_pause_keeps_it():
    song = Song(tracks=(Track(notes=(Note(0, 60, 4800),)),), tempos=(TempoChange.from_bpm(0, 120),))
    rec = RecordingOutput()
    events = []
    with Transport(rec, song) as tr:
        tr.add_listener(events.append)
        tr.play(960)
        time.sleep(0.25)
        pos = tr.position_ticks()
        assert 960 + 150 < pos < 960 + 400  # ~240 ticks after 0.25 s at 120 BPM
        tr.pause()
        paused = tr.position_ticks()
        time.sleep(0.05)
        assert tr.position_ticks() == paused and not tr.is_playing
        tr.stop()
        assert tr.position_ticks() == 960  # stop rewinds to where play started
    assert [e.kind for e in events] == ["playing", "paused"]



def test_scheduler_thread_runs_realtime_below_jack_threads_where_allowed(monkeypatch):
    import os

    monkeypatch.delenv("MUSICAPP_NO_REALTIME", raising=False)
    tr = Transport(song=Song(tracks=(Track("a", 0, 0, (Note(0, 60, 120),)),)))
    try:
        tid = tr._sched._thread.native_id
        deadline = time.monotonic() + 2.0
        while os.sched_getscheduler(tid) == os.SCHED_OTHER and time.monotonic() < deadline:
            time.sleep(0.01)
        if os.sched_getscheduler(tid) != os.SCHED_FIFO:
            pytest.skip("no right to SCHED_FIFO here")
        # JACK's own realtime threads run at 10 (server) and 5 (clients): stay below them
        assert os.sched_getparam(tid).sched_priority == 3
    finally:
        tr.close()


def test_port_liveness_is_asked_only_in_gaps_between_deadlines():
    import threading

    from musicapp.engine.scheduler import SchedulerConfig

    class Watched(RecordingOutput):
        """Records when the engine asks whether the port is alive (a server round trip for real ports)."""

        def __init__(self) -> None:
            super().__init__("watched")
            self.asked: list[float] = []

        def is_alive(self) -> bool:
            self.asked.append(time.perf_counter())
            return True

    # a note every 40 ms (gaps too short to ask in), then every 200 ms (long gaps)
    dense = [Note(i * 38, 60, 10) for i in range(25)]  # 38 ticks at 120 BPM, PPQ 480 = 39.6 ms
    sparse = [Note(25 * 38 + i * 192, 62, 10) for i in range(8)]  # 200 ms apart
    song = Song(tracks=(Track("a", 0, 0, tuple(dense + sparse)),), tempos=(TempoChange.from_bpm(0, 120),))
    out = Watched()
    done = threading.Event()
    tr = Transport(song=song, config=SchedulerConfig(liveness_every_s=0.05))
    try:
        tr.set_outputs([out])
        tr.add_listener(lambda e: e.kind == "ended" and done.set())
        tr.play(0)
        assert done.wait(10)
    finally:
        tr.close()
    sends = [t for t, m in out.messages if m[0] & 0xF0 in (0x80, 0x90)]
    asked = [t for t in out.asked if sends[0] < t < sends[-1]]
    assert asked, "liveness was never checked during playback"
    sparse_start = sends[2 * len(dense)]
    for t in asked:
        gap = min(s for s in sends if s > t) - t
        # never right before a note: >= 50 ms ahead, or >= 15 ms once a check is overdue by
        # 4 turns (the dense part has no 50 ms gap at all)
        assert gap > (0.035 if t > sparse_start else 0.008)  # (margins for a loaded machine)
    assert any(t > sparse_start for t in asked)


def test_release_puts_a_bent_channel_back_to_centre():
    out = RecordingOutput()
    for msg in [(0xE1, 0, 96), (0x91, 60, 100), (0xE2, 0, 80), (0xE2, 0, 64)]:
        out.send(msg)
    out.messages.clear()
    out.release_all()
    assert [m for _, m in out.messages] == [
        (0x81, 60, 0), (0xB1, 64, 0), (0xB1, 123, 0), (0xB2, 64, 0), (0xB2, 123, 0), (0xE1, 0, 64)]


def test_open_end_keeps_the_transport_playing_past_the_song_until_turned_off():
    song = Song(tracks=(Track(notes=(Note(0, 60, 48),)),))  # 0.05 s long
    events = []
    with Transport(RecordingOutput(), song) as tr:
        tr.add_listener(events.append)
        tr.set_open_end(True)
        tr.play(0)
        time.sleep(0.2)
        assert tr.is_playing and tr.position_ticks() > 150
        tr.set_open_end(False)
        time.sleep(0.1)
        assert not tr.is_playing
    assert [e.kind for e in events] == ["playing", "ended"]


def test_metronome_goes_on_past_the_song_end_while_the_end_is_open():
    rec = RecordingOutput()
    with Transport(rec, Song(tempos=(TempoChange.from_bpm(0, 120),))) as tr:  # an empty song
        tr.set_metronome(True)
        tr.set_open_end(True)
        tr.play(0)
        time.sleep(1.2)
    clicks = [m[1] for _, m in rec.messages if m[0] == 0x99 and m[2] > 0]
    assert clicks[:3] == [76, 77, 77]  # beats at 0, 0.5 and 1.0 s

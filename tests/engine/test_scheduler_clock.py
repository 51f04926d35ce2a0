"""Scheduler timing against an injected clock: exact counts and spacing, whatever the load."""

from __future__ import annotations

from engine_helpers import scale_song
from musicapp.engine.outputs import RecordingOutput
from musicapp.engine.scheduler import ManualClock, SchedulerConfig
from musicapp.engine.transport import Transport

CONFIG = SchedulerConfig(spin_s=0.0, start_lead_s=0.0, realtime_priority=False,
                         switch_interval_s=None, freeze_gc=False)


def _run_to(tr: Transport, clock: ManualClock, until: float, step: float = 0.001) -> None:
    """Advance ``clock`` to ``until`` in ``step``s, letting the engine send what is due each time."""
    while clock() < until - 1e-12:
        clock.advance(min(step, until - clock()))
        for _ in range(3):  # each engine loop turn fires one due group; a round trip is a turn
            tr._sched.post(lambda: None)


def test_clock_out_sends_exactly_24_clocks_a_quarter_at_their_deadlines():
    clock = ManualClock(100.0)
    rec = RecordingOutput(clock=clock)
    song = scale_song(notes=4, step=480)  # 2 s at 120 BPM
    with Transport(rec, song, CONFIG, clock=clock) as tr:
        tr.set_clock_out(True)
        tr.play(0)
        _run_to(tr, clock, 100.51)  # 0.51 s at 120 BPM: clocks at 0, 1/48, ... 24/48 s
        tr.stop()
        sent = list(rec.messages)
    clocks = [t - 100.0 for t, m in sent if m == (0xF8,)]
    assert len(clocks) == 25
    assert all(abs(t - k * 0.5 / 24) <= 0.001 + 1e-9 for k, t in enumerate(clocks))
    kinds = [m for _, m in sent if m[0] >= 0xF0 and m != (0xF8,)]
    assert kinds == [(0xF2, 0, 0), (0xFA,), (0xFC,)]


def test_notes_go_out_at_their_deadlines_on_the_injected_clock():
    clock = ManualClock()
    rec = RecordingOutput(clock=clock)
    song = scale_song(notes=4, step=240, length=120)  # a note every 0.25 s at 120 BPM
    with Transport(rec, song, CONFIG, clock=clock) as tr:
        tr.play(0)
        _run_to(tr, clock, 1.2)
        assert not tr.is_playing  # the song ended on the clock, not on the wall
    ons = [t for t, m in rec.messages if m[0] & 0xF0 == 0x90]
    offs = [t for t, m in rec.messages if m[0] & 0xF0 == 0x80]
    assert [round(t, 3) for t in ons] == [0.0, 0.25, 0.5, 0.75]
    assert [round(t, 3) for t in offs[:4]] == [0.125, 0.375, 0.625, 0.875]

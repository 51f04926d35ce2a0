"""Jam sessions through a JACK dummy server: a virtual keyboard plays calls into the session's
input, the answers come out of a real output port into a polled inbox (coarse timing only)."""

from __future__ import annotations

import threading
import time

import pytest

from engine_helpers import stuck_notes, virtual_keyboard

from musicapp.core.song import Note, Song, TempoChange
from musicapp.engine.jam import JamConfig, JamSession
from musicapp.engine.transport import Transport, open_input_port, open_output_port

BPM = 240.0  # a beat is 0.25 s, a 4/4 bar 1 s: short tests
BEAT_S = 60.0 / BPM
BAR_S = 4 * BEAT_S
COARSE_S = 0.03  # tests check order and coarse timing; the benchmark measures milliseconds


def downbeat_answer(request, cancel: threading.Event):
    """A stand-in model (the engine is tested on its own): the call's first pitches again,
    one per beat from the answer's bar line, transposed up a fifth so it is no copy."""
    beat = request.ppq
    pitches = [n.pitch + 7 for n in request.seed] or [67]
    span = request.bars * 4 * beat
    return [[Note(request.start_tick + i * beat, pitches[i % len(pitches)], beat // 2, 90)
             for i in range(span // beat)]]


@pytest.fixture
def rig(jack_server, inbox):
    """(keyboard rtmidi out, input, transport playing at BPM after a 1-bar count-in, inbox)."""
    keys_gen = virtual_keyboard("jamkeys")
    keys = next(keys_gen)
    source = open_input_port("jamkeys:out")
    transport = Transport(open_output_port(inbox.name), Song(tempos=(TempoChange.from_bpm(0, BPM),)))
    transport.set_metronome(True)
    transport.set_open_end(True)
    transport.set_count_in(1)
    transport.play(0)
    yield keys, source, transport, inbox
    transport.close()
    source.close()
    for _ in keys_gen:
        pass


def play_at(keys, transport, events) -> None:
    """Send (beats after tick 0, message) pairs at those times on the transport's clock."""
    for beat, msg in events:
        at = transport.wall_at(beat * 480)
        while time.perf_counter() < at:
            time.sleep(0.0005)
        keys.send_message(msg)


def call(first_beat: float, pitches=(60, 62, 64, 65, 67, 65, 64, 62)) -> list:
    """Quarter notes from ``first_beat``, half a beat long."""
    out = []
    for i, p in enumerate(pitches):
        out += [(first_beat + i, (0x90, p, 100)), (first_beat + i + 0.5, (0x80, p, 0))]
    return out


def arrivals(inbox, channel: int) -> list[tuple[float, tuple]]:
    return [(t, m) for t, m in inbox.drain() if m[0] & 0x0F == channel and m[0] & 0xF0 in (0x80, 0x90)]


def test_the_answer_starts_on_the_bar_line_after_a_two_bar_call(rig):
    keys, source, transport, inbox = rig
    session = JamSession(transport, source, downbeat_answer, JamConfig(bars=2, answer_channel=1))
    session.start()
    play_at(keys, transport, call(0))  # bars 1-2
    assert inbox.wait_until(lambda got: any(m[0] == 0x91 for _, m in got), timeout=4 * BAR_S)
    time.sleep(BAR_S * 2.2)
    session.stop()
    ex = session.exchanges()[0]
    assert ex.call_start == 0 and ex.answer_due == 2 * 1920 and ex.shift == 0
    assert ex.ready_s is not None and ex.ready_s > 0
    ons = [(t, m) for t, m in arrivals(inbox, 1) if m[0] & 0xF0 == 0x90]
    assert len(ons) == 8  # the whole 2-bar answer, one note per beat
    clicks = [t for t, m in inbox.received if m[0] == 0x99]
    # the answer's first note sounds with the click on bar 3's downbeat (JACK's clock, both)
    bar3_click = clicks[4 + 8]  # 4 count-in clicks, then bars 1-2
    assert abs(ons[0][0] - bar3_click) < COARSE_S
    assert [m[1] for _, m in ons[:8]] == [67, 69, 71, 72, 74, 72, 71, 69]
    assert not stuck_notes(inbox.received)


def test_playing_during_the_answer_cuts_it_at_once_and_becomes_the_next_call(rig):
    keys, source, transport, inbox = rig
    session = JamSession(transport, source, downbeat_answer, JamConfig(bars=1, answer_channel=1))
    session.start()
    play_at(keys, transport, call(0, (60, 64, 67, 64)))  # bar 1; the answer is due on bar 2
    play_at(keys, transport, [(5.25, (0x90, 72, 100))])  # cut in during the answer's 2nd beat
    cut_wall = time.perf_counter()
    inbox.collect(0.15)
    answer_msgs = [(t, m) for t, m in arrivals(inbox, 1)]
    ons = [m for _, m in answer_msgs if m[0] == 0x91]
    assert len(ons) == 2  # beats 1 and 2 of the answer sounded, the other two never
    assert not stuck_notes(answer_msgs)
    # the note sounding when the player cut in was ended straight away, not on its own time
    last_off = [t for t, m in answer_msgs if m[0] == 0x81][-1]
    first_on = [t for t, m in answer_msgs if m[0] == 0x91][1]
    assert last_off - first_on < 0.25 * BEAT_S + COARSE_S
    assert session.state == "call"
    play_at(keys, transport, [(5.75, (0x80, 72, 0))])
    time.sleep(0.05)
    session.stop()
    first, second = session.exchanges()[:2]
    assert first.interrupted and len(first.answer) == 2 and len(first.planned) == 4
    assert second.call_start == 4 * 480 and [n.pitch for n in second.call] == [72]
    assert time.perf_counter() - cut_wall < 2.0
    assert not stuck_notes(inbox.collect(0.1))


def test_stopping_mid_answer_and_closing_the_transport_leave_no_note_hanging(rig):
    keys, source, transport, inbox = rig
    session = JamSession(transport, source, downbeat_answer,
                         JamConfig(bars=1, answer_channel=1, thru_channel=0))
    session.start()
    play_at(keys, transport, call(0, (60, 62, 64, 65)))
    play_at(keys, transport, [(4.1, (0x90, 48, 90))])  # a thru key still down, answer playing
    time.sleep(0.3)
    session.stop()
    transport.close()
    got = inbox.collect(0.2)
    assert any(m[0] == 0x91 for _, m in got) and any(m == (0x90, 48, 90) for _, m in got)
    assert not stuck_notes(got)


def test_answer_when_i_pause_ends_the_call_after_a_beat_of_silence(rig):
    keys, source, transport, inbox = rig
    session = JamSession(transport, source, downbeat_answer,
                         JamConfig(on_pause=True, answer_channel=1))
    session.start()
    play_at(keys, transport, call(0, (60, 62, 64, 65, 67)))  # last note-off at beat 4.5
    # silent from beat 4.5: the call ends at 5.5, the answer is due on the next bar line (beat 8)
    assert inbox.wait_until(lambda got: any(m[0] == 0x91 for _, m in got), timeout=4 * BAR_S)
    session.stop()
    ex = session.exchanges()[0]
    assert ex.answer_due == 8 * 480 and ex.bars == 2


def test_a_lost_input_port_stops_the_jam_with_a_message_and_releases_the_echoed_key(rig):
    keys, source, transport, inbox = rig
    events = []
    session = JamSession(transport, source, downbeat_answer, JamConfig(bars=1, thru_channel=0),
                         listener=events.append)
    session.start()
    play_at(keys, transport, [(0.5, (0x90, 55, 100))])
    assert inbox.wait_until(lambda got: any(m == (0x90, 55, 100) for _, m in got))
    keys.close_port()  # the keyboard is unplugged with its key down
    deadline = time.monotonic() + 3
    while session.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not session.running
    assert any(e.kind == "error" and "gone away" in e.message for e in events)
    assert not stuck_notes(inbox.collect(0.1))


def test_a_real_model_answers_in_the_calls_key_and_register_without_copying_it(rig):
    pytest.importorskip("torch")
    from musicapp.core.scales import in_scale, parse_key
    from musicapp.jamming import find_model, jam_generate

    keys, source, transport, inbox = rig
    generate = jam_generate(find_model(None))
    session = JamSession(transport, source, generate, JamConfig(bars=2, answer_channel=1))
    session.start()
    d_major = (62, 66, 69, 74, 73, 71, 69, 66)
    play_at(keys, transport, call(0, d_major))
    assert inbox.wait_until(lambda got: any(m[0] == 0x91 for _, m in got), timeout=4 * BAR_S)
    session.stop()
    ex = session.exchanges()[0]
    assert ex.shift == 0 and ex.ready_s > 0
    assert ex.key == parse_key("D major")
    assert ex.planned and all(n.start >= ex.answer_due and n.start % 120 == 0 for n in ex.planned)
    assert all(in_scale(n.pitch, ex.key) and 59 <= n.pitch <= 77 for n in ex.planned)
    assert [(n.start - ex.answer_due, n.pitch) for n in ex.planned] != \
        [(i * 480, p) for i, p in enumerate(d_major)]

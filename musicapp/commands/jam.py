"""``musicapp jam``: live call-and-response with a MIDI keyboard, in the terminal.

Thin layer: parse the options, load the model (``musicapp.jamming``), open the input and the
output, play a count-in and the metronome on the transport (at ``--tempo``, or at the tempo and
on the beat of MIDI clock coming in on the input) and run an ``engine.jam``
session until Ctrl-C (or SIGTERM, or a port going away); every note is released on the way
out and ``--record`` writes the calls and answers as two tracks.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from musicapp.core.errors import MusicappError

#: the metronome runs this many bars (over 2 hours at 120 BPM in 4/4), then the jam goes on
#: without clicks
CLOCK_BARS = 4096
MAX_BARS = 8
DEFAULT_TEMPO = 120.0
#: seconds an input's MIDI clock is listened to, once the model is loaded, for its tempo
CLOCK_LISTEN_S = 1.5


class JamError(MusicappError):
    """Bad ``musicapp jam`` options."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``jam``."""
    p = sub.add_parser("jam", help="call and response: play a phrase, the app answers it",
                       description="After a bar of count-in, play a call of N bars on your keyboard; the "
                       "app answers with a continuation of it (same key and register, same length) from the "
                       "next bar line, then it is your turn again. Playing during an answer cuts it and "
                       "starts the next call. Ctrl-C stops.")
    p.add_argument("--input", required=True, metavar="PORT", help="MIDI input: full name or a unique part")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--output", metavar="PORT", help="output port: full name or a unique part")
    where.add_argument("--virtual", metavar="NAME", help="create a virtual output port NAME")
    where.add_argument("--synth", action="store_true", help="built-in synth (default)")
    p.add_argument("--bars", default="2", metavar="N",
                   help=f"bars per call, 1-{MAX_BARS} (2), or 'pause': a beat with no key down ends the call")
    p.add_argument("--tempo", type=float, metavar="BPM",
                   help="tempo in BPM (default: the MIDI clock coming in on --input, else 120)")
    p.add_argument("--key", default="auto", metavar="auto|NAME",
                   help="key of the answers: 'auto' (from your calls, the default) or e.g. 'D minor'")
    p.add_argument("--model", metavar="NAME", help="melody model: a name in models/ or a checkpoint path "
                   "(default: the shipped lstm)")
    p.add_argument("--record", metavar="OUT.mid", help="write the calls and answers to this .mid file")
    p.set_defaults(handler=_jam)


def parse_bars(text: str) -> tuple[int, bool]:
    """(bars, answer on pause) from ``--bars``."""
    if text.strip().lower() == "pause":
        return 2, True
    try:
        bars = int(text)
    except ValueError:
        raise JamError(f"--bars must be 1-{MAX_BARS} or 'pause', not {text!r}") from None
    if not 1 <= bars <= MAX_BARS:
        raise JamError(f"--bars must be 1-{MAX_BARS} or 'pause', not {bars}")
    return bars, False


def parse_jam_key(text: str):
    from musicapp.core.scales import parse_key

    return "auto" if text.strip().lower() == "auto" else parse_key(text)


def clock_song(bpm: float):
    """The song the transport plays: the tempo, 4/4, and a silent muted marker that keeps the
    metronome going for ``CLOCK_BARS`` bars."""
    from musicapp.core.song import Note, Song, TempoChange, Track

    marker = Track("jam clock", channel=15, notes=(Note(CLOCK_BARS * 4 * 480, 0, 1, 1),), mute=True)
    return Song(tracks=(marker,), tempos=(TempoChange.from_bpm(0, bpm),))


def _jam(args: argparse.Namespace) -> int:
    from musicapp.commands.engine import _open_output, _raise_terminated, _Terminated
    from argparse import Namespace
    from musicapp.engine.jam import JamConfig, JamSession, exchange_tracks
    from musicapp.engine.clock_in import ClockFollower
    from musicapp.engine.midi_input import InputConfig
    from musicapp.engine.transport import Transport, open_input_port
    from musicapp.jamming import find_model, jam_generate

    bars, on_pause = parse_bars(args.bars)
    if args.tempo is not None and not 20 <= args.tempo <= 300:
        raise JamError(f"--tempo must be 20-300 BPM, not {args.tempo:g}")
    key = parse_jam_key(args.key)
    checkpoint = find_model(args.model)
    source = open_input_port(args.input, InputConfig(ignore_clock=False))
    clock = ClockFollower()
    source.add_handler(clock.feed)  # listens for a master's clock while the model loads
    try:
        print(f"loading {checkpoint.stem} ...", flush=True)
        generate = jam_generate(checkpoint)
        output = _open_output(Namespace(port=args.output, virtual=args.virtual))
    except BaseException:
        source.close()
        raise
    bpm, clocked = args.tempo, None
    if bpm is None and clock.running:
        # loading the model starves the input's poll thread (the GIL): pulses polled then
        # come in bunches; the tempo is measured over pulses polled afterwards
        clock.forget()
        listen_from = time.perf_counter()
        while time.perf_counter() < listen_from + CLOCK_LISTEN_S and clock.running:
            time.sleep(0.02)
    if bpm is None:
        clocked = clock.tempo_bpm()
        if clocked is not None and not 20 <= clocked <= 300:
            print(f"musicapp: ignoring the MIDI clock on {source.name} ({clocked:.0f} BPM)", file=sys.stderr)
            clocked = None
        bpm = clocked if clocked is not None else DEFAULT_TEMPO
        if clocked is not None:
            print(f"following the MIDI clock on {source.name}: {bpm:.1f} BPM", flush=True)
    args.tempo = bpm
    done = threading.Event()
    status = {"code": 0}

    def on_transport(event) -> None:
        if event.kind == "error":
            print(f"musicapp: {event.message}", file=sys.stderr)
        elif event.kind == "stopped" and event.message:
            status["code"] = 1
            done.set()

    def on_jam(event) -> None:
        if event.kind == "error":
            print(f"musicapp: {event.message}", file=sys.stderr)
            status["code"] = 1
        elif event.kind == "late":
            print(f"  ({event.message})", flush=True)
        elif event.kind == "answer":
            ex = session.exchanges()[event.index]
            print(f"call {event.index + 1}: {len(ex.call)} notes -> answer {len(ex.planned)} notes"
                  f" in {ex.key or 'no key'}", flush=True)
        elif event.kind == "interrupted":
            print("  (cut: your turn)", flush=True)
        elif event.kind == "stopped":
            done.set()

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    transport = Transport(output, clock_song(args.tempo))
    session = JamSession(transport, source, generate,
                         JamConfig(bars=bars, on_pause=on_pause, key=key, thru_channel=0, answer_channel=1),
                         listener=on_jam)
    try:
        transport.add_listener(on_transport)
        transport.set_metronome(True)
        transport.set_open_end(True)
        transport.set_count_in(1)
        downbeat = None
        if clocked is not None:  # the count-in ends on the master's next bar line (or beat)
            downbeat = clock.next_beat(time.perf_counter() + 4 * 60.0 / bpm + 0.05)
        transport.play(0, at=downbeat)
        session.start()
        how = "pause for a beat to hear the answer" if on_pause else f"play {bars}-bar calls"
        print(f"jamming at {round(bpm, 1):g} BPM on {output.name}: after the count-in, {how}; Ctrl-C stops",
              flush=True)
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except _Terminated:
        print("musicapp: terminated", file=sys.stderr)
        status["code"] = 143
    finally:
        session.stop()
        transport.close()
        source.close()
        signal.signal(signal.SIGTERM, previous)
    exchanges = session.exchanges()
    if args.record:
        from musicapp.core.midifile import write_midi

        calls, answers = exchange_tracks(exchanges)
        write_midi(clock_song(args.tempo).replace(tracks=(calls, answers)), args.record)
        print(f"wrote {args.record} ({len(calls.notes)} call notes, {len(answers.notes)} answer notes)")
    answered = [e for e in exchanges if e.planned]
    late = sum(1 for e in answered if e.shift)
    print(f"{len(answered)} answers, {late} late, {sum(e.interrupted for e in answered)} cut short")
    return status["code"]

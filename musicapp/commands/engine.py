"""Engine subcommands: ``musicapp ports``, ``musicapp play FILE.mid``, ``musicapp render``.

Thin layer over ``musicapp.engine``: parse arguments, open the output, play or render, and
make sure every note is released on every way out (song end, Ctrl-C, SIGTERM, errors).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ports``, ``play`` and ``render``."""
    ports = sub.add_parser("ports", help="list MIDI inputs and outputs",
                           description="List the MIDI ports of the active backend (JACK, ALSA, "
                           "CoreMIDI or WinMM; MUSICAPP_MIDI_API forces one).")
    ports.set_defaults(handler=_ports)

    play = sub.add_parser("play", help="play a .mid file until it ends",
                          description="Play FILE on a MIDI port, a new virtual port, or the "
                          "built-in synth (the default). Returns when the song has ended "
                          "with every note released; Ctrl-C stops at once, also cleanly.")
    play.add_argument("file", help=".mid/.midi file")
    where = play.add_mutually_exclusive_group()
    where.add_argument("--port", metavar="NAME", help="output port: full name or a unique part")
    where.add_argument("--virtual", metavar="NAME", help="create a virtual output port NAME")
    where.add_argument("--synth", action="store_true", help="built-in synth (default)")
    play.add_argument("--loop", action="store_true", help="loop the whole song until stopped")
    play.add_argument("--metronome", action="store_true", help="click on every beat")
    play.add_argument("--clock", action="store_true", help="send MIDI clock and start/stop")
    play.set_defaults(handler=_play)

    render = sub.add_parser("render", help="render a .mid file to a WAV file",
                            description="Render FILE with the built-in synth (FluidSynth with "
                            "a system SoundFont where present, else the own synth).")
    render.add_argument("file", help=".mid/.midi file")
    render.add_argument("-o", "--output", required=True, help="WAV file to write")
    render.add_argument("--rate", type=int, default=48000, help="sample rate in Hz")
    render.add_argument("--engine", choices=("auto", "own", "fluidsynth"), default="auto",
                        help="which synth renders (default: auto)")
    render.set_defaults(handler=_render)


def _ports(args: argparse.Namespace) -> int:
    from musicapp.engine import ports

    outs = ports.list_output_ports()
    ins = ports.list_input_ports()
    print(f"MIDI backend: {ports.backend_name()}")
    print("outputs:" if outs else "outputs: none")
    for name in outs:
        print(f"  {name}")
    print("inputs:" if ins else "inputs: none")
    for name in ins:
        print(f"  {name}")
    return 0


def _open_output(args: argparse.Namespace):
    from musicapp.engine import transport

    if args.port:
        return transport.open_output_port(args.port)
    if args.virtual:
        return transport.open_virtual_output(args.virtual)
    return transport.BuiltinSynthOutput()


def _play(args: argparse.Namespace) -> int:
    from musicapp.core.midifile import read_midi
    from musicapp.engine.transport import Transport

    song = read_midi(args.file)
    output = _open_output(args)
    done = threading.Event()
    status = {"code": 0}

    def on_event(event) -> None:
        if event.kind == "error":
            print(f"musicapp: {event.message}", file=sys.stderr)
        elif event.kind == "stopped" and event.message:
            status["code"] = 1
            done.set()
        elif event.kind == "ended":
            done.set()

    # SIGTERM and SIGHUP (the terminal closed) unwind like Ctrl-C: every note is released
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    transport = Transport(output, song)
    try:
        transport.add_listener(on_event)
        transport.set_metronome(args.metronome)
        transport.set_clock_out(args.clock)
        if args.loop and song.end > 0:
            bar = song.meter_at(0).bar_ticks(song.ppq)
            transport.set_loop(0, -(-song.end // bar) * bar)
        seconds = song.tick_to_seconds(song.end)
        print(f"playing {args.file} on {output.name} ({song.note_count} notes, "
              f"{int(seconds // 60)}:{seconds % 60:04.1f}{', looped' if args.loop else ''})")
        transport.play(0)
        while not done.wait(0.1):
            pass
        return status["code"]
    except _Terminated as stop:
        print("musicapp: terminated" if stop.signum == signal.SIGTERM else "musicapp: hung up", file=sys.stderr)
        return 128 + stop.signum
    finally:
        transport.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Terminated(Exception):
    """SIGTERM or SIGHUP arrived; unwinds the main thread so the transport releases every note."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame) -> None:
    raise _Terminated(signum)


def _render(args: argparse.Namespace) -> int:
    from musicapp.core.midifile import read_midi
    from musicapp.engine.audio import render_song, write_wav

    song = read_midi(args.file)
    audio = render_song(song, sample_rate=args.rate, engine=args.engine)
    write_wav(args.output, audio, args.rate)
    print(f"wrote {args.output} ({len(audio) / args.rate:.1f} s, {args.rate} Hz)")
    return 0

"""Composition root: builds the QApplication, the engine services and the main window, and wires them.

Owns the only place where the UI meets the engine: it creates the Transport, wraps the
engine's output factories in an ``EngineOutputs`` chooser, and injects both into the window
(the ``ui`` package never imports the engine). Heavy or optional parts (MIDI backends, the
audio synth, models) load on demand, so the window appears fast.
"""

from __future__ import annotations

import os
import re
import sys
import time

from musicapp.core.errors import MusicappError

BUILTIN_SYNTH = "Built-in synth"
VIRTUAL_PORT = "Virtual port (musicapp)"
NO_OUTPUT = "No output (silent)"
NO_INPUT = "No MIDI input"
VIRTUAL_INPUT = "Virtual input (musicapp)"


_OWN_PORT = re.compile(r"^musicapp(-\d+)?:musicapp(\s+\d+:\d+)?$")


def own_port(name: str) -> bool:
    """True for this app's own virtual ports as a MIDI backend lists them ("musicapp:musicapp",
    JACK's "musicapp-01:musicapp", ALSA's "musicapp:musicapp 128:0"): our output is never
    offered as an input, nor our input as an output (a feedback loop)."""
    return bool(_OWN_PORT.match(name))


class EngineOutputs:
    """The output choices for the transport bar: built-in synth, a virtual port, real ports."""

    def __init__(self, transport, soundfont: str = "", synth_factory=None):
        """``synth_factory(**kwargs)`` makes the built-in synth output (default
        ``engine.transport.BuiltinSynthOutput`` on the default audio device)."""
        self.transport = transport
        self._synth_factory = synth_factory
        self.soundfont = soundfont  # "" automatic, a .sf2 path, or "own" (ui.sound_menu)
        self.current: str | None = None

    def soundfonts(self) -> list[str]:
        """Paths of the SoundFonts found on this system (best first)."""
        from musicapp.engine.fluid import list_soundfonts

        return [str(p) for p in list_soundfonts()]

    def set_soundfont(self, choice: str) -> None:
        """Play the built-in synth with ``choice`` from now on; reopens it if it is playing."""
        if choice not in ("", "own") and not os.path.isfile(choice):
            raise MusicappError(f"no such SoundFont: {choice}")
        self.soundfont = choice
        if self.current == BUILTIN_SYNTH:
            self.select(BUILTIN_SYNTH)

    def _builtin_synth(self):
        from musicapp.engine import transport as engine

        make = self._synth_factory or engine.BuiltinSynthOutput
        if self.soundfont == "own":
            return make(engine="own")
        if self.soundfont:
            return make(engine="fluidsynth", soundfont=self.soundfont)
        return make()  # FluidSynth with the best SoundFont, else the own synth

    def names(self) -> list[str]:
        from musicapp.engine.transport import list_output_ports

        try:
            ports = list_output_ports()
        except MusicappError:
            ports = []
        return [NO_OUTPUT, BUILTIN_SYNTH, VIRTUAL_PORT, *(p for p in ports if not own_port(p))]

    def select(self, name: str) -> None:
        """Switch the transport to ``name``; raises MusicappError with a one-line reason."""
        from musicapp.engine import transport as engine

        if name == NO_OUTPUT:
            self.transport.set_output(None)
            self.current = name
            return
        try:
            if name == BUILTIN_SYNTH:
                output = self._builtin_synth()
            elif name == VIRTUAL_PORT:
                output = engine.open_virtual_output("musicapp")
            else:
                output = engine.open_output_port(name)
        except MusicappError:
            raise
        except (ImportError, OSError, RuntimeError) as err:
            raise MusicappError(f"cannot open output {name!r}: {err}") from None
        self.transport.set_output(output)
        self.current = name


class EngineInputs:
    """The MIDI input choices for the transport bar; thru and take recording are the engine's
    (``engine.thru.MidiThru``): this only opens the chosen port and hands it over."""

    def __init__(self, transport):
        from musicapp.engine.thru import MidiThru

        self.transport = transport
        self.thru = MidiThru(transport)

    def names(self) -> list[str]:
        from musicapp.engine.transport import list_input_ports

        try:
            ports = list_input_ports()
        except MusicappError:
            ports = []
        return [NO_INPUT, VIRTUAL_INPUT, *(p for p in ports if not own_port(p))]

    def select(self, name: str) -> None:
        """Listen to ``name`` from now on; raises MusicappError with a one-line reason."""
        from musicapp.engine import transport as engine

        self.thru.close()
        if name == NO_INPUT:
            return
        try:
            midi_input = engine.open_virtual_input("musicapp") if name == VIRTUAL_INPUT \
                else engine.open_input_port(name)
        except MusicappError:
            raise
        except (ImportError, OSError, RuntimeError) as err:
            raise MusicappError(f"cannot open MIDI input {name!r}: {err}") from None
        self.thru.attach(midi_input)

    @property
    def is_open(self) -> bool:
        return self.thru.is_open

    @property
    def source(self):
        """The open ``MidiInput`` (None when none is), for the jam to listen to as well."""
        return self.thru.source

    def set_thru_channel(self, channel: int) -> None:
        """Play what comes in on ``channel`` (0-15), the active track's."""
        self.thru.set_channel(channel)

    def start_take(self) -> None:
        self.thru.start_take()

    def finish_take(self, quantize_ticks: int | None = None, end_tick: int | None = None):
        """(notes, controls) played since ``start_take``, in song ticks."""
        return self.thru.finish_take(quantize_ticks, end_tick)

    def close(self) -> None:
        self.thru.close()


def build_window(settings=None, dialogs=None, autosave=None, with_engine: bool = True):
    """Create the engine services and the main window (not shown). Returns the window."""
    from musicapp.ui.main_window import MainWindow
    from musicapp.ui.document import Document
    from musicapp.ui.files import new_song
    from musicapp.ui.playback import Playback

    document = Document(new_song())
    transport = chooser = inputs = None
    if with_engine:
        from musicapp.engine.transport import Transport

        transport = Transport()
        chooser = EngineOutputs(transport)
        inputs = EngineInputs(transport)
    playback = Playback(document, transport)
    win = MainWindow(settings=settings, dialogs=dialogs, playback=playback, output_chooser=chooser,
                     autosave=autosave, document=document, input_chooser=inputs)
    document.setParent(win)
    playback.setParent(win)
    from musicapp.assist import generate_services
    from musicapp.ui.generate import install_generate

    install_generate(win, generate_services())  # the assistant; models load lazily on its worker
    from musicapp.assist import model_services
    from musicapp.ui.models_menu import install_models_menu

    install_models_menu(win, model_services())  # Models > Learn From MIDI Files... (training in a child process)
    from musicapp.jamming import EngineJam
    from musicapp.ui.jam import install_jam

    install_jam(win, EngineJam(transport, inputs) if inputs is not None else None)
    if chooser is not None:
        from musicapp.ui.sound_menu import install_sound_menu

        chooser.soundfont = win.settings.soundfont
        install_sound_menu(win, chooser)
        from PySide6.QtCore import QTimer

        # after the window is up: opening an audio device or port can take a moment
        wanted = win.settings.output or BUILTIN_SYNTH
        if wanted != NO_OUTPUT:
            QTimer.singleShot(0, lambda: win.select_output(wanted))
        wanted_in = win.settings.midi_input
        if wanted_in and wanted_in != NO_INPUT:
            QTimer.singleShot(0, lambda: win.select_input(wanted_in))
    return win


def install_exit_signals(app, win) -> None:
    """SIGTERM, SIGHUP (the terminal closed) and SIGINT end the editor without losing work:
    the window writes a recovery point and releases every sounding note, then the event loop
    exits with 128 + the signal number (``run_app`` closes the transport after it).

    Python runs signal handlers only between bytecodes, and Qt's event loop is C++; the
    wakeup fd (a socket pair watched by a QSocketNotifier) brings control back to Python
    as soon as a signal arrives.
    """
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Read, app)

    def drain() -> None:
        try:
            reader.recv(256)
        except OSError:
            pass

    notifier.activated.connect(drain)
    caught: list[int] = []

    def on_signal(signum, _frame) -> None:
        if caught:
            return
        caught.append(signum)
        win.emergency_exit()
        app.exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    win._exit_signal_parts = (reader, writer, notifier)  # kept alive with the window


def smoke_report(win) -> str:
    """One line saying whether the running editor found what it ships with (for smoke runs
    of installed builds: ``MUSICAPP_QUIT_AFTER_MS=3000 musicapp``)."""
    from musicapp.engine.fluid import find_soundfont, library_loads
    from musicapp.paths import models_dir, resources_dir

    sf = find_soundfont()
    models = sorted(p.stem for p in models_dir().glob("*.json"))
    icon = not win.windowIcon().isNull()
    notes = sum(len(t.notes) for t in win.document.song.tracks)
    return (f"editor up: shown={win.isVisible()} icon={'ok' if icon else 'missing'} "
            f"models={','.join(models) or 'none'} notes={notes} "
            f"fluidsynth={'ok' if library_loads() else 'missing'} soundfont={sf.name if sf else 'none'} "
            f"resources={resources_dir()} models_dir={models_dir()}")


def run_app(path: str | None = None) -> int:
    """Start the GUI event loop, optionally opening ``path``; returns the exit code."""
    started = time.perf_counter()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    if path is not None and not os.path.exists(path):
        raise MusicappError(f"no such file: {path}")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("musicapp")
    app.setApplicationName("musicapp")
    app.setDesktopFileName("musicapp")
    win = build_window(with_engine=os.environ.get("MUSICAPP_NO_ENGINE") != "1")
    install_exit_signals(app, win)
    win.show()
    if os.environ.get("MUSICAPP_STARTUP_TIMING"):
        print(f"window shown after {time.perf_counter() - started:.3f} s", file=sys.stderr)
    QTimer.singleShot(0, lambda: win.startup(path))
    QTimer.singleShot(1500, win.generate.preload)  # torch + Continue model load on the ML worker
    quit_ms = os.environ.get("MUSICAPP_QUIT_AFTER_MS")  # smoke runs (wheel test, bundle build)
    if quit_ms:
        QTimer.singleShot(int(quit_ms), lambda: (print(smoke_report(win), file=sys.stderr), app.quit()))
    code = app.exec()
    finish_background(win)
    transport = win.playback.transport
    if transport is not None:
        transport.close()
    return code


def finish_background(win, timeout: float = 60.0) -> bool:
    """Wait (up to ``timeout`` s) for the assistant's worker thread to end after the event loop.

    ``aboutToQuit`` already asks it to stop but waits only 5 s; a model load still importing
    torch on a slow or loaded machine can take longer, and a thread still running while the
    interpreter and Qt tear down can crash the process as it exits. True when it has ended."""
    ctrl = getattr(win, "generate", None)
    worker = getattr(ctrl, "worker", None)
    return True if worker is None else worker.close(timeout)

"""Real-time MIDI engine (Qt-free, torch-free).

- ``transport``: the public API (Transport, output and input factories) used by UI and CLI
- ``scheduler``: the engine thread, absolute deadlines, every stop path releases notes
- ``events``: Song snapshot -> time-sorted MIDI messages (+ metronome, clock, count-in)
- ``outputs``: Output base class with sounding-note tracking; ``ports``: rtmidi ports
- ``synth`` / ``fluid`` / ``audio``: built-in synth, FluidSynth, offline render, live audio
- ``midi_input``: polled inputs, recording into ticks, thru
"""

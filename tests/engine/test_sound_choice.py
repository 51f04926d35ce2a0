"""The editor's built-in synth plays FluidSynth with the chosen SoundFont, or the own synth."""

from __future__ import annotations

import pytest

from engine_helpers import FakeStream, needs_fluidsynth
from musicapp.app import BUILTIN_SYNTH, EngineOutputs
from musicapp.core.errors import MusicappError
from musicapp.engine import fluid
from musicapp.engine.audio import BuiltinSynthOutput
from musicapp.engine.transport import Transport


@pytest.fixture
def chooser():
    """The editor's output chooser with the real synths on a stand-in audio stream (a PortAudio
    stream on the test JACK server would tie JACK's cycle to this process's GIL)."""
    transport = Transport()

    def synth(**kwargs):
        return BuiltinSynthOutput(stream_factory=lambda **kw: FakeStream(**kw), **kwargs)

    yield EngineOutputs(transport, synth_factory=synth)
    transport.close()


@needs_fluidsynth
def test_builtin_synth_plays_fluidsynth_by_default(chooser):
    chooser.select(BUILTIN_SYNTH)
    (out,) = chooser.transport.outputs()
    assert out.name == f"built-in synth (FluidSynth, {fluid.find_soundfont().name})"


@needs_fluidsynth
def test_soundfont_choice_reopens_the_playing_synth(chooser):
    chooser.select(BUILTIN_SYNTH)
    chooser.set_soundfont("own")
    assert [o.name for o in chooser.transport.outputs()] == ["built-in synth (own synth)"]
    sf = chooser.soundfonts()[-1]
    chooser.set_soundfont(sf)
    assert chooser.transport.outputs()[0].name.endswith(f"{sf.rsplit('/', 1)[-1]})")


def test_missing_soundfont_file_is_a_one_line_error(chooser, tmp_path):
    with pytest.raises(MusicappError, match="no such SoundFont"):
        chooser.set_soundfont(str(tmp_path / "gone.sf2"))
    assert chooser.soundfont == ""


@needs_fluidsynth
def test_unreadable_soundfont_falls_back_to_the_own_synth_when_automatic(tmp_path, monkeypatch):
    from musicapp.engine.audio import make_synth
    from musicapp.engine.synth import Synth

    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF not a soundfont")
    assert isinstance(make_synth(24000, "auto", bad), Synth)
    with pytest.raises(MusicappError, match="could not load"):
        make_synth(24000, "fluidsynth", bad)


@needs_fluidsynth
def test_the_chosen_soundfont_is_what_the_playing_synth_renders(chooser):
    chooser.select(BUILTIN_SYNTH)
    (out,) = chooser.transport.outputs()
    out.send((0x90, 69, 100))
    block = out._stream.pull(4800)
    assert abs(block).max() > 0.01  # FluidSynth sounds the note through the stream callback

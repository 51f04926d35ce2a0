"""Transport > Sound: the SoundFont choice is listed, stored, applied, and failures are reported."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from musicapp.core.errors import MusicappError
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.sound_menu import OWN_SYNTH, SoundMenu
from tests.ui.conftest import make_settings


class FakeChooser:
    def __init__(self, found):
        self.found, self.applied = found, []

    def soundfonts(self):
        return list(self.found)

    def set_soundfont(self, choice):
        if choice.endswith("broken.sf2"):
            raise MusicappError("FluidSynth could not load the SoundFont broken.sf2")
        self.applied.append(choice)


def _menu(qtbot, tmp_path, found, dialogs=None):
    messages: list[str] = []
    settings = make_settings(tmp_path)
    chooser = FakeChooser(found)
    menu = QMenu()
    return SoundMenu(menu, chooser, settings, dialogs or ScriptedDialogs(), messages.append), messages


def test_menu_lists_automatic_each_soundfont_own_synth_and_a_file_entry(qtbot, tmp_path):
    sm, _ = _menu(qtbot, tmp_path, ["/sf/FluidR3_GM.sf2", "/sf/TimGM6mb.sf2"])
    labels = [a.text() for a in sm.menu.actions() if not a.isSeparator()]
    assert labels == ["Automatic (best SoundFont found)", "FluidR3_GM.sf2", "TimGM6mb.sf2",
                      "Own synth (no SoundFont)", "Other SoundFont File..."]
    assert sm.menu.actions()[0].isChecked()


def test_choosing_a_soundfont_stores_and_applies_it(qtbot, tmp_path):
    sm, messages = _menu(qtbot, tmp_path, ["/sf/TimGM6mb.sf2"])
    next(a for a in sm.menu.actions() if a.text() == "Own synth (no SoundFont)").trigger()
    assert sm.settings.soundfont == OWN_SYNTH and sm.chooser.applied == [OWN_SYNTH]
    assert messages[-1] == "Sound: own synth"
    assert next(a for a in sm.menu.actions() if a.text().startswith("Own")).isChecked()


def test_other_file_goes_through_the_dialog_and_a_bad_one_keeps_the_previous(qtbot, tmp_path):
    good = tmp_path / "mine.sf2"
    dialogs = ScriptedDialogs(paths=[str(good), str(tmp_path / "broken.sf2")])
    sm, messages = _menu(qtbot, tmp_path, [], dialogs)
    sm.choose_file()
    assert sm.settings.soundfont == str(good)
    assert "mine.sf2" in [a.text() for a in sm.menu.actions()]  # the chosen file stays listed
    sm.choose_file()
    assert sm.settings.soundfont == str(good) and sm.chooser.applied[-1] == str(good)
    assert messages[-1].startswith("FluidSynth could not load")

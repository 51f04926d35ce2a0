"""The controller lane: shows a track's bend/pedal/CC events, draws and erases them in one step."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from musicapp.core.song import Control, Note, Song, Track
from tests.ui.conftest import drag


def _song() -> Song:
    lead = Track("Lead", 0, 0, (Note(0, 60, 960),),
                 controls=(Control(0, "pitchwheel", 0, 0), Control(480, "pitchwheel", 0, 4096),
                           Control(0, "control_change", 64, 127), Control(960, "control_change", 74, 20)))
    other = Track("Pad", 1, 88, (Note(0, 48, 960),))
    return Song(tracks=(lead, other))


def _ready(win):
    win.document.reset(_song())
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    lane = win.roll.control_lane
    lane.set_key("pitchwheel", 0)
    return lane


def _x(win, tick: int) -> int:
    return int(win.roll.view.tick_to_x(tick)) + 1


def test_lane_offers_standard_controllers_plus_the_ones_the_track_uses(win):
    lane = _ready(win)
    items = [lane.chooser.itemText(i) for i in range(lane.chooser.count())]
    assert items[:3] == ["Bend", "Sustain", "Mod"] and items[-1] == "CC74"
    assert lane.chooser.currentText() == "Bend"
    win.document.set_active_track(1)  # the pad uses no CC74
    assert "CC74" not in [lane.chooser.itemText(i) for i in range(lane.chooser.count())]


def test_lane_draws_the_bend_as_a_step_line_at_the_events_ticks(win):
    lane = _ready(win)
    assert lane.events() == [(0, 0), (480, 4096)]
    image = lane.grab().toImage()
    bent_y = round(lane.value_to_y(4096))
    line = QColor(win.roll.theme.color("note_high")).rgb()
    x_after = _x(win, 600)
    assert any(image.pixel(x_after, y) == line for y in range(bent_y - 1, bent_y + 2))
    x_before = _x(win, 240)
    assert all(image.pixel(x_before, y) != line for y in range(bent_y - 1, bent_y + 2))


def test_dragging_in_the_lane_draws_values_on_the_grid_in_one_undo_step(win):
    lane = _ready(win)
    win.roll.set_grid(win.roll.grid.from_text("4"))  # quarter notes: 480 ticks
    lane.set_key("control_change", 1)
    top = round(lane.value_to_y(127))
    drag(lane, QPoint(_x(win, 960), top), QPoint(_x(win, 1920), top), steps=8)
    mod = [(c.tick, c.value) for c in win.document.song.tracks[0].controls if c.number == 1]
    assert [t for t, _ in mod] == [960, 1440, 1920] and all(v >= 125 for _, v in mod)
    assert win.document.undo_stack.count() == 1
    win.document.undo_stack.undo()
    assert not [c for c in win.document.song.tracks[0].controls if c.number == 1]


def test_right_drag_erases_the_span_and_keeps_other_controllers(win):
    lane = _ready(win)
    drag(lane, QPoint(_x(win, 400), 20), QPoint(_x(win, 700), 20), button=Qt.RightButton)
    controls = win.document.song.tracks[0].controls
    assert Control(480, "pitchwheel", 0, 4096) not in controls
    assert Control(0, "pitchwheel", 0, 0) in controls and Control(0, "control_change", 64, 127) in controls
    assert win.document.undo_stack.count() == 1


def test_drawing_without_a_grid_puts_a_point_every_few_pixels_not_every_tick(win):
    lane = _ready(win)
    win.roll.set_grid(win.roll.grid.from_text("off"))
    lane.set_key("control_change", 11)
    a, b = _x(win, 0), _x(win, 1920)
    drag(lane, QPoint(a, 10), QPoint(b, 50), steps=3)
    expr = [c for c in win.document.song.tracks[0].controls if c.number == 11]
    assert 2 <= len(expr) <= (b - a) // 4 + 4
    assert expr[0].value > expr[-1].value  # drawn from high to low

"""The editor state a project carries (view, grid, tool, active track, cursor, loop), checked.

Owns what of a stored ``"editor"`` object the window may apply: each field is taken only
when it has the right type, and positions are clamped to the song's range (0 to 100,000
quarter notes, as far as a song may reach), so a damaged or hostile editor state can never
stop its song from opening, grow memory or raise. Anything unusable is dropped and named.
"""

from __future__ import annotations

from typing import Any

from musicapp.core.midi_check import MAX_BEATS
from musicapp.core.song import Song


def clean_editor_state(state: Any, song: Song, tools: set[str] | dict) -> tuple[dict, list[str]]:
    """(the usable fields of ``state``, names of the fields dropped).

    Keys of the result: ``view`` (dict of floats), ``grid`` (str), ``tool`` (a name in
    ``tools``), ``active_track`` (an index into ``song.tracks``), ``cursor`` (tick) and
    ``loop`` ((start, end) ticks, start < end). Ticks are clamped to 0..MAX_BEATS*ppq.
    """
    if not isinstance(state, dict):
        return {}, ["editor"] if state else []
    last = MAX_BEATS * song.ppq
    out: dict = {}
    dropped: list[str] = []

    def take(name: str, ok: bool, value: Any) -> None:
        if name not in state:
            return
        if ok:
            out[name] = value
        else:
            dropped.append(name)

    view = state.get("view")
    if isinstance(view, dict):
        out["view"] = {k: float(v) for k, v in view.items()
                       if k in ("px_per_tick", "row_height", "left_tick", "top_pitch") and _is_number(v)}
    elif "view" in state:
        dropped.append("view")
    grid = state.get("grid")
    take("grid", isinstance(grid, str) and len(grid) <= 8, grid)
    tool = state.get("tool")
    take("tool", isinstance(tool, str) and tool in tools, tool)
    at = state.get("active_track")
    take("active_track", _is_int(at) and 0 <= at < len(song.tracks), at)
    cursor = state.get("cursor")
    take("cursor", _is_int(cursor), min(max(cursor, 0), last) if _is_int(cursor) else 0)
    loop = state.get("loop")
    good_loop = (isinstance(loop, list) and len(loop) == 2 and all(_is_int(x) for x in loop)
                 and 0 <= loop[0] < loop[1] and loop[0] < last)
    if loop is None and "loop" in state:
        out["loop"] = None
    else:
        take("loop", good_loop, (loop[0], min(loop[1], last)) if good_loop else None)
    return out, dropped


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    return type(v) in (int, float) and abs(v) < 1e18

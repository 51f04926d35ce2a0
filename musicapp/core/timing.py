"""Time display helpers on top of the song's tempo and meter maps.

Owns the user-facing forms of a position or length: bars spanned, "bar.beat.tick"
(1-based, as sequencers show it) and "m:ss.mmm". Conversions themselves (ticks <->
seconds, ticks <-> bar/beat) live on ``Song``.
"""

from __future__ import annotations

from musicapp.core.song import Song


def bars_spanned(song: Song, tick: int) -> int:
    """Number of bars from the start up to ``tick`` (a bar that has begun counts whole)."""
    if tick < 0:
        raise ValueError(f"tick {tick} is negative")
    if tick == 0:
        return 0
    bar, beat, rest = song.tick_to_bar_beat(tick)
    return bar + (1 if beat or rest else 0)


def format_position(song: Song, tick: int) -> str:
    """``tick`` as "bar.beat.tick", bar and beat counted from 1 (tick 0 -> "1.1.0")."""
    bar, beat, rest = song.tick_to_bar_beat(tick)
    return f"{bar + 1}.{beat + 1}.{rest}"


def format_seconds(seconds: float) -> str:
    """Seconds as "m:ss.mmm" (or "h:mm:ss.mmm" from one hour on)."""
    ms = round(max(seconds, 0.0) * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}" if h else f"{m}:{s:02d}.{ms:03d}"

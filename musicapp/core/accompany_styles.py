"""The accompaniment style names and what each plays (no heavy imports: the CLI's ``--help``
and the editor's style menu read them without loading numpy)."""

from __future__ import annotations

#: style name -> one line saying what the keys and bass play.
STYLE_HELP: dict[str, str] = {
    "block": "block chords on every beat; bass on each beat with passing and approach notes",
    "arp-up": "chords broken upwards in eighths; walking bass",
    "arp-down": "chords broken downwards in eighths; walking bass",
    "alberti": "Alberti bass figure (low-high-middle-high) in eighths; walking bass",
    "waltz": "oom-pah-pah: bass on the downbeat, chords on the other beats",
    "oompah": "folk oom-pah: bass (root, fifth) on the strong beats, chords between",
    "pad": "sustained chords, one per chord; bass holds the root",
}
STYLES: tuple[str, ...] = tuple(STYLE_HELP)

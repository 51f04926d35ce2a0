"""Level-of-detail note drawing for dense views: rasterise thousands of note rectangles with numpy.

When a zoomed-out view shows thousands of notes, building one QRectF per note costs more than
the drawing itself. ``NoteRaster`` instead writes the notes' pixels into a numpy ARGB buffer
(narrow notes in one fancy-indexed assignment, wide ones by slices) and hands Qt a single
image. Notes of a higher colour index paint over lower ones, as ``drawRects`` in that order would. Borders are not
drawn at this level of detail (notes are a few pixels wide there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

if TYPE_CHECKING:
    import numpy as np

#: from this many visible notes on, a layer draws through the raster instead of QRectFs.
DENSE_NOTES = 1500
#: notes at most this many pixels wide are filled by fancy indexing, wider ones by slices.
NARROW_PX = 8


class NoteRaster:
    """An ARGB image of ``width`` x ``height`` pixels that note rectangles are drawn into."""

    def __init__(self, width: int, height: int):
        import numpy as np

        self.width, self.height = max(1, int(width)), max(1, int(height))
        self.pixels = np.zeros((self.height, self.width), dtype=np.uint32)

    def fill(self, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray, kinds: np.ndarray, row_h: float,
             palette: list[QColor]) -> None:
        """Fill note rectangles (x, y, width in pixels; height ``row_h``) in ``palette[kind]``.

        Higher kinds paint over lower ones. Narrow notes (the many, when zoomed out) are set
        with one fancy-indexed assignment; the few wide ones with one slice each.
        """
        if len(xs) == 0:
            return
        import numpy as np

        W, H = self.width, self.height
        colors = np.array([c.rgba() for c in palette], dtype=np.uint32)
        order = np.argsort(kinds, kind="stable")
        x0 = np.floor(xs[order]).astype(np.int64)
        y0 = np.floor(ys[order]).astype(np.int64)
        w = np.maximum(1, np.round(ws[order]).astype(np.int64))
        k = kinds[order]
        h = max(1, int(row_h))
        wide = (w > NARROW_PX) | (x0 < 0) | (y0 < 0) | (x0 + w > W) | (y0 + h > H)  # few: by slices
        for xa, ya, wa, ka in zip(x0[wide].tolist(), y0[wide].tolist(), w[wide].tolist(), k[wide].tolist()):
            self.pixels[max(0, ya):max(0, min(H, ya + h)), max(0, xa):max(0, min(W, xa + wa))] = colors[ka]
        n = ~wide
        x0, y0, w, k = x0[n], y0[n], w[n], k[n]
        if not len(w):
            return
        span = int(w.max())
        cell_x = np.tile(np.arange(span), h)  # cell offsets of a note's box, row by row
        offsets = np.repeat(np.arange(h), span) * W + cell_x
        linear = (y0 * W + x0)[:, None] + offsets[None, :]  # (notes, h * span) pixel indices
        flat = self.pixels.reshape(-1)
        if int(w.min()) == span:
            flat[linear.reshape(-1)] = np.repeat(colors[k], h * span)
        else:
            inside = cell_x[None, :] < w[:, None]
            flat[linear[inside]] = np.repeat(colors[k], inside.sum(axis=1))

    def draw(self, painter: QPainter) -> None:
        """Paint the image at the widget's origin (transparent where no note was filled)."""
        image = QImage(self.pixels.data, self.width, self.height, self.width * 4, QImage.Format_ARGB32)
        painter.drawImage(QPointF(0, 0), image)

"""Procedural surface textures and sign plates with readable text.

Flat colours make rendered images too easy and too unlike real homes, offices and
warehouses, and a robot that must find "Room 203" or shelf "B-12" needs that text
to be legible in its camera image. Textures here are seamlessly tileable (every noise
field is built periodically), keep their mean on the requested colour (so "the red sofa"
still looks red), and draw every random number from the generator passed in, so one
seed gives byte-identical images.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from astra_sim.core.errors import UnknownNameError

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "red": (180, 40, 40),
    "blue": (40, 80, 170),
    "green": (50, 130, 60),
    "light green": (170, 215, 160),
    "olive": (120, 120, 50),
    "yellow": (225, 190, 40),
    "orange": (225, 120, 40),
    "white": (242, 242, 238),
    "cream": (240, 232, 205),
    "beige": (215, 195, 160),
    "light grey": (200, 200, 200),
    "grey": (128, 128, 128),
    "dark grey": (70, 70, 72),
    "black": (30, 30, 32),
    "brown": (120, 80, 50),
    "dark brown": (75, 50, 32),
    "terracotta": (190, 95, 65),
    "light blue": (160, 200, 230),
    "navy": (30, 45, 100),
    "teal": (30, 128, 128),
    "pink": (235, 170, 185),
    "purple": (120, 60, 150),
}
"""Named colours used as visual attributes of objects and surfaces, in sRGB 0-255.

White and black stay a little inside the gamut so texture detail is not clipped away.
"""

ATLAS_COLUMNS = 8
"""Sign atlas width in cells; a power of two so cell edges are exact dyadic UVs."""


def colour_rgb(name: str) -> RGB:
    """The sRGB triple of a named colour; unknown names raise an error listing valid ones."""
    try:
        return COLOURS[name]
    except (KeyError, TypeError):
        raise UnknownNameError("colour", name, COLOURS) from None


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _rgb(colour: str | Sequence[int], what: str = "colour") -> RGB:
    """Resolve a colour name or check an explicit (r, g, b) triple of ints in 0-255."""
    if isinstance(colour, str):
        return colour_rgb(colour)
    values = tuple(colour)
    if len(values) != 3 or not all(_is_int(c) and 0 <= c <= 255 for c in values):
        raise ValueError(f"{what} must be a name or 3 ints in [0, 255], got {colour!r}")
    return (int(values[0]), int(values[1]), int(values[2]))


# ---------------------------------------------------------------- periodic noise fields
def _unit(field: np.ndarray) -> np.ndarray:
    """Zero mean, unit std, so each component's weight is its amplitude in grey levels."""
    field = field - field.mean()
    std = field.std()
    return field / std if std > 0 else field


def _noise(rng: np.random.Generator, n: int, sy: float, sx: float | None = None) -> np.ndarray:
    """White noise blurred by a Gaussian in Fourier space: exactly periodic, so tileable.

    ``sy``/``sx`` are blur widths in pixels along rows/columns; unequal widths give streaks.
    """
    sx = sy if sx is None else sx
    white = rng.standard_normal((n, n))
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    kernel = np.exp(-2.0 * np.pi**2 * ((sy * fy) ** 2 + (sx * fx) ** 2))
    return _unit(np.fft.irfft2(np.fft.rfft2(white) * kernel, s=(n, n)))


def _wood(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Boards along x with their own tones, grain streaks, dark seams and one butt joint each."""
    boards, seam = 4, max(1, n // 128)
    h = n // boards
    y = np.arange(n)
    # Offset by half a board so the wrap seam of the image falls mid-board.
    board = ((y + h // 2) // h) % boards
    field = 8.0 * rng.standard_normal(boards)[board][:, None] * np.ones((1, n))
    warp = _noise(rng, n, n / 16, n / 4)
    figure = np.sin(2 * np.pi * (3 * boards * y[:, None] / n) + 1.5 * warp)
    field += 4.0 * figure + 5.0 * _noise(rng, n, 0.7, n / 8)
    field[((y + h // 2) % h) < seam, :] -= 30.0
    joints = rng.integers(seam + 1, n - seam - 1, boards)
    for b, x in enumerate(joints):
        field[board == b, x : x + seam] -= 25.0
    return field


def _carpet(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Fine pile noise with a faint diamond pattern."""
    f = int(rng.integers(4, 9))
    t = 2 * np.pi * f * np.arange(n) / n
    pattern = np.cos(t)[:, None] * np.cos(t)[None, :]
    return 9.0 * _noise(rng, n, 0.5) + 3.0 * pattern + 2.0 * _noise(rng, n, n / 16)


def _tiles(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Square tiles with per-tile tone jitter, and grout that contrasts with the tile."""
    k, grout = 4, max(1, n // 64)
    t = n // k
    # Shift by half a tile so the image's wrap seam runs through tile centres, not grout.
    idx = np.arange(n) + t // 2
    cell = (idx // t) % k
    field = 6.0 * rng.standard_normal((k, k))[cell][:, cell] + 2.0 * _noise(rng, n, 0.8)
    line = (idx % t) < grout
    field[line[:, None] | line[None, :]] = -35.0 if light else 35.0
    return field


def _concrete(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Several octaves of smooth noise plus sparse light and dark speckles (aggregate)."""
    field = 6.0 * _noise(rng, n, n / 8) + 4.0 * _noise(rng, n, n / 32) + 3.0 * _noise(rng, n, 1)
    speckle = rng.random((n, n)) < 0.015
    field[speckle] += 18.0 * rng.choice([-1.0, 1.0], size=int(speckle.sum()))
    return field


def _paint(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """A painted wall: nearly flat, a gentle roller-mark undulation and fine grain."""
    return 4.0 * _noise(rng, n, n / 10) + 2.0 * _noise(rng, n, 1.5) + rng.standard_normal((n, n))


def _fabric(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """A plain weave: warp and weft threads crossing over and under in a checker."""
    p = max(4, n // 32)
    idx = np.arange(n) + p // 2  # wrap seam falls mid-thread
    profile = np.sin(np.pi * ((idx % p) + 0.5) / p)
    over = ((idx // p)[:, None] + (idx // p)[None, :]) % 2 == 0
    weave = np.where(over, profile[None, :], profile[:, None])
    return 24.0 * (weave - 0.5) + 3.0 * _noise(rng, n, 0.7) + 3.0 * _noise(rng, n, n / 8)


def _metal(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Brushed metal: long thin streaks along x, plus a faint broad sheen."""
    return 7.0 * _noise(rng, n, 0.5, n / 8) + 2.0 * _noise(rng, n, n / 6)


def _plastic(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Moulded plastic: flat with faint mottling."""
    return 3.0 * _noise(rng, n, n / 8) + 2.5 * _noise(rng, n, 0.8)


def _wallpaper(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Vertical stripes with thin pinstripes and a dot motif on alternate bands."""
    k = int(rng.choice([4, 8]))
    s = n // k
    idx = np.arange(n) + s // 4  # wrap seam falls inside a band
    band = np.where((idx % s) < s // 2, 1.0, -1.0)
    pin = np.where((idx % s) == s // 2, 1.0, 0.0)
    field = 8.0 * band[None, :] - 12.0 * pin[None, :] * np.ones((n, 1))
    dy = (np.arange(n) % s) - (s - 1) / 2
    dx = (idx % s) - (3 * s - 2) / 4
    dots = dy[:, None] ** 2 + dx[None, :] ** 2 <= (s / 8) ** 2
    sign = float(rng.choice([-1.0, 1.0]))
    field[dots] += sign * 16.0
    return field + 2.0 * _noise(rng, n, n / 10)


def _leather(rng: np.random.Generator, n: int, light: bool) -> np.ndarray:
    """Crinkled hide: dark creases where smooth noise crosses zero, at two scales."""
    coarse, fine = _noise(rng, n, n / 24), _noise(rng, n, n / 48)
    creases = 14.0 * np.exp(-((coarse / 0.2) ** 2)) + 8.0 * np.exp(-((fine / 0.2) ** 2))
    return -creases + 3.0 * _noise(rng, n, n / 6) + 2.0 * _noise(rng, n, 0.6)


_FIELDS: dict[str, Callable[[np.random.Generator, int, bool], np.ndarray]] = {
    "wood": _wood,
    "carpet": _carpet,
    "tiles": _tiles,
    "concrete": _concrete,
    "paint": _paint,
    "fabric": _fabric,
    "metal": _metal,
    "plastic": _plastic,
    "wallpaper": _wallpaper,
    "leather": _leather,
}

TEXTURE_KINDS: tuple[str, ...] = tuple(_FIELDS)
"""Every surface kind ``make_texture`` can draw."""


def make_texture(
    kind: str, colour: str | Sequence[int], rng: np.random.Generator, size: int = 128
) -> np.ndarray:
    """A seamlessly tileable (size, size, 3) uint8 texture whose mean is ``colour``.

    The pattern is a zero-mean grey-level field added equally to all channels, so the
    mean colour is kept (attributes like "red" stay true) and even black or saturated
    colours show detail in every channel. The base is pulled slightly inside the gamut
    (at most 20 levels) so that the detail is not clipped away on white or black.

    Args:
        kind: one of ``TEXTURE_KINDS``.
        colour: a name from ``COLOURS`` or an (r, g, b) triple of ints in 0-255.
        rng: the only source of randomness, so the same seed gives identical bytes.
        size: edge length in pixels; a power of two >= 16 so periodic patterns fit.

    Raises:
        UnknownNameError: for an unknown kind or colour name.
        ValueError: for a bad size or colour triple.
    """
    if kind not in _FIELDS:
        raise UnknownNameError("texture kind", kind, TEXTURE_KINDS)
    base = np.asarray(_rgb(colour), dtype=np.float64)
    if not _is_int(size) or size < 16 or size & (size - 1):
        raise ValueError(f"texture size must be a power of two >= 16, got {size!r}")
    n = int(size)
    luma = float(base @ np.array([0.299, 0.587, 0.114]))
    field = _FIELDS[kind](rng, n, luma >= 128.0)
    field = field - field.mean()
    margin = min(20.0, 2.0 * float(field.std()))
    base = np.clip(base, margin, 255.0 - margin)
    image = np.rint(base[None, None, :] + field[:, :, None])
    return np.clip(image, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------ sign plates
@functools.lru_cache(maxsize=512)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """PIL's built-in scalable font (no files on disk), cached because plates repeat sizes."""
    return ImageFont.load_default(size=size)


def _fit(text: str, avail_w: int, avail_h: int) -> tuple[int, tuple[int, int, int, int]]:
    """The largest font size whose ink bbox fits the area, and that bbox.

    Guess from one measurement (glyph size scales ~linearly), then step down until it
    fits and up while the next size still fits, so the result is the true largest size.
    """
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))

    def bbox(size: int) -> tuple[int, int, int, int]:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=_font(size))
        return int(left), int(top), int(right), int(bottom)

    def fits(box: tuple[int, int, int, int]) -> bool:
        return box[2] - box[0] <= avail_w and box[3] - box[1] <= avail_h

    size = max(1, 2 * avail_h)
    box = bbox(size)
    width, height = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    size = max(1, min(size, int(size * min(avail_w / width, avail_h / height))))
    box = bbox(size)
    while size > 1 and not fits(box):
        size -= 1
        box = bbox(size)
    while fits(box) and fits(bigger := bbox(size + 1)):
        size, box = size + 1, bigger
    return size, box


def render_text_plate(
    text: str,
    width_px: int,
    height_px: int,
    fg: str | Sequence[int] = (20, 20, 20),
    bg: str | Sequence[int] = (240, 240, 235),
    border: bool = True,
) -> np.ndarray:
    """A (height_px, width_px, 3) uint8 plate with ``text`` centred, as large as it fits.

    Text is drawn upright and unmirrored in image convention (row 0 at the top); mapping
    it onto geometry with v-up UVs is the atlas's job. Empty or blank text gives a plate of
    ``bg`` (with the border, if asked for). Deterministic: PIL's built-in font, integer
    placement.

    Args:
        text: what the sign says; may contain newlines.
        width_px: plate width in pixels.
        height_px: plate height in pixels.
        fg: text and border colour, a name or (r, g, b).
        bg: plate colour, a name or (r, g, b).
        border: draw a thin frame in ``fg``, as real door and shelf signs have.
    """
    for name, value in (("width_px", width_px), ("height_px", height_px)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    fg_rgb, bg_rgb = _rgb(fg, "fg"), _rgb(bg, "bg")
    w, h = int(width_px), int(height_px)
    image = Image.new("RGB", (w, h), bg_rgb)
    draw = ImageDraw.Draw(image)
    line = max(1, round(min(w, h) / 32))
    if border:
        draw.rectangle((0, 0, w - 1, h - 1), outline=fg_rgb, width=line)
    margin = line + max(2, round(0.1 * min(w, h)))
    if text.strip():
        avail_w, avail_h = max(1, w - 2 * margin), max(1, h - 2 * margin)
        size, (left, top, right, bottom) = _fit(text, avail_w, avail_h)
        x = (w - (right - left)) // 2 - left
        y = (h - (bottom - top)) // 2 - top
        draw.text((x, y), text, fill=fg_rgb, font=_font(size))
    return np.asarray(image, dtype=np.uint8).copy()


def _next_pow2(k: int) -> int:
    return 1 << max(0, k - 1).bit_length()


@dataclass(eq=False)
class SignAtlas:
    """All sign plates of a scene in one texture, so signs share a single material.

    Attributes:
        image: (H, W, 3) uint8, ``ATLAS_COLUMNS`` cells wide and a power of two cells tall,
            so every cell edge is a dyadic UV that survives float32 and v-flip round trips.
        rects: (len(texts) + 1, 4) float32 ``[u0, v0, u1, v1]`` per cell, v up with (0, 0) at
            the image's bottom-left (OpenGL/trimesh); row 0 is a blank cell for the backs
            and edges of signs, row i + 1 is ``texts[i]``.
        texts: the sign texts, in cell order.
    """

    image: np.ndarray
    rects: np.ndarray
    texts: list[str]

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        cell_px: tuple[int, int] = (256, 64),
        fg: str | Sequence[int] = (20, 20, 20),
        bg: str | Sequence[int] = (240, 240, 235),
    ) -> SignAtlas:
        """Render one plate per text (plus the blank cell) into a packed atlas.

        Args:
            texts: sign texts; may be empty (the atlas then holds only the blank cell).
            cell_px: (width, height) of each cell in pixels.
            fg: text and border colour.
            bg: plate colour; the blank cell is plain ``bg`` with no border.
        """
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise ValueError("sign texts must all be strings")
        cw, ch = (int(v) for v in cell_px)
        if cw < 1 or ch < 1:
            raise ValueError(f"cell_px must be two positive ints, got {cell_px!r}")
        cells, k = len(texts) + 1, ATLAS_COLUMNS
        rows = _next_pow2(-(-cells // k))
        image = np.empty((rows * ch, k * cw, 3), dtype=np.uint8)
        image[:] = np.asarray(_rgb(bg, "bg"), dtype=np.uint8)
        rects = np.empty((cells, 4), dtype=np.float32)
        plates: dict[str, np.ndarray] = {}
        for c in range(cells):
            r, col = divmod(c, k)
            rects[c] = (col / k, 1 - (r + 1) / rows, (col + 1) / k, 1 - r / rows)
            if c == 0:
                continue
            text = texts[c - 1]
            if text not in plates:
                plates[text] = render_text_plate(text, cw, ch, fg, bg)
            image[r * ch : (r + 1) * ch, col * cw : (col + 1) * cw] = plates[text]
        return cls(image=image, rects=rects, texts=texts)

    def rect(self, text_index: int) -> np.ndarray:
        """The ``[u0, v0, u1, v1]`` cell of ``texts[text_index]``."""
        if not 0 <= text_index < len(self.texts):
            raise IndexError(f"sign text index {text_index} out of range [0, {len(self.texts)})")
        return self.rects[text_index + 1]

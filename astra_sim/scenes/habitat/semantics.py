"""HM3D semantic annotations: the ``.semantic.txt`` table and semantic-mesh colours.

The table (habitat-sim ``scene/HM3DSemanticScene.cpp``) starts with a line holding
``HM3D Semantic Annotations``; every further line is ``id,RRGGBB,"category",region``, the
category quoted because it may hold commas. Id 0 is habitat's implicit "Unknown" (black,
region -1). A semantic mesh paints each object's triangles in its colour; habitat reads
glTF vertex colours as linear and matches them in sRGB, so both directions of that
conversion live here, with habitat-sim's formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astra_sim.core.errors import SceneFormatError

HM3D_HEADER = "HM3D Semantic Annotations"
_COLOUR_STEP = 0x5BD1E5  # odd, so id -> id * step mod 2**24 is a bijection (0 stays black)


@dataclass(frozen=True)
class SemanticRow:
    """One annotated object of a ``.semantic.txt``.

    Attributes:
        id: habitat's semantic id (what its semantic sensor returns).
        colour: 0xRRGGBB sRGB colour of the object's triangles in the semantic mesh.
        category: free-text category, e.g. ``kitchen cabinet``.
        region: region (room) index, -1 for none.
        line: 1-based line number in the file, for error messages.
    """

    id: int
    colour: int
    category: str
    region: int
    line: int = 0


def read_semantic_txt(path: str | Path) -> list[SemanticRow]:
    """Parse an HM3D ``.semantic.txt``.

    Raises:
        SceneFormatError: naming the file and line of a missing header, a malformed row, or
            an id or colour used twice.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SceneFormatError(f"{path}: cannot read the semantic table ({e})") from e
    if not lines or HM3D_HEADER not in lines[0]:
        first = lines[0][:60] if lines else ""
        raise SceneFormatError(
            f"{path}: line 1 is {first!r}, expected a header holding {HM3D_HEADER!r}"
        )
    rows: list[SemanticRow] = []
    seen_id: dict[int, int] = {}
    seen_colour: dict[int, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        row = _parse_row(line, f"{path}:{number}", number)
        for table, key, what in ((seen_id, row.id, "id"), (seen_colour, row.colour, "colour")):
            if key in table:
                shown = key if what == "id" else f"{key:06X}"
                raise SceneFormatError(
                    f"{path}:{number}: {what} {shown} was already used on line {table[key]}"
                )
            table[key] = number
        rows.append(row)
    return rows


def _parse_row(line: str, where: str, number: int) -> SemanticRow:
    tokens = [t for t in line.split('"') if t]
    head = [t.strip() for t in tokens[0].split(",") if t.strip()] if tokens else []
    if len(tokens) < 3 or len(head) != 2:
        raise SceneFormatError(f'{where}: expected id,RRGGBB,"category",region, got {line!r}')
    try:
        ident = int(head[0])
        region = int(tokens[-1].strip(" ,"))
    except ValueError:
        raise SceneFormatError(f"{where}: id and region must be integers, got {line!r}") from None
    text = head[1].removeprefix("#")
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise SceneFormatError(f"{where}: colour {head[1]!r} is not a 6-digit hex RGB")
    if ident <= 0:
        raise SceneFormatError(f"{where}: id {ident} must be > 0 (0 is habitat's Unknown)")
    category = '"'.join(tokens[1:-1]).strip()
    return SemanticRow(ident, int(text, 16), category, region, number)


def semantic_txt_bytes(rows: list[SemanticRow]) -> bytes:
    """The ``.semantic.txt`` text for ``rows`` (quotes in categories become apostrophes)."""
    out = [HM3D_HEADER]
    for r in rows:
        category = r.category.replace('"', "'")
        out.append(f'{r.id},{r.colour:06X},"{category}",{r.region}')
    return ("\n".join(out) + "\n").encode("utf-8")


def colour_of_id(ids: np.ndarray | int) -> np.ndarray:
    """Distinct, deterministic 0xRRGGBB colours for ids (a bijection on 24 bits; 0 is black)."""
    return (np.asarray(ids, dtype=np.int64) * _COLOUR_STEP) % (1 << 24)


def linear_to_srgb_int(linear: np.ndarray) -> np.ndarray:
    """(N, 3) linear RGB in [0, 1] -> (N,) 0xRRGGBB, as Magnum's ``toSrgb<UnsignedByte>``."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    s = np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    b = np.rint(s * 255.0).astype(np.int64)
    return (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]


def srgb_int_to_linear(colours: np.ndarray) -> np.ndarray:
    """(N,) 0xRRGGBB -> (N, 3) linear RGB that habitat reads back as the same bytes.

    Each channel is aimed a quarter level above its byte, so the round trip holds whether
    the reader rounds or truncates after the sRGB curve.
    """
    c = np.asarray(colours, dtype=np.int64)
    b = np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], axis=1).astype(np.float64)
    s = np.where(b > 0, (b + 0.25) / 255.0, 0.0)
    s = np.minimum(s, 1.0)
    return np.where(s <= 0.04045, s / 12.92, np.power((s + 0.055) / 1.055, 2.4))


def ids_of_colours(colours: np.ndarray, rows: list[SemanticRow]) -> np.ndarray:
    """The row id of each 0xRRGGBB colour; 0 where no row has that colour."""
    colours = np.asarray(colours, dtype=np.int64)
    if not rows:
        return np.zeros(colours.shape, dtype=np.int64)
    table = np.array([r.colour for r in rows], dtype=np.int64)
    ident = np.array([r.id for r in rows], dtype=np.int64)
    order = np.argsort(table)
    table, ident = table[order], ident[order]
    pos = np.clip(np.searchsorted(table, colours), 0, len(table) - 1)
    return np.where(table[pos] == colours, ident[pos], 0)

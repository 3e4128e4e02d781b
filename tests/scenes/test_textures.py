"""Procedural textures and sign plates: determinism, tiling, colour, legibility, atlas UVs."""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.scenes.textures import (
    COLOURS,
    TEXTURE_KINDS,
    SignAtlas,
    colour_rgb,
    make_texture,
    render_text_plate,
)

KIND_COLOURS = [
    (kind, colour)
    for kind in TEXTURE_KINDS
    for colour in ("red", "navy", "white", "black", "beige")
]


def _tex(kind: str, seed: int, colour: str = "grey", size: int = 64) -> np.ndarray:
    return make_texture(kind, colour, np.random.default_rng(seed), size=size)


def _dark_mask(plate: np.ndarray) -> np.ndarray:
    return plate.max(axis=2) < 100


# ---------------------------------------------------------------- textures
def test_texture_kinds_and_colours_cover_what_generators_ask_for():
    assert len(TEXTURE_KINDS) == len(set(TEXTURE_KINDS)) == 10
    for name in ("red", "dark brown", "light blue", "light green", "terracotta", "navy", "teal"):
        assert name in COLOURS
    for rgb in COLOURS.values():
        assert len(rgb) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in rgb)
    assert colour_rgb("red") == COLOURS["red"]


@pytest.mark.parametrize("kind", TEXTURE_KINDS)
def test_same_seed_is_byte_identical_and_other_seed_differs(kind):
    a, b, c = _tex(kind, 7), _tex(kind, 7), _tex(kind, 8)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_texture_does_not_touch_global_numpy_random():
    state = np.random.get_state()
    for kind in TEXTURE_KINDS:
        _tex(kind, 1)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


@pytest.mark.parametrize("size", [16, 128])
@pytest.mark.parametrize("kind", TEXTURE_KINDS)
def test_texture_tiles_without_a_visible_seam(kind, size):
    for seed in range(3):
        t = _tex(kind, seed, "grey", size).astype(np.float64)
        for axis in (0, 1):
            pairs = np.abs(np.diff(t, axis=axis)).mean(axis=(1 - axis, 2))
            first, last = np.take(t, 0, axis=axis), np.take(t, -1, axis=axis)
            seam = np.abs(first - last).mean()
            # Rows of streaky kinds are nearly independent, so one pair can be large by
            # chance; a real seam would exceed both the typical and the largest interior jump.
            assert seam <= max(2 * pairs.mean() + 4, pairs.max()), (kind, seed, axis, seam)


def test_a_non_periodic_texture_would_fail_the_seam_check():
    ramp = np.tile(np.linspace(0, 200, 64)[:, None, None], (1, 64, 3))
    pairs = np.abs(np.diff(ramp, axis=0)).mean(axis=(1, 2))
    seam = np.abs(ramp[0] - ramp[-1]).mean()
    assert seam > max(2 * pairs.mean() + 4, pairs.max())


@pytest.mark.parametrize(("kind", "colour"), KIND_COLOURS)
def test_mean_colour_is_kept_and_texture_is_not_flat(kind, colour):
    t = _tex(kind, 3, colour, 128).reshape(-1, 3).astype(np.float64)
    assert np.all(np.abs(t.mean(axis=0) - colour_rgb(colour)) <= 25), t.mean(axis=0)
    assert np.all(t.std(axis=0) > 3), t.std(axis=0)


def test_rgb_tuple_colour_and_extreme_colours_work():
    t = make_texture("tiles", (0, 255, 0), np.random.default_rng(0), 32).reshape(-1, 3)
    assert np.all(np.abs(t.mean(axis=0) - (0, 255, 0)) <= 25)
    assert np.all(t.astype(float).std(axis=0) > 3)


def test_unknown_kind_and_colour_name_list_the_valid_ones():
    rng = np.random.default_rng(0)
    with pytest.raises(UnknownNameError, match="wood") as err:
        make_texture("marble", "red", rng)
    assert set(TEXTURE_KINDS) <= set(err.value.valid)
    with pytest.raises(UnknownNameError, match="dark brown"):
        make_texture("wood", "mauve", rng)
    with pytest.raises(UnknownNameError, match="navy"):
        colour_rgb("mauve")


@pytest.mark.parametrize("size", [0, 8, 24, 100, 127, 64.0, True])
def test_bad_size_is_rejected(size):
    with pytest.raises(ValueError, match="power of two"):
        make_texture("wood", "red", np.random.default_rng(0), size=size)


def test_bad_colour_tuple_is_rejected():
    with pytest.raises(ValueError, match="colour"):
        make_texture("wood", (300, 0, 0), np.random.default_rng(0))


# ---------------------------------------------------------------- text plates
def test_plate_has_dark_text_on_mostly_background():
    p = render_text_plate("Room 203", 256, 64)
    assert p.shape == (64, 256, 3) and p.dtype == np.uint8
    dark = _dark_mask(p)
    assert dark.sum() > 200
    assert (np.abs(p.astype(int) - (240, 240, 235)).max(axis=2) < 10).mean() > 0.5


def test_plates_differ_where_the_last_character_differs():
    a = render_text_plate("Room 203", 256, 64).astype(int)
    b = render_text_plate("Room 204", 256, 64).astype(int)
    assert np.array_equal(a, render_text_plate("Room 203", 256, 64))
    diff = np.abs(a - b).max(axis=2) > 60
    cols = np.nonzero(diff.any(axis=0))[0]
    assert cols.size > 0
    # Only the final glyph changed, so all changes sit in the right part of the plate
    # (this also fails if the text were mirrored left-right).
    assert cols.min() > 256 * 0.6


def test_text_is_not_mirrored_or_flipped():
    p = render_text_plate("L", 64, 64, border=False)
    ys, xs = np.nonzero(_dark_mask(p))
    assert xs.size > 50
    # An "L" has its stem on the left and its foot at the bottom of its own bounding box.
    assert xs.mean() < (xs.min() + xs.max()) / 2
    assert ys.mean() > (ys.min() + ys.max()) / 2


def test_text_is_large_and_centred():
    p = render_text_plate("B-12", 256, 64, border=False)
    ys, xs = np.nonzero(_dark_mask(p))
    assert ys.max() - ys.min() > 0.5 * 64
    assert abs((xs.min() + xs.max()) / 2 - 128) <= 3
    assert abs((ys.min() + ys.max()) / 2 - 32) <= 3
    assert xs.min() > 0 and xs.max() < 255 and ys.min() > 0 and ys.max() < 63


def test_long_text_still_fits_inside_the_plate():
    p = render_text_plate("Loading Dock 12 - Returns", 256, 64, border=False)
    xs = np.nonzero(_dark_mask(p).any(axis=0))[0]
    assert xs.size > 0 and xs.min() > 2 and xs.max() < 253


def test_empty_text_gives_a_blank_plate():
    p = render_text_plate("", 128, 32, border=False)
    assert np.all(p == np.array([240, 240, 235], dtype=np.uint8))
    framed = render_text_plate("", 128, 32)
    assert np.all(framed[16, 16:112] == (240, 240, 235)) and _dark_mask(framed)[0].all()


def test_plate_colours_are_used():
    p = render_text_plate("Exit", 128, 32, fg=(200, 0, 0), bg="white", border=False)
    assert tuple(p[0, 0]) == COLOURS["white"]
    red = (p[..., 0] > 150) & (p[..., 1] < 50)
    assert red.sum() > 50


# ---------------------------------------------------------------- sign atlas
def _crop(atlas: SignAtlas, rect: np.ndarray) -> np.ndarray:
    """Cut a cell out of the image with v up and (0, 0) at the bottom-left corner."""
    h, w = atlas.image.shape[:2]
    u0, v0, u1, v1 = (float(x) for x in rect)
    return atlas.image[round((1 - v1) * h) : round((1 - v0) * h), round(u0 * w) : round(u1 * w)]


def test_atlas_rect_samples_the_plate_of_its_text():
    texts = [f"Room {200 + i}" for i in range(11)] + ["B-12", "Exit"]
    atlas = SignAtlas.build(texts, cell_px=(128, 32))
    assert atlas.rects.shape == (len(texts) + 1, 4) and atlas.rects.dtype == np.float32
    assert atlas.texts == texts
    rows = atlas.image.shape[0] // 32
    assert atlas.image.shape == (rows * 32, 8 * 128, 3) and rows == 2
    for i, text in enumerate(texts):
        assert np.array_equal(atlas.rect(i), atlas.rects[i + 1])
        np.testing.assert_array_equal(_crop(atlas, atlas.rect(i)), render_text_plate(text, 128, 32))
    # The first text sits in the top row: its v range is the top of the texture.
    assert atlas.rect(0)[3] == 1.0 and atlas.rect(0)[1] == 0.5


def test_atlas_blank_cell_has_no_dark_pixels():
    atlas = SignAtlas.build(["Room 101", "Room 102"])
    blank = _crop(atlas, atlas.rects[0])
    assert blank.shape == (64, 256, 3)
    assert not _dark_mask(blank).any()


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 23, 64])
def test_atlas_rects_are_exact_dyadic_fractions(n):
    atlas = SignAtlas.build([f"S{i}" for i in range(n)], cell_px=(16, 8))
    rows = atlas.image.shape[0] // 8
    assert rows & (rows - 1) == 0 and rows * 8 >= n + 1
    scaled = atlas.rects.astype(np.float64) * 2**12
    assert np.array_equal(scaled, np.round(scaled))
    # Cells tile the unit square without overlap: u0 < u1, v0 < v1, all in [0, 1].
    assert np.all(atlas.rects[:, 0] < atlas.rects[:, 2])
    assert np.all(atlas.rects[:, 1] < atlas.rects[:, 3])
    assert atlas.rects.min() >= 0 and atlas.rects.max() <= 1
    assert len({tuple(r) for r in atlas.rects.tolist()}) == n + 1


def test_empty_atlas_has_only_the_blank_cell():
    atlas = SignAtlas.build([])
    assert atlas.rects.shape == (1, 4)
    assert atlas.image.shape == (64, 8 * 256, 3)
    np.testing.assert_array_equal(atlas.rects[0], [0.0, 0.0, 0.125, 1.0])
    with pytest.raises(IndexError):
        atlas.rect(0)

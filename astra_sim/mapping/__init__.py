"""Astra-Global's map G = (V, E, L): a tour, its keyframes, edges, landmarks, IO and text.

``build_map(scene, MapConfig())`` tours the scene with the expert and returns a
`TopoSemanticMap`; `save_map` / `load_map` put it on disk; `render_map_text` writes it into a
prompt; `save_map_picture` draws it over the scene.
"""

from astra_sim.mapping.build import POSE_SOURCES, MapConfig, build_map, map_from_tour
from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap
from astra_sim.mapping.io import MapFormatError, load_map, save_map
from astra_sim.mapping.keyframes import KeyframeSelector, select_keyframes
from astra_sim.mapping.text import len_words, render_map_text
from astra_sim.mapping.tour import Tour, coverage_waypoints, record_tour

__all__ = [
    "POSE_SOURCES",
    "KeyframeSelector",
    "Landmark",
    "MapConfig",
    "MapFormatError",
    "Node",
    "TopoSemanticMap",
    "Tour",
    "build_map",
    "coverage_waypoints",
    "len_words",
    "load_map",
    "map_from_tour",
    "record_tour",
    "render_map_text",
    "save_map",
    "select_keyframes",
]

"""Which files make up each scene of a habitat scene dataset, with habitat-sim's rules.

A ``*.scene_dataset_config.json`` (habitat-sim ``docs/pages/attributesJSON.rst``) lists
stages (``.stage_config.json`` files, or render meshes found through ``paths`` globs),
objects, and scene instances that place a stage and objects. Asset names may hold the
``%%CONFIG_NAME_AS_ASSET_FILENAME%%`` tag, replaced by the stage's name with two extensions
stripped (``TEEsavR23oF.basis.glb`` -> ``TEEsavR23oF``). Frames follow
``StageAttributesManager``: explicit ``up``/``front`` win; a stage built without dataset
defaults whose render asset is a ``.glb`` gets up +z, front +y; otherwise up +y, front -z.
A bare mesh file, or a folder without a config, is a dataset of bare stages.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import frames

TAG = "%%CONFIG_NAME_AS_ASSET_FILENAME%%"
CONFIG_SUFFIX = ".scene_dataset_config.json"
STAGE_SUFFIX = ".stage_config.json"
OBJECT_SUFFIX = ".object_config.json"
INSTANCE_SUFFIX = ".scene_instance.json"
MESH_SUFFIXES = (".glb", ".gltf", ".ply", ".obj")


def simplified_handle(path: str | Path) -> str:
    """The file name with two extensions stripped, as habitat-sim's ``getSimplifiedHandle``."""
    name = Path(path).name
    for _ in range(2):
        stem, dot, _ext = name.rpartition(".")
        if dot and stem:
            name = stem
    return name


@dataclass
class Placement:
    """A mesh placed in habitat's world: ``world = Q (R (scale * p) - com) + t``.

    Attributes:
        render: the mesh file.
        up, front: the asset's frame (see ``frames.frame_to_world``).
        scale: per-axis scale in the asset frame.
        rotation: [w, x, y, z] rotation in the world.
        translation: world offset.
        com: True when the translation places the mesh's bounding-box centre (habitat's
            default for rigid objects), False for the asset origin.
        name: what an object instance is called (its template's simplified handle).
    """

    render: Path
    up: tuple[float, ...] = frames.HABITAT_UP
    front: tuple[float, ...] = frames.HABITAT_FRONT
    scale: tuple[float, ...] = (1.0, 1.0, 1.0)
    rotation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
    translation: tuple[float, ...] = (0.0, 0.0, 0.0)
    com: bool = False
    name: str = ""


@dataclass
class SceneSpec:
    """Everything needed to build one scene: the stage, its semantics, placed objects.

    Attributes:
        name: the scene's simplified handle (``TEEsavR23oF``).
        source: the file the scene was defined by (scene instance, stage config or mesh).
        stage: the stage's render mesh and placement.
        semantic: the semantic mesh (``.semantic.glb``), or None.
        semantic_up, semantic_front: the semantic mesh's frame (the stage's by default).
        descriptor: the semantic table (``.semantic.txt``) or MP3D ``.house``, or None.
        objects: rigid objects placed in the scene.
        user_defined: the stage's ``user_defined`` block (astra-sim keeps its tables there).
    """

    name: str
    source: Path
    stage: Placement
    semantic: Path | None = None
    semantic_up: tuple[float, ...] | None = None
    semantic_front: tuple[float, ...] | None = None
    descriptor: Path | None = None
    objects: list[Placement] = field(default_factory=list)
    user_defined: dict[str, Any] = field(default_factory=dict)


def read_json(path: Path) -> dict[str, Any]:
    """A habitat config's JSON object, or a SceneFormatError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SceneFormatError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SceneFormatError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise SceneFormatError(f"{path}: expected a JSON object at the top level")
    return data


class HabitatDataset:
    """The scenes of a habitat scene dataset, by name, built from its config files.

    Args:
        path: a ``*.scene_dataset_config.json``, a folder holding one (or, without one,
            holding bare meshes), or a single mesh file.

    Raises:
        SceneFormatError: naming the file that is missing or malformed, e.g. a stage config
            whose render asset does not exist.
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.exists():
            raise SceneFormatError(f"{path}: no such scene dataset, config or mesh file")
        self.path = path
        self.scenes: dict[str, SceneSpec] = {}
        self._stage_defaults: dict[str, Any] | None = None
        self._stages: dict[str, tuple[dict[str, Any], Path]] = {}  # handle -> attrs, dir
        self._objects: dict[str, tuple[dict[str, Any], Path]] = {}
        if path.is_dir():
            configs = sorted(path.glob(f"*{CONFIG_SUFFIX}"))
            if configs:
                path = configs[0]
            else:
                self.root = path
                for mesh in sorted(p for s in MESH_SUFFIXES for p in path.rglob(f"*{s}")):
                    if not _is_semantic(mesh):
                        self._stages[str(mesh)] = ({"render_asset": str(mesh)}, mesh.parent)
                self._stage_scenes()
                return
        if path.name.endswith(CONFIG_SUFFIX):
            self.root = path.parent
            self._load_config(path)
        elif path.suffix.lower() in MESH_SUFFIXES:
            self.root = path.parent
            self._stages[str(path)] = ({"render_asset": str(path)}, path.parent)
            self._stage_scenes()
        else:
            raise SceneFormatError(
                f"{path}: expected a *{CONFIG_SUFFIX}, a folder or a mesh "
                f"({', '.join(MESH_SUFFIXES)})"
            )
        if not self.scenes:
            raise SceneFormatError(f"{self.path}: the dataset defines no scene")

    # ------------------------------------------------------------------ lookup
    def resolve(self, scene_id: str) -> SceneSpec:
        """The scene an episode's ``scene_id`` names, matched as habitat-lab paths are.

        Tried in order: a scene name, a path ending (``hm3d/val/00800-X/X.basis.glb``
        against the stage's render file), the file name, the simplified handle.

        Raises:
            SceneFormatError: the dataset holds no such scene (the message lists some).
        """
        if scene_id in self.scenes:
            return self.scenes[scene_id]
        wanted = scene_id.replace("\\", "/").removeprefix("data/scene_datasets/")
        for match in (
            lambda s: (
                str(s.stage.render).replace("\\", "/").endswith("/" + wanted)
                or str(s.source).replace("\\", "/").endswith("/" + wanted)
            ),
            lambda s: (
                s.stage.render.name == Path(wanted).name or s.source.name == Path(wanted).name
            ),
            lambda s: s.name == simplified_handle(wanted),
        ):
            found = [s for s in self.scenes.values() if match(s)]
            if len(found) == 1:
                return found[0]
        names = list(self.scenes)
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        raise SceneFormatError(
            f"scene {scene_id!r} is not in the scene dataset {self.path} (it has {shown})"
        )

    # ------------------------------------------------------------------ parsing
    def _load_config(self, path: Path) -> None:
        doc = read_json(path)
        stages = doc.get("stages", {}) or {}
        if "default_attributes" in stages:
            self._stage_defaults = dict(stages["default_attributes"])
        self._collect(stages, STAGE_SUFFIX, self._stages, path)
        self._collect(doc.get("objects", {}) or {}, OBJECT_SUFFIX, self._objects, path)
        instances = doc.get("scene_instances", {}) or {}
        for file in self._files(instances.get("paths", {}), ".json", INSTANCE_SUFFIX):
            self._scene_instance(file)
        self._stage_scenes()

    def _files(self, paths: dict[str, list[str]], ext: str, suffix: str) -> list[Path]:
        out: list[Path] = []
        for entry in paths.get(ext, []):
            target = self.root / entry
            if target.is_dir():
                out += sorted(target.rglob(f"*{suffix}"))
            else:
                out += sorted(Path(p) for p in glob.glob(str(target), recursive=True))
        return [p for p in out if p.name.endswith(suffix)]

    def _collect(self, node: dict[str, Any], suffix: str, into: dict, config: Path) -> None:
        paths = node.get("paths", {}) or {}
        for file in self._files(paths, ".json", suffix):
            into[str(file)] = (read_json(file), file.parent)
        for ext in paths:
            if ext != ".json":
                for mesh in self._files(paths, ext, ext):
                    if not _is_semantic(mesh):
                        into[str(mesh)] = ({"render_asset": str(mesh)}, mesh.parent)
        for i, entry in enumerate(node.get("configs", []) or []):
            handle = entry.get("template_handle")
            if not handle:
                raise SceneFormatError(f"{config}: configs[{i}] has no template_handle")
            attrs, where = {}, config.parent
            if "original_file" in entry:
                original = self.root / entry["original_file"]
                attrs, where = read_json(original), original.parent
            into[handle] = ({**attrs, **entry.get("attributes", {})}, where)

    def _scene_instance(self, file: Path) -> None:
        doc = read_json(file)
        stage_name = (doc.get("stage_instance") or {}).get("template_name")
        if not stage_name:
            raise SceneFormatError(f"{file}: stage_instance.template_name is missing")
        handle = self._find(self._stages, stage_name, file, "stage")
        spec = self._stage_spec(handle, file)
        stage_inst = doc["stage_instance"]
        spec.stage.rotation = tuple(stage_inst.get("rotation", (1.0, 0.0, 0.0, 0.0)))
        spec.stage.translation = tuple(stage_inst.get("translation", (0.0, 0.0, 0.0)))
        default_origin = doc.get("translation_origin", "COM")
        for i, obj in enumerate(doc.get("object_instances", []) or []):
            name = obj.get("template_name")
            if not name:
                raise SceneFormatError(f"{file}: object_instances[{i}].template_name is missing")
            attrs, where = self._objects[self._find(self._objects, name, file, "object")]
            render = self._asset(attrs, "render_asset", where, name, file)
            if render is None:
                raise SceneFormatError(f"{file}: object {name!r} names no render_asset")
            origin = str(obj.get("translation_origin", default_origin)).lower()
            spec.objects.append(
                Placement(
                    render=render,
                    up=tuple(attrs.get("up", frames.HABITAT_UP)),
                    front=tuple(attrs.get("front", frames.HABITAT_FRONT)),
                    scale=_scale(attrs, obj),
                    rotation=tuple(obj.get("rotation", (1.0, 0.0, 0.0, 0.0))),
                    translation=tuple(obj.get("translation", (0.0, 0.0, 0.0))),
                    com=origin != "asset_local",
                    name=simplified_handle(name),
                )
            )
        spec.name, spec.source = simplified_handle(file), file
        self.scenes[spec.name] = spec

    def _find(self, table: dict, name: str, where: Path, what: str) -> str:
        if name in table:
            return name
        for handle in table:
            norm = handle.replace("\\", "/")
            if norm.endswith("/" + name) or simplified_handle(handle) == simplified_handle(name):
                return handle
        raise SceneFormatError(f"{where}: {what} {name!r} is not defined in {self.path}")

    def _stage_scenes(self) -> None:
        """Every stage not used by a scene instance is a scene of its own."""
        used = {str(s.stage.render) for s in self.scenes.values()}
        for handle in self._stages:
            spec = self._stage_spec(handle, Path(handle))
            if str(spec.stage.render) not in used and spec.name not in self.scenes:
                self.scenes[spec.name] = spec

    def _stage_spec(self, handle: str, source: Path) -> SceneSpec:
        attrs, where = self._stages[handle]
        if self._stage_defaults is not None:
            attrs = {**self._stage_defaults, **attrs}
        render = self._asset(attrs, "render_asset", where, handle, source)
        if render is None:
            raise SceneFormatError(f"{source}: stage {handle!r} names no render_asset")
        if self._stage_defaults is None and render.suffix.lower() == ".glb":
            default_up, default_front = frames.GLB_DEFAULT_UP, frames.GLB_DEFAULT_FRONT
        else:
            default_up, default_front = frames.HABITAT_UP, frames.HABITAT_FRONT
        if ("up" in attrs) != ("front" in attrs):
            raise SceneFormatError(f"{source}: stage {handle!r} sets one of up/front, not both")
        semantic = self._asset(attrs, "semantic_asset", where, handle, source)
        descriptor = self._asset(attrs, "semantic_descriptor_filename", where, handle, source)
        if semantic is None and descriptor is None:
            semantic, descriptor = _sibling_semantics(render)
        sem_up, sem_front = attrs.get("semantic_up"), attrs.get("semantic_front")
        if (sem_up is None) != (sem_front is None):
            raise SceneFormatError(
                f"{source}: stage {handle!r} sets one of semantic_up/semantic_front, not both"
            )
        return SceneSpec(
            name=simplified_handle(handle),
            source=source,
            stage=Placement(
                render=render,
                up=tuple(attrs.get("up", default_up)),
                front=tuple(attrs.get("front", default_front)),
                scale=_scale(attrs, {}),
                name=simplified_handle(handle),
            ),
            semantic=semantic,
            semantic_up=None if sem_up is None else tuple(sem_up),
            semantic_front=None if sem_front is None else tuple(sem_front),
            descriptor=descriptor,
            user_defined=dict(attrs.get("user_defined", {}) or {}),
        )

    def _asset(
        self, attrs: dict[str, Any], key: str, where: Path, handle: str, source: Path
    ) -> Path | None:
        """The file an attribute names: the tag filled in, then looked up beside the config
        that set it, the dataset root and as given; a required render asset must exist."""
        value = attrs.get(key)
        if not value:
            return None
        value = str(value).replace(TAG, simplified_handle(handle))
        for candidate in (where / value, self.root / value, Path(value)):
            if candidate.is_file():
                return candidate
        if key == "render_asset":
            raise SceneFormatError(
                f"{source}: stage file {value!r} ({key} of {handle!r}) does not exist "
                f"(looked beside {where} and in {self.root})"
            )
        if TAG in str(attrs.get(key)):
            return None  # habitat clears a tagged default that finds no file
        raise SceneFormatError(
            f"{source}: {key} {value!r} of {handle!r} does not exist (looked beside {where})"
        )


def _is_semantic(mesh: Path) -> bool:
    """Semantic meshes (HM3D ``X.semantic.glb``, MP3D ``X_semantic.ply``) are no stages."""
    return ".semantic." in mesh.name or mesh.stem.endswith("_semantic")


def _scale(attrs: dict[str, Any], instance: dict[str, Any]) -> tuple[float, ...]:
    scale = attrs.get("scale", (1.0, 1.0, 1.0))
    scale = [float(s) * float(attrs.get("units_to_meters", 1.0)) for s in scale]
    uniform = float(instance.get("uniform_scale", 1.0))
    extra = instance.get("non_uniform_scale", (1.0, 1.0, 1.0))
    return tuple(s * uniform * float(e) for s, e in zip(scale, extra, strict=True))


def _sibling_semantics(render: Path) -> tuple[Path | None, Path | None]:
    """Semantic files beside a bare mesh: HM3D's ``X.semantic.glb`` + ``X.semantic.txt`` for
    ``X.basis.glb``, or MP3D's ``X.house`` (+ ``X_semantic.ply``)."""
    stem = simplified_handle(render)
    folder = render.parent
    mesh, table = folder / f"{stem}.semantic.glb", folder / f"{stem}.semantic.txt"
    if table.is_file():
        return (mesh if mesh.is_file() else None), table
    house = folder / f"{render.stem}.house"
    if house.is_file():
        ply = folder / f"{render.stem}_semantic.ply"
        return (ply if ply.is_file() else None), house
    return None, None

"""``astra-sim``: one command with subcommands; each subcommand lives in its own module.

Entry points take parsed arguments and call library functions that accept config
objects, so tests exercise the same code without going through argv.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from astra_sim import __version__
from astra_sim.core.errors import AstraSimError


def build_parser() -> argparse.ArgumentParser:
    from astra_sim.cli import bench, collect, data, demo, eval, export, map, scene, train

    parser = argparse.ArgumentParser(
        prog="astra-sim",
        description="A simulation-first training gym for Astra-style indoor mobile robots.",
    )
    parser.add_argument("--version", action="version", version=f"astra-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    scene.add_parser(sub)
    demo.add_parser(sub)
    bench.add_parser(sub)
    map.add_parser(sub)
    collect.add_parser(sub)
    eval.add_parser(sub)
    train.add_parser(sub)
    data.add_parser(sub)
    export.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (AstraSimError, ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"astra-sim {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

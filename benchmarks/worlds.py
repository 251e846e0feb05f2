"""The worlds accuracy is judged on: tuning worlds to choose rules and constants, held-out worlds to report.

    python benchmarks/worlds.py build [--set tuning|heldout|all]     # simulate what is missing
    python benchmarks/worlds.py list

The protocol (docs/quality/protocol.md):

* rules and constants are chosen on :data:`TUNING` worlds (any seeds, any profiles, the demo world);
* :data:`HELD_OUT` worlds are only ever scored, by ``benchmarks/generalisation.py``, after the
  choice; every accuracy figure reported is theirs, per world, with the median and the worst;
* a held-out world whose figures were used to choose anything moves to :data:`RETIRED` (and so
  to the tuning worlds) with the reason, and a fresh seed of the same profile replaces it.

Worlds are cached under ``benchmarks/.cache/worlds/<profile>-<seed>`` (the demo world at
``benchmarks/.cache/world-42``) and remade when the simulator's recipe or the world's physics changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from baresoil.simulate import WorldSpec

HERE = Path(__file__).parent
CACHE = HERE / ".cache"
SIZE_M = 2000
"""Side of a benchmark world: about 120 fields of 3 ha, 10,000 pixels at 20 m."""


@dataclass(frozen=True)
class World:
    profile: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.profile}-{self.seed}"

    @property
    def spec(self) -> WorldSpec:
        if self.profile == "demo":
            return WorldSpec(seed=self.seed)
        return WorldSpec.for_profile(self.profile, self.seed, size_m=SIZE_M)

    @property
    def path(self) -> Path:
        return CACHE / "world-42" if self == DEMO else CACHE / "worlds" / self.name


DEMO = World("demo", 42)
TUNING: tuple[World, ...] = (
    DEMO,
    World("central", 101),
    World("south", 102),
    World("atlantic", 103),
    World("continental", 104),
    World("south", 105),
    World("south", 106),
    World("central", 107),
    World("atlantic", 108),
)
"""Worlds any rule or constant may be chosen on."""
HELD_OUT: tuple[World, ...] = (
    World("central", 201),
    World("central", 202),
    World("south", 203),
    World("south", 204),
    World("atlantic", 205),
    World("atlantic", 206),
    World("continental", 207),
    World("continental", 208),
)
"""Worlds that are only scored, never looked at while a rule or constant is chosen."""
RETIRED: dict[World, str] = {}
"""Held-out worlds moved to tuning because a figure of theirs was used to choose something, and why."""

SETS = {"tuning": TUNING + tuple(RETIRED), "heldout": HELD_OUT, "all": TUNING + tuple(RETIRED) + HELD_OUT}


def worlds(name: str) -> tuple[World, ...]:
    """A set by name (``tuning``, ``heldout``, ``all``) or one world (``south-203``)."""
    if name in SETS:
        return SETS[name]
    for world in SETS["all"]:
        if world.name == name:
            return (world,)
    raise SystemExit(f"no world set or world {name!r}; have {', '.join(SETS)} or one of "
                     f"{', '.join(w.name for w in SETS['all'])}")  # fmt: skip


def ensure(world: World) -> Path:
    """The world's folder, simulated first when missing or made by another recipe."""
    sys.path.insert(0, str(HERE))
    from truth import world as cached

    return cached(world.path, world.spec)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("build", "list"))
    parser.add_argument("--set", default="all")
    args = parser.parse_args(argv)
    for world in worlds(args.set):
        if args.command == "list":
            kind = "held-out" if world in HELD_OUT else "tuning"
            print(f"{world.name:18s} {kind:9s} {world.path}")
            continue
        began = time.perf_counter()
        ensure(world)
        print(f"{world.name}: {world.path} ({time.perf_counter() - began:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

"""Faults throughout: API faults from the emulator (429 bursts, 5xx, resets, timeouts, answers
lost after the write was applied) on the service's calls, the process killed at a random backend
call (a fresh service object on the same ledger takes over), the local disk full once.

Every job of the simulation runs through :meth:`Chaos.run`; what was injected is counted.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync.jobs.service import Service
from tests.sim.world import Killed, World
from tests.sync.engine_fixtures import SVC

# (kind, path part, times: None = for the whole job)
API_FAULTS = (
    ("429", "values:batchGet", 3),
    ("429", "values:batchUpdate", 2),
    ("429", "", 4),
    ("500", "values:batchUpdate", 1),
    ("503", "values:batchGet", None),
    ("500", "", None),
    ("reset", "values:batchGet", 1),
    ("reset", "", 2),
    ("timeout", "values:batchGet", 1),
    ("timeout", "/changes", None),
    ("timeout_after", "values:batchUpdate", 1),
    ("timeout_after", "", 3),
    ("drive_rate_limit", "/changes", 2),
    ("503", ":batchUpdate", 1),
)
P_API_FAULT = 0.35


@dataclass
class Chaos:
    world: World
    rng: random.Random
    enabled: bool
    kill_chance: float  # per job: the fuse is armed (it blows at a random call of a later job)
    counts: Counter[str] = field(default_factory=Counter)
    armed: bool = False
    killed_night: bool = False
    log: list[str] = field(default_factory=list)  # what happened to each job (for a failure)

    def run(self, job: Callable[[Service], Any], *, quiet: bool = False) -> Any | None:
        """Run one job of the service under faults (none when ``quiet``); None when the process
        was killed (a new service is open on the same ledger afterwards)."""
        emu = self.world.rig.emu if self.world.rig is not None else None
        name = getattr(job, "__name__", "job")
        what = ""
        if self.enabled and not quiet:
            if emu is not None and self.rng.random() < P_API_FAULT:
                kind, part, times = self.rng.choice(API_FAULTS)
                emu.faults.add(kind, match=part or None, times=times, principal=SVC)
                what = f"fault {kind} on {part or 'every call'} x{times or 'all'}"
            if not self.armed and self.rng.random() < self.kill_chance:
                self.world.fuse.arm(self.rng.randint(1, 40))
                self.armed = True
        elif self.armed:
            self.world.fuse.arm(0)
            self.world.fuse.left = None
            self.armed = False
        try:
            result = job(self.world.svc)
            ok = getattr(result, "ok", None)
            self.log.append(f"{self.world.now():%d.%m %H:%M} {name} {what} ok={ok}")
            return result
        except Killed as exc:
            self.log.append(f"{self.world.now():%d.%m %H:%M} {name} {what} KILLED at {exc}")
            self.counts["kills"] += 1
            self.armed = False
            self.world.open()
            if self.world.rig is not None:
                self.world.rig.svc = self.world.svc
            return None
        finally:
            if emu is not None:
                self.counts["api_faults"] += len(emu.faults.delivered)
                emu.faults.clear()
            if self.world.disk is not None:
                self.counts["disk_full"] = self.world.disk.filled

"""Fidelity: replay gspread's 122 recorded cassettes of real Google traffic against the emulator.

Every interaction on an endpoint the product uses must match the recording (status + JSON body,
ids mapped, timestamps dropped); endpoints the product never uses are skipped with a reason
(``tests.emulator.replay.SKIP_REASONS``). Run with ``-s`` to see the per-endpoint table; it is
also written to ``<tmp>/replay_table.txt``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator.replay import Outcome, replay_cassette, table

CASSETTES = Path(__file__).resolve().parents[2] / "shared" / "fidelity" / "gspread-cassettes"


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    if not CASSETTES.is_dir():
        pytest.fail(f"cassette corpus missing: expected {CASSETTES} (shared/ beside the clone)")
    files = sorted(CASSETTES.glob("*.json"))
    assert len(files) == 122, f"expected 122 cassettes in {CASSETTES}, found {len(files)}"
    out: list[Outcome] = []
    for path in files:
        out.extend(replay_cassette(path))
    return out


def test_every_recorded_interaction_is_replayed(outcomes: list[Outcome]) -> None:
    assert len([o for o in outcomes if o.index >= 0]) == 2116


def test_used_endpoints_match_google(outcomes: list[Outcome], tmp_path_factory:
                                     pytest.TempPathFactory) -> None:
    text = table(outcomes)
    out = tmp_path_factory.mktemp("replay") / "replay_table.txt"
    out.write_text(text + "\n", encoding="utf-8")
    print("\n" + text + f"\n(table written to {out})")
    differing = [o for o in outcomes if o.result == "differ"]
    details = "\n".join(f"{o.cassette}[{o.index}] {o.kind}: {o.detail}" for o in differing[:30])
    assert not differing, f"{len(differing)} interactions differ from Google:\n{details}"


def test_most_interactions_are_compared_not_skipped(outcomes: list[Outcome]) -> None:
    matched = sum(o.result == "match" for o in outcomes)
    assert matched >= 1700, f"only {matched} interactions matched"

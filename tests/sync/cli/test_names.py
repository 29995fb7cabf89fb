"""File ids named in what ``sync`` and ``lock`` print (issue 9, item 8): the lists, the failed
items and the error texts — the id stays for machines, the name follows for people."""

from __future__ import annotations

from sync.cli.names import with_label_names, with_names

PHYSICS = "1f8fefe5e23d19da"  # the local backend's id of a journal
BOARD = "1BKYiwWomr6s2HywiH4PWgSXXqteN41A7AYlmZp7vezD"  # a Drive id
NAMES = {PHYSICS: "Журнал 7Б · Физика · 2026/27", BOARD: "Анализ ведения журналов"}


def test_ids_in_lists_failed_items_and_error_texts_are_named() -> None:
    data = {
        "rebuilt": [PHYSICS],
        "failed": [{"file": BOARD, "error": f"file {BOARD}: read failed: TransientError"}],
        "errors": [f"lock of file {PHYSICS}: FileBusy", "change list: TransientError"],
    }
    named = with_names(data, NAMES)
    assert named["rebuilt"] == ["Журнал 7Б · Физика · 2026/27"]
    assert named["failed"] == [{
        "file": BOARD, "name": "Анализ ведения журналов",
        "error": f"file {BOARD} «Анализ ведения журналов»: read failed: TransientError"}]
    assert named["errors"] == [
        f"lock of file {PHYSICS} «Журнал 7Б · Физика · 2026/27»: FileBusy",
        "change list: TransientError"]


def test_unknown_ids_and_long_words_are_left_as_they_are() -> None:
    text = "file 0123456789abcdef: the ServiceUnavailable answer, re-adoption pending"
    assert with_names({"errors": [text]}, NAMES)["errors"] == [text]
    assert with_names({"errors": []}, NAMES) == {"errors": []}


def test_rebuild_labels_are_named_and_a_diary_never_created_by_its_pupil_id() -> None:
    labels = {"journal 7Б/physics": "Журнал 7Б · Физика · 2026/27",
              "diary s0012": "diary of pupil s0012"}
    data = {
        "created": ["diary s0040"],  # not registered yet (in no mapping): named from its label
        "rerendered": ["journal 7Б/physics", "diary s0012"],
        "intact": [],
        "failed": [["journal 7Б/physics", f"file {PHYSICS}: is open in a spreadsheet program"],
                   ["diary s0041", "FileBusy"]],
        "total": 3,
    }
    named = with_label_names(data, labels, NAMES)
    assert named["created"] == ["diary of pupil s0040"]
    assert named["rerendered"] == ["Журнал 7Б · Физика · 2026/27", "diary of pupil s0012"]
    assert named["failed"] == [
        ["Журнал 7Б · Физика · 2026/27",
         f"file {PHYSICS} «Журнал 7Б · Физика · 2026/27»: is open in a spreadsheet program"],
        ["diary of pupil s0041", "FileBusy"]]
    assert (named["intact"], named["total"]) == ([], 3)
    assert with_label_names({"created": ["board x"]}, {}, {})["created"] == ["board x"]

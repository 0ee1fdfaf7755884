"""docs/lecture_map.md points to notebooks and section headings that exist in solutions/."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "docs" / "lecture_map.md"
SOLUTIONS = ROOT / "solutions"
TAUGHT, PLANNED = "## Taught in the notebooks", "## Planned"


def table_rows(text: str, heading: str) -> list[list[str]]:
    """Cells of the markdown table under ``heading`` (header and separator rows skipped)."""
    lines = text.splitlines()
    start = lines.index(heading)  # ValueError (a clear failure) if the section is gone
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, separator, *body = rows
    assert set(separator) <= {"---"}, f"{heading}: the second row of the table must be |---|"
    assert all(len(row) == len(header) for row in body), f"{heading}: rows with a wrong number of cells"
    return body


def headings(notebook: Path) -> set[str]:
    """Text of every markdown heading of a notebook, without the leading #'s."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"^#{1,6}\s+(.*\S)\s*$", line)
                if match:
                    found.add(match.group(1))
    return found


def notebook_path(cell: str) -> Path:
    name = cell.strip("`")
    return SOLUTIONS / f"{name}.ipynb"


@pytest.fixture(scope="module")
def map_text() -> str:
    return MAP.read_text(encoding="utf-8")


def test_every_section_named_in_the_map_exists(map_text):
    cache: dict[Path, set[str]] = {}
    missing = []
    for idea, notebook, section, _ in table_rows(map_text, TAUGHT):
        path = notebook_path(notebook)
        if not path.exists():
            missing.append(f"{idea!r}: no notebook {path.name}")
            continue
        cache.setdefault(path, headings(path))
        if section not in cache[path]:
            missing.append(f"{idea!r}: no heading {section!r} in {path.name}")
    assert not missing, ("lecture map out of date (update docs/lecture_map.md):\n"
                         + "\n".join(missing))


def test_every_notebook_of_the_course_is_in_the_map(map_text):
    named = {notebook_path(row[1]).name for row in table_rows(map_text, TAUGHT)}
    course = {path.name for path in SOLUTIONS.glob("[0-9][0-9]_*.ipynb")}
    assert course - named == set(), f"notebooks with no idea in the lecture map: {sorted(course - named)}"


def test_every_row_says_what_exercises_the_idea(map_text):
    for idea, _, _, exercise in table_rows(map_text, TAUGHT):
        assert idea and exercise, f"row {idea!r} needs an idea and an exercise or figure"


def test_planned_ideas_name_an_existing_notebook(map_text):
    if PLANNED not in map_text.splitlines():
        pytest.skip("no planned ideas: every idea of the map is taught")
    rows = table_rows(map_text, PLANNED)
    assert rows, "the planned table is empty: remove the section instead"
    for row in rows:
        assert notebook_path(row[1]).exists(), f"planned idea {row[0]!r}: no notebook {row[1]}"


def test_headings_parser_sees_a_known_heading():
    # guards the test itself: a parser that finds nothing would make the check above vacuous
    assert "2. The direct method with PyNeb" in headings(SOLUTIONS / "06_emission_lines_and_the_ism.ipynb")


@pytest.mark.parametrize("doc", ["README.md", "docs/instructor_guide.md"])
def test_map_is_linked(doc):
    assert "lecture_map.md" in (ROOT / doc).read_text(encoding="utf-8")

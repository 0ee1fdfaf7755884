"""README's syllabus gives each notebook the minutes its metadata gives (teaching + exercises)."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def syllabus_minutes() -> dict[str, int]:
    rows = re.findall(r"^\| \d\d \| `(\w+)` \|.*\| (\d+) \|$", (ROOT / "README.md").read_text(), re.M)
    return {name: int(minutes) for name, minutes in rows}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_readme_minutes_match_the_notebook_metadata(path):
    course = nbformat.read(path, as_version=4).metadata.get("course")
    if course is None:
        pytest.skip(f"{path.name} has no teaching/exercise minutes yet")
    assert set(course) == {"teaching_minutes", "exercise_minutes"}, path.name
    assert syllabus_minutes()[path.stem] == course["teaching_minutes"] + course["exercise_minutes"]

""".ci/run must run exactly the test command that README's Quick start gives."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = [l for l in (ROOT / ".ci" / "run").read_text().splitlines()
                if l and not l.startswith("#") and "pytest" in l]
    assert len(commands) == 1
    assert commands[0] in readme
    assert ".venv/bin/python -m pytest" in commands[0]


def test_readme_quick_start_has_install_and_lab_command():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . && .venv/bin/jupyter lab" in readme

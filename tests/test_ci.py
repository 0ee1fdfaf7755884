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


def test_readme_quick_start_installs_then_checks_then_opens_the_course_folder():
    readme = (ROOT / "README.md").read_text()
    quick = readme[readme.index("## Quick start"):readme.index("### Students and instructors")]
    steps = [quick.index(s) for s in ("python3 -m venv .venv && .venv/bin/python -m pip install -e .\n",
                                      ".venv/bin/python -m course_utils check\n", ".venv/bin/jupyter lab\n")]
    assert steps == sorted(steps)
    assert "jupyter lab notebooks" not in readme  # README, docs/ and data/ stay in view


def test_ci_installs_the_browser_and_builds_the_website():
    run = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y chromium chromium-driver" in run
    assert '".[test,site]"' in run  # the website is built and checked inside the test command

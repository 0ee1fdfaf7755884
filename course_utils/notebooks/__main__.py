"""``python -m course_utils.notebooks``: see :mod:`course_utils.notebooks.cli`."""

from course_utils.notebooks.cli import main

raise SystemExit(main())

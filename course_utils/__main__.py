"""``python -m course_utils check``: is this machine ready for the course?"""

from course_utils.setup_check import main

if __name__ == "__main__":
    raise SystemExit(main())

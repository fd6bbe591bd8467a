"""`python -m course_tools ...`: the course's command line (see `course_tools.cli`)."""

import sys

from course_tools.cli import main

sys.exit(main())

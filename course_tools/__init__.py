"""The course's own machinery: the notebook runner and its CLI, student copies, timings, the runs export, the UI
pictures and the workshop server. No notebook imports it; it imports `tutorial_utils`, never the other way round.

Run it from the repository's root: `python -m course_tools COMMAND`; `python -m course_tools --help` lists them.
"""

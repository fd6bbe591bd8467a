"""The workshop's tracking server: `mlflow server` processes, a PostgreSQL cluster of the course's own, basic auth
and the roster of attendees. `python -m course_tools.workshop.server` and `python -m course_tools.workshop.roster`."""

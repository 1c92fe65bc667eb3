"""What the notebooks run on: a private copy of the project with a database of its own
(workspace), the database server (engines), printing results (show), removing what a run
leaves behind (reaper), the warm interpreter command-line cells fork from, and reading a
database error in one line (errors)."""

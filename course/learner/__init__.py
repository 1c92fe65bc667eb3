"""The learner's tool: the `course` command (cli), exercises and their checks (exercises,
checks, and learner_code, which runs the learner's code in a process of its own), progress,
quizzes, and `make lab`."""

"""Running a suite: the runner, the executors and run --until-decided."""

"""Code the lessons show and readers read: the engine probes behind the engines table, the
backfill benchmark, and the start-up lock of the deploying lesson."""

"""The backfill benchmark (course/lessons/bench.py) measures what it says, on every engine, at a small
size, and the stored report of the real run (chapters/02_production/bench/) is its data.

Nothing here depends on how fast the machine is: the assertions are about what was written,
what the engines refused, and whether the writers' own counts match the tables.
"""

import json
import math
import time

import pytest
import sqlalchemy as sa

from course.lessons import bench
from course.runtime import engines

ROWS, BATCHES = 10_000, (1_000, 5_000)
SMALL = {"batch_sizes": BATCHES, "main_batch": 5_000, "repetitions": 2, "sweep_repetitions": 1,
         "control_repetitions": 1, "baseline_seconds": 0.1, "lead_seconds": 0.1}
def check_result(result: dict, rows: int, options: dict) -> None:
    """Everything a run must hold whatever the machine's speed."""
    assert result["rows"] == rows
    assert result["variants"] == ["single_update", *(f"batches_{b}" for b in options["batch_sizes"])]
    # the runs are the plan, in its order
    steps = bench.plan(options["repetitions"], options["batch_sizes"], options["main_batch"],
                       options["sweep_repetitions"], options["control_repetitions"])
    assert [(r["rep"], r["variant"], r["writers"]) for r in result["runs"]] == [
        (rep, bench.variant_name(size), loaded) for rep, mine in enumerate(steps) for size, loaded in mine]
    for run in result["runs"]:
        size = None if run["variant"] == "single_update" else int(run["variant"].rpartition("_")[2])
        # every copied row filled exactly once, with its own value; the writers' INSERTs carry theirs
        assert run["rows_updated"] == rows, run
        # the batches walk ids up to the largest when they start: the writers' new rows may add one
        expected = 1 if size is None else math.ceil(rows / size)
        assert run["transactions"] == expected if not run["writers"] else run["transactions"] >= expected
        assert run["check"] == {"nulls": 0, "wrong_values": 0}
        assert (run["writer"] is None) == (not run["writers"])
        if run["writer"]:
            check_writer(run["writer"])
    assert len(result["baseline"]) == len(result["set_not_null"]) == options["repetitions"]
    for phase in result["baseline"] + result["set_not_null"]:
        check_writer(phase["writer"])
    for step in result["set_not_null"]:
        assert step["nullable_before"] is True and step["nullable_after"] is False
    # the writers' count of their successful writes is what the tables hold
    writes = result["writes_check"]
    assert writes["inserts_since_last_copy"] == writes["new_rows_in_table"]
    assert writes["other_table_writes"] == writes["other_table_hits"]
    assert result["summary"] == bench.summarize(result)


def check_writer(stats: dict) -> None:
    assert set(stats) == set(bench.KINDS)
    for kind in bench.KINDS:
        s = stats[kind]
        assert s["failed"] == sum(s["errors"].values()) <= s["planned"]
        assert sum(s["bins"]) >= s["done"] >= 0 and s["stall_ms"] >= 0
        if s["planned"]:
            assert 0 <= s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]


@pytest.mark.long
def test_backfill_on_every_engine(engine_url):
    result = bench.run(engine_url, ROWS, **SMALL)
    engine = engines.name_of(engine_url)
    assert result["engine"] == engine and result["server"].startswith(bench.ENGINE_TITLES[engine])
    if engine == "sqlite":
        assert result["settings"]["journal_mode"] == "delete"  # a default project's: not WAL
    check_result(result, ROWS, SMALL)


@pytest.mark.long
def test_backfill_on_sqlite_in_wal_mode(tmp_path):
    result = bench.run(tmp_path / "wal.db", ROWS, journal_mode="wal", **SMALL)
    assert result["engine"] == "sqlite_wal" and result["settings"]["journal_mode"] == "wal"
    check_result(result, ROWS, SMALL)


@pytest.mark.long
def test_a_blocked_writer_counts_its_wait(engine_url):
    """Open loop: while every row is locked, the UPDATE writer's writes stay planned on schedule,
    none is skipped and none gets done before the lock is released; each one's latency then runs
    from its planned moment, so the wait is counted for every write, not once."""
    url = bench.to_url(engine_url)
    engine = bench.make_engine(url)
    rate, hold = 20.0, 1.0
    try:
        bench.load_source(engine, 500)
        bench.reset(engine)
        # every write planned during the hold must finish, however slow the machine: no drain limit to speak of
        writers = bench.Writers(url, 500, rate, kinds=["update"], drain=600)
        try:
            writers.begin(501, seed=1)
            with engine.connect() as connection:
                transaction = connection.begin()
                connection.execute(sa.update(bench.ITEMS_NEW).values(name="held"))
                locked = time.monotonic()  # from here on every row is locked
                time.sleep(hold)
                committing = time.monotonic()  # no lock is released before this moment
                transaction.commit()
            answer = writers.end()
        finally:
            writers.close()
        records = answer["records"]["update"]
        planned = [r[0] for r in records]
        assert all(b - a == pytest.approx(1 / rate) for a, b in zip(planned, planned[1:]))  # the schedule, no gaps
        held = [r for r in records if locked <= r[0] < committing]
        assert len(held) >= math.floor((committing - locked) * rate)
        for _, _, ended, error in held:
            assert error is None and ended > committing  # waited for the release, none lost
    finally:
        bench.METADATA.drop_all(engine)
        bench.ITEMS.drop(engine, checkfirst=True)
        engine.dispose()


@pytest.mark.long
def test_lock_probe_answers_per_engine(engine_url):
    probe = bench.lock_probe(engine_url)
    engine = engines.name_of(engine_url)
    during = probe["during_update"]
    assert probe["rows_updated"] == bench.PROBE_ROWS
    assert during["read"] == "done"  # no engine makes a reader wait for an UPDATE
    if engine == "sqlite":
        assert {during[k] for k in ("insert", "update", "other")} == {"database is locked"}
    elif engine == "postgresql":
        assert during["insert"] == during["other"] == "done" and during["update"] == "LockNotAvailable"
        assert probe["table_locks"] == ["RowExclusiveLock"]
        assert probe["wal_bytes_before_commit"] > 0 and probe["wal_flushed_before_commit"] is True
        contract = probe["during_set_not_null"]
        assert contract["table_locks"] == ["AccessExclusiveLock"]
        assert contract["insert"] == contract["read"] == "LockNotAvailable" and contract["other"] == "done"
    else:
        assert during["other"] == "done"
        assert during["update"] == during["insert"] == "1205: Lock wait timeout exceeded"
        assert probe["rows_locked"] > bench.PROBE_ROWS and probe["tables_locked"] == 1
        assert probe["during_set_not_null"] == {"lock_none": {
            "not_null": "accepted",
            "type_change": "1846: LOCK=NONE is not supported. Reason: Cannot change column type. Try LOCK=SHARED"}}


def test_lock_probe_sqlite_wal(tmp_path):
    probe = bench.lock_probe(tmp_path / "wal.db", journal_mode="wal")
    assert probe["engine"] == "sqlite_wal"
    assert probe["during_update"] == {"insert": "database is locked", "update": "database is locked",
                                      "other": "database is locked", "read": "done"}


def test_plan_alternates_and_rotates():
    steps = bench.plan(5, (1_000, 10_000, 100_000), 10_000, 3, 2)
    firsts = []
    for rep, mine in enumerate(steps):
        sizes = [size for size, loaded in mine if loaded]
        assert sorted(sizes, key=str) == sorted([None, 10_000] + ([1_000, 100_000] if rep < 3 else []), key=str)
        firsts.append(next(size for size in sizes if size in (None, 10_000)))
        without = [size for size, loaded in mine if not loaded]
        assert sorted(without, key=str) == (sorted([None, 10_000], key=str) if rep < 2 else [])
    assert firsts == [None, 10_000, None, 10_000, None]  # one UPDATE and batches take turns going first
    # with and without writers take turns going first too, next to each other
    firsts_loaded = []
    for rep in (0, 1):
        mine = steps[rep]
        for i, (size, loaded) in enumerate(mine):
            if not loaded:
                twin = mine[i - 1] if i and mine[i - 1][0] == size else mine[i + 1]
                assert twin == (size, True)
                firsts_loaded.append(twin is mine[i - 1] if i else False)
    assert firsts_loaded == [True, False, False, True]
    with pytest.raises(ValueError, match="main_batch"):
        bench.plan(1, (1_000,), 10_000, 0, 0)


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile([7.0], 99) == 7.0


def test_kind_stats_from_planned_times():
    # planned every 0.1 s from 0.0; the phase is [1.0, 2.0); the writer was stuck from 1.0 to 1.8
    records = [(t / 10, t / 10, t / 10 + 0.01, None) for t in range(10)]
    records += [(t / 10, 1.0, 1.8 + t / 1000, None) for t in range(10, 14)]
    records += [(t / 10, 1.81, 1.85, "1205: Lock wait timeout exceeded") for t in range(14, 15)]
    records += [(t / 10, 1.9, 1.9 + (t - 14) / 100, None) for t in range(15, 20)]
    records += [(2.0, None, None, "not done")]
    stats = bench.kind_stats(records, began=1.0, ended=2.0, rate=10.0, lead=0.5)
    # planned in the phase: 1.0 ... 1.9; done in it: four after the wait, five at the end (the
    # failed write is not throughput)
    assert stats["planned"] == 10 and stats["done"] == 9 and stats["done_pct"] == 90.0
    assert stats["failed"] == 1 and stats["errors"] == {"1205: Lock wait timeout exceeded": 1}
    assert stats["max_ms"] == pytest.approx(810.0)  # planned at 1.0, done at 1.81
    assert stats["stall_ms"] == pytest.approx(810.0)  # nothing completed from 1.0 to 1.81
    assert len(stats["bins"]) == 20  # 0.1 s each from 0.5 (lead before) to 2.5 (lead after)
    assert stats["bins"] == [1] * 5 + [0] * 8 + [4, 5] + [0] * 5


@pytest.mark.long
def test_cli_writes_json_and_markdown(tmp_path, capsys):
    args = ["--rows", "2000", "--batches", "500,1000", "--main-batch", "1000", "--repetitions", "1",
            "--engines", "sqlite", "--out", str(tmp_path), "--no-plot"]
    assert bench.main(args) == 0
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert list(data["results"]) == ["sqlite"]
    assert data["parameters"]["rows"] == 2000 and data["parameters"]["batch_sizes"] == [500, 1000]
    assert {"cores", "memory_gb", "cpu", "os", "python", "packages", "date", "load_average"} <= set(data["machine"])
    assert data["finished"]["duration_s"] > 0 and len(data["finished"]["load_average"]) == 3
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == bench.markdown(data)
    assert not (tmp_path / "results.png").exists()
    assert "| SQLite | one UPDATE |" in capsys.readouterr().out
    (tmp_path / "results.md").write_text("stale", encoding="utf-8")
    assert bench.main(["--render", "--no-plot", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == bench.markdown(data)


@pytest.mark.parametrize("args, message", [
    (["--engines", "oracle"], "unknown engines: oracle"),
    (["--batches", "ten"], "--batches takes whole numbers"),
    (["--batches", "500", "--main-batch", "1000"], "--main-batch 1000 must be one of"),
    (["--rows", "0"], "must be positive"),
])
def test_cli_refuses_bad_arguments_in_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_stored_report_matches_its_data():
    data = bench.load_results()
    params = data["parameters"]
    # the run `make bench` makes: the defaults, at least 5 repetitions
    assert {k: params[k] for k in bench.DEFAULTS} == {**bench.DEFAULTS, "batch_sizes": list(bench.DEFAULTS["batch_sizes"])}
    assert params["repetitions"] >= 5
    assert {1_000, 10_000, 100_000} <= set(params["batch_sizes"]) and params["main_batch"] == 10_000
    assert list(data["results"]) == list(bench.ENGINE_KEYS)
    assert (bench.DEFAULT_OUT / "results.md").read_text(encoding="utf-8") == bench.markdown(data)
    assert (bench.DEFAULT_OUT / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data["machine"]["load_average"]) == 3 and data["machine"]["cores"]
    assert data["finished"]["duration_s"] < 600  # `make bench` fits in ten minutes
    options = {k: params[k] for k in ("batch_sizes", "main_batch", "repetitions", "sweep_repetitions",
                                      "control_repetitions")}
    for key, result in data["results"].items():
        assert result["engine"] == key
        check_result(result, params["rows"], options)

"""The backfill benchmark (course/bench.py) measures what it says, on every engine, at a small
size; and the stored report of the real run (chapters/02_production/bench/) is consistent."""

import json

from course import bench

ROWS, BATCH = 10_000, 2_000


def test_backfill_on_every_engine(engine_url):
    result = bench.run(engine_url, ROWS, BATCH, baseline_seconds=0.1)
    engine = {"sqlite": "sqlite", "mysql": "mariadb", "postgresql": "postgresql"}[engine_url.split(":")[0].split("+")[0]]
    assert result["engine"] == engine and result["server"].startswith(bench.ENGINE_TITLES[engine])
    if engine == "sqlite":
        assert result["settings"]["journal_mode"] == "delete"  # a default project's: not WAL
    assert result["rows"] == ROWS and result["batch_size"] == BATCH
    # both strategies measured; every loaded row filled exactly once (the writer's own
    # INSERTs carry their value already)
    assert list(result["strategies"]) == list(bench.STRATEGIES)
    single, batched = result["strategies"]["single_update"], result["strategies"]["batches"]
    assert single["rows_updated"] == ROWS and single["transactions"] == 1
    assert batched["rows_updated"] == ROWS and batched["transactions"] >= ROWS // BATCH
    checks = result["checks"]
    for strategy in bench.STRATEGIES:
        assert checks[f"nulls_after_{strategy}"] == 0
        assert checks[f"wrong_values_after_{strategy}"] == 0
    # then the column became NOT NULL
    assert checks["nullable_before_set_not_null"] is True
    assert checks["nullable_after_set_not_null"] is False
    assert checks["nulls_at_end"] == 0
    assert checks["rows_at_end"] > ROWS  # the writer's INSERTs are there too
    # the writer wrote during every phase, and its numbers are consistent
    for phase in [result["baseline"], *result["strategies"].values(), result["set_not_null"]]:
        stats = phase["writer"]
        assert stats["update"]["writes"] >= 1 and stats["insert"]["writes"] >= 1
        assert stats["writes"] == stats["update"]["writes"] + stats["insert"]["writes"]
        assert 0 <= stats["median_ms"] <= stats["p99_ms"] <= stats["max_ms"]
        assert stats["max_ms"] == max(stats["update"]["max_ms"], stats["insert"]["max_ms"])
    for phase in [*result["strategies"].values(), result["set_not_null"]]:
        assert phase["wall_s"] > 0


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile([7.0], 99) == 7.0


def test_writer_stats_keeps_the_writes_that_overlap_the_phase():
    writes = [(0.0, 1.0, "update", None), (1.5, 4.0, "insert", "1205: Lock wait timeout exceeded"),
              (4.5, 4.6, "update", None), (9.0, 9.5, "insert", None)]
    stats = bench.writer_stats(writes, began=2.0, ended=5.0)
    assert stats["writes"] == 2 and stats["update"]["writes"] == 1 and stats["insert"]["writes"] == 1
    assert stats["failed"] == 1 and stats["errors"] == {"1205: Lock wait timeout exceeded": 1}
    assert stats["max_ms"] == stats["insert"]["max_ms"] == 2500.0
    assert stats["update"]["max_ms"] == 100.0


def test_cli_writes_json_and_markdown(tmp_path, capsys):
    assert bench.main(["--rows", "2000", "--batch", "500", "--engines", "sqlite", "--out", str(tmp_path), "--no-plot"]) == 0
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert list(data["results"]) == ["sqlite"]
    assert data["parameters"]["rows"] == 2000
    assert {"cores", "memory_gb", "cpu", "os", "python", "packages", "date"} <= set(data["machine"])
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == bench.markdown(data)
    assert not (tmp_path / "results.png").exists()
    assert "| SQLite | single UPDATE |" in capsys.readouterr().out
    (tmp_path / "results.md").write_text("stale", encoding="utf-8")
    assert bench.main(["--render", "--no-plot", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == bench.markdown(data)


def test_stored_report_matches_its_data():
    data = bench.load_results()
    assert data["parameters"]["rows"] == 1_000_000 and data["parameters"]["batch_size"] == 10_000
    assert list(data["results"]) == list(bench.ENGINE_KEYS)
    assert (bench.DEFAULT_OUT / "results.md").read_text(encoding="utf-8") == bench.markdown(data)
    assert (bench.DEFAULT_OUT / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for result in data["results"].values():
        assert result["checks"]["nullable_after_set_not_null"] is False
        for strategy in bench.STRATEGIES:
            assert result["strategies"][strategy]["rows_updated"] == 1_000_000
            assert result["checks"][f"nulls_after_{strategy}"] == 0

"""Chapter 3's table of schema changes (course/lessons/ddl_locks.py): the measurement, run on a
small table on MariaDB and PostgreSQL, finds what the servers decide whatever the machine's speed
(lock modes, rewrites, MariaDB's algorithms, who gets through); the stored 1,000,000-row run
(chapters/03_zero_downtime/ddl/) is its data. Timings are never asserted."""

import pytest

from course.lessons import ddl_locks

ROWS = 2_000
# What PostgreSQL 15 decides, per change: (strongest lock on the table, rewritten, another
# session's write, its read).
POSTGRESQL = {
    "add_nullable": ("AccessExclusiveLock", False, "waits", "waits"),
    "add_constant_default": ("AccessExclusiveLock", False, "waits", "waits"),
    "add_volatile_default": ("AccessExclusiveLock", True, "waits", "waits"),
    "set_not_null": ("AccessExclusiveLock", False, "waits", "waits"),
    "widen_varchar": ("AccessExclusiveLock", False, "waits", "waits"),
    "int_to_bigint": ("AccessExclusiveLock", True, "waits", "waits"),
    "add_foreign_key": ("ShareRowExclusiveLock", False, "waits", "goes through"),
    "add_check": ("AccessExclusiveLock", False, "waits", "waits"),
    "drop_column": ("AccessExclusiveLock", False, "waits", "waits"),
    "rename_column": ("AccessExclusiveLock", False, "waits", "waits"),
}
# What MariaDB 10.11 decides: the first ALGORITHM it accepts.
MARIADB = {
    "add_nullable": "ALGORITHM=INSTANT",
    "add_constant_default": "ALGORITHM=INSTANT",
    "add_volatile_default": "ALGORITHM=INSTANT",
    "set_not_null": "ALGORITHM=INPLACE, LOCK=NONE",
    "widen_varchar": "ALGORITHM=COPY",  # utf8mb4: 80 characters need a 2-byte length
    "int_to_bigint": "ALGORITHM=COPY",
    "add_foreign_key": "ALGORITHM=COPY",
    "add_check": "ALGORITHM=COPY",
    "drop_column": "ALGORITHM=INSTANT",
    "rename_column": "ALGORITHM=INSTANT",
}


def _measured(server_url, measure_one) -> dict:
    """measure_one(a fresh database on the server, ROWS), the database dropped afterwards."""
    from course.runtime import engines

    url = engines.create_database("t_ddl", server=server_url)
    try:
        return measure_one(url, ROWS)
    finally:
        engines.drop_database(url, server_url)


@pytest.mark.long
def test_the_measurement_on_a_small_table(server_url):
    from course.runtime import engines

    result = _measured(server_url, ddl_locks.measure)
    engine = engines.name_of(server_url)
    assert result["engine"] == engine and result["rows"] == ROWS
    assert list(result["changes"]) == list(ddl_locks.CHANGE_KEYS)
    for key, row in result["changes"].items():
        assert row["sql"].startswith("ALTER TABLE ddl_item ")
        assert row["seconds"] >= 0 and row["writer"]["errors"] == [], (key, row["writer"])
        if engine == "postgresql":
            lock, rewrote, write, read = POSTGRESQL[key]
            assert (ddl_locks.strongest(row["locks"]["ddl_item"]), row["rewrote"],
                    row["while_held"]["write"], row["while_held"]["read"]) == (lock, rewrote, write, read), key
        else:
            assert row["algorithm"] == MARIADB[key], (key, row["refused"])
            # every cheaper algorithm was refused, with MariaDB's reason
            cheaper = ddl_locks.MARIADB_ALGORITHMS[:ddl_locks.MARIADB_ALGORITHMS.index(MARIADB[key])]
            assert list(row["refused"]) == list(cheaper)
            assert all(reason.startswith(("1845: ", "1846: ")) for reason in row["refused"].values())
    if engine == "postgresql":
        assert result["changes"]["add_foreign_key"]["locks"]["ddl_parent"]
    else:
        assert "Adding foreign keys needs foreign_key_checks=OFF" in \
            result["changes"]["add_foreign_key"]["refused"]["ALGORITHM=INPLACE"]


def _check_variants(result: dict, rows: int) -> None:
    """What the servers decide for the variants, whatever the table's size: MariaDB's RAND()
    default is INSTANT and gives every row the same value, UUID() is refused INSTANT and copies,
    giving each row its own; widening VARCHAR(40) to (80) in latin1 is INSTANT; PostgreSQL's
    random() default rewrites the table, each row its own value."""
    engine = result["engine"]
    assert result["rows"] == rows
    expected = [v.key for v in ddl_locks.VARIANTS if v.engine == engine]
    assert list(result["variants"]) == expected
    for key, row in result["variants"].items():
        assert row["sql"] == ddl_locks.VARIANTS[[v.key for v in ddl_locks.VARIANTS].index(key)].statement()
        if "distinct" in row:
            assert row["rows"] == rows
    v = result["variants"]
    if engine == "mariadb":
        assert (v["rand_default"]["algorithm"], v["rand_default"]["refused"], v["rand_default"]["distinct"]) == \
            ("ALGORITHM=INSTANT", {}, 1)
        assert v["rand_default"]["table_collation"].startswith("utf8mb4")
        assert v["uuid_default"]["algorithm"] == "ALGORITHM=COPY" and v["uuid_default"]["distinct"] == rows
        assert v["uuid_default"]["refused"]["ALGORITHM=INSTANT"].startswith("1845: ")
        assert v["widen_varchar_latin1"]["table_collation"].startswith("latin1")
        assert (v["widen_varchar_latin1"]["algorithm"], v["widen_varchar_latin1"]["refused"]) == ("ALGORITHM=INSTANT", {})
    else:
        assert v["random_default"]["rewrote"] is True and v["random_default"]["distinct"] == rows


@pytest.mark.long
def test_the_variants_on_a_small_table(server_url):
    from course.runtime import engines

    result = _measured(server_url, ddl_locks.measure_variants)
    assert result["engine"] == engines.name_of(server_url)
    _check_variants(result, ROWS)


def test_the_stored_variants_are_their_data():
    """The variants were measured in a run of their own: their row count is theirs, stated in
    results.md; the ten changes' run is not redone by it."""
    data = ddl_locks.load_results()
    variants = data["variants"]
    rows = variants["parameters"]["rows"]
    assert list(variants["results"]) == ["mariadb", "postgresql"]
    for result in variants["results"].values():
        _check_variants(result, rows)
    md = (ddl_locks.DEFAULT_OUT / "results.md").read_text(encoding="utf-8")
    assert f"fresh copy of a table of {rows:,} rows" in md and f"{variants['machine']['date']} on" in md


def test_the_stored_table_is_its_data():
    data = ddl_locks.load_results()
    assert data["parameters"]["rows"] == ddl_locks.DEFAULT_ROWS  # the run `make ddl-locks` makes
    assert list(data["results"]) == ["mariadb", "postgresql"]
    assert (ddl_locks.DEFAULT_OUT / "results.md").read_text(encoding="utf-8") == ddl_locks.markdown(data)
    assert data["finished"]["duration_s"] < 600  # `make ddl-locks` fits in ten minutes
    for engine, expected in (("postgresql", POSTGRESQL), ("mariadb", MARIADB)):
        result = data["results"][engine]
        assert list(result["changes"]) == list(ddl_locks.CHANGE_KEYS)
        for key, row in result["changes"].items():
            if engine == "postgresql":
                assert (ddl_locks.strongest(row["locks"]["ddl_item"]), row["rewrote"], row["while_held"]["write"],
                        row["while_held"]["read"]) == expected[key]
            else:
                assert row["algorithm"] == expected[key]
            assert row["sql"] == ddl_locks.rendered_sql(ddl_locks.CHANGES[ddl_locks.CHANGE_KEYS.index(key)],
                                                        "postgresql" if engine == "postgresql" else "mysql")


def test_the_command_line_refuses_bad_arguments_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        ddl_locks.main(["--engines", "sqlite"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown engines: sqlite" in err and "Traceback" not in err


def test_variants_only_refuses_an_out_folder_without_results_in_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        ddl_locks.main(["--variants-only", "--out", str(tmp_path)])
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    assert err == f"error: --variants-only adds to {tmp_path / 'results.json'}, which does not exist\n"
    assert list(tmp_path.iterdir()) == []

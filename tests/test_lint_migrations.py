"""The migration lint CI runs: squawk (pinned) over every revision of the sample project, rendered
offline for PostgreSQL (course/lessons/lint.py). A finding that is neither fixed nor accepted,
with its reason, in course/lessons/lint.py fails the run; so does an accepted one that no longer fires.
"""

import shutil

import pytest

from course import SAMPLE_PROJECT
from course.lessons import lint

INDEX_0003 = '''"""index email

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index('ix_user_email', table_name='user', postgresql_concurrently=True, if_exists=True)
'''
SAFE = """    with op.get_context().autocommit_block():
        op.create_index('ix_user_email', 'user', ['email'], postgresql_concurrently=True, if_not_exists=True)"""
BLOCKING = "    op.create_index('ix_user_email', 'user', ['email'])"


def test_squawk_is_the_pinned_version():
    assert lint.squawk_version() == lint.SQUAWK_VERSION


def test_the_sample_projects_revisions_pass_the_lint():
    scripts = lint.render_revisions(SAMPLE_PROJECT)
    assert list(scripts) == ["0001", "0002"]
    report = lint.lint(scripts)
    assert lint.unexpected(report) == []
    # what is accepted fires, so squawk itself exits 1: the gate is unexpected(), not its status
    assert report.status == 1 and {(f.file, f.rule) for f in report.findings} == set(lint.ACCEPTED)


@pytest.fixture
def project_with(tmp_path):
    def make(upgrade: str):
        project = tmp_path / "project"
        shutil.copytree(SAMPLE_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
        (project / "alembic" / "versions" / "0003_index_email.py").write_text(INDEX_0003.format(upgrade=upgrade))
        return project
    return make


def test_a_blocking_index_fails_the_lint(project_with):
    """The negative control: a plain CREATE INDEX blocks writes for the whole build."""
    report = lint.lint(lint.render_revisions(project_with(BLOCKING)))
    problems = lint.unexpected(report)
    assert report.rules("0003") == ["require-concurrent-index-creation"]
    assert len(problems) == 1 and problems[0].startswith("0003:5: require-concurrent-index-creation: ")


def test_a_concurrent_index_in_an_autocommit_block_passes(project_with):
    project = project_with(SAFE)
    scripts = lint.render_revisions(project)
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_user_email ON "user" (email)' in scripts["0003"]
    assert lint.unexpected(lint.lint(scripts)) == []
    downgrade = lint.render(project, "0003:0002", direction="downgrade")
    assert lint.lint({"0003_down": downgrade}).findings == ()


def test_a_stale_acceptance_fails(project_with):
    report = lint.Report(0, (), ("0001", "0002"))
    assert lint.unexpected(report) == [
        f"{file}: {rule} is accepted in course/lessons/lint.py but no longer fires: remove it" for file, rule in lint.ACCEPTED]


def test_the_command_line_exits_with_the_gate(capsys, project_with):
    assert lint.main([str(SAMPLE_PROJECT)]) == 0
    assert capsys.readouterr().out.endswith("3 finding(s), 0 not accepted; squawk's exit status 1\n")
    assert lint.main([str(project_with(BLOCKING))]) == 1


@pytest.mark.parametrize("server_url", ["postgresql"], indirect=True)
def test_if_not_exists_skips_the_invalid_index_a_failed_concurrent_build_left(server_url):
    """What notebook 21 and the quiz (invalid-index-rerun) say about prefer-robust-stmts' advice:
    a re-run with IF NOT EXISTS 'succeeds' and the index stays INVALID."""
    import sqlalchemy as sa

    from course.runtime import engines

    url = engines.create_database("t_invalid", server=server_url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE c (id int PRIMARY KEY, e text)")
            connection.exec_driver_sql("INSERT INTO c VALUES (1, 'x'), (2, 'x')")
            build = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_c_e ON c (e)"
            with pytest.raises(sa.exc.IntegrityError, match='could not create unique index "ix_c_e"'):
                connection.exec_driver_sql(build)
            connection.exec_driver_sql("DELETE FROM c WHERE id = 2")
            connection.exec_driver_sql(build)  # no error: the name exists
            valid = connection.exec_driver_sql(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_c_e'::regclass").scalar()
        assert valid is False
    finally:
        engine.dispose()
        engines.drop_database(url, server_url)

"""The warehouse: migrations, staging, merges and SQL files, the same on DuckDB and PostgreSQL.

Every load is: stage the frame as ``stg_<frame>`` with the columns and types
of ``sql/staging/<frame>.sql`` through the engine's bulk path (on PostgreSQL a
temporary table filled by COPY; on DuckDB a temporary view casting the frame's
registered Arrow table, with no copy), then run one merge per target table
(``sql/merge``), all inside one transaction.  SQL is kept in files with bound parameters.

On PostgreSQL every connection is checked before use (``pool_pre_ping``: a
connection the server dropped while idle is replaced, not handed to the run)
and carries a ``statement_timeout`` and a ``lock_timeout``
(PANTAU_PG_STATEMENT_TIMEOUT_SECONDS, PANTAU_PG_LOCK_TIMEOUT_SECONDS), so a
stuck query or a lock held by a forgotten session fails the task with a clear
error instead of hanging the night. Migrations and indicator computations run
under PostgreSQL advisory locks: concurrent processes wait for each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from etl.errors import DataError, WarehouseError
from etl.settings import PROJECT_ROOT, _float

log = structlog.get_logger(__name__)
SQL_DIR = PROJECT_ROOT / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
#: PostgreSQL: rows rendered and sent per COPY (the CSV of one chunk is held in memory at a time).
BULK_CHUNK_ROWS = 50_000
DUCKDB_STORAGE_VERSION = "v1.5.0"
#: DuckDB checkpoints (folds its write-ahead log into the file) when a commit takes the log past this size; its
#: default is 16MB. Held open across many shard transactions (a benchmark night, a CLI load of many shards), twelve
#: 25,000-row shard commits took 0.39-0.50 s at 16MB and 0.21-0.25 s at 1GB (issue 11). The log is still folded in
#: when the last connection closes (Warehouse.dispose), so an Airflow task (one shard) gains little.
DUCKDB_CHECKPOINT_THRESHOLD = "1GB"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
#: A migration whose first line is ``-- only: <dialect>`` runs on that engine only; the others record it as applied.
_MIGRATION_DIALECT = re.compile(r"^--\s*only:\s*(\w+)\s*$")
#: pg_advisory_lock keys: one process migrates at a time; one indicator computation at a time.
MIGRATION_LOCK = 74_617_009_001
INDICATOR_LOCK = 74_617_009_002
#: PostgreSQL: a merge of at least this many staged rows first runs its INSERT without the ON CONFLICT clause, under
#: a savepoint, and runs the whole merge only when that insert meets a row already there (a rerun, a known post).
#: A first night's posts and every night's snapshots are all new: the plain insert skips the speculative insertion
#: (a lock and a confirming WAL record per row) that was ~40% of their merges (issue 11). Below it, the failed
#: attempt's round trips would cost more than the insertion saves.
INSERT_FIRST_ROWS = 1_000
#: Staging columns a frame may leave out (NULL).
OPTIONAL_COLUMNS = ("text_repairs", "collected_by")
SUPPORTED = "postgresql+psycopg://user@host:5432/db or duckdb:///path/to/warehouse.duckdb"


def sql_file(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def split_statements(script: str) -> list[str]:
    """Statements of a SQL file; ours end with ';' at the end of a line and hold no ';' in literals."""
    without_comments = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", without_comments) if s.strip()]


class Warehouse:
    """A handle on the warehouse database behind a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {}
        if url.startswith("duckdb:///"):
            Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError:
            raise WarehouseError(f"WAREHOUSE_URL is not a database URL; use {SUPPORTED}") from None
        if parsed.get_backend_name() not in {"duckdb", "postgresql"}:
            raise WarehouseError(
                f"WAREHOUSE_URL scheme {parsed.drivername!r} is not supported; use {SUPPORTED}"
            )
        if parsed.get_backend_name() == "duckdb":
            # A new file is written in a storage format the DuckDB CLI on PyPI (duckdb-cli, 1.5) reads: analysts open it with
            # `.venv/bin/duckdb`; the Python package (2.x) would otherwise write a format only 2.x reads.
            options["connect_args"] = {"config": {"storage_compatibility_version": DUCKDB_STORAGE_VERSION,
                                                  "checkpoint_threshold": DUCKDB_CHECKPOINT_THRESHOLD}}
        if parsed.get_backend_name() == "postgresql":
            statement = int(_float("PANTAU_PG_STATEMENT_TIMEOUT_SECONDS", 1800) * 1000)
            lock = int(_float("PANTAU_PG_LOCK_TIMEOUT_SECONDS", 120) * 1000)
            options = {
                "pool_pre_ping": True,
                "connect_args": {"options": f"-c statement_timeout={statement} -c lock_timeout={lock}", "connect_timeout": 10},
            }
        try:
            self.engine: Engine = sa.create_engine(
                url, poolclass=sa.pool.NullPool if url.startswith("duckdb") else None, **options
            )
        except (sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
            raise WarehouseError(f"WAREHOUSE_URL scheme {parsed.drivername!r} cannot be used ({exc}); use {SUPPORTED}") from None
        self.dialect = self.engine.dialect.name  # "duckdb" or "postgresql"
        self._held: Connection | None = None

    def __repr__(self) -> str:
        return f"Warehouse({self.engine.url.render_as_string(hide_password=True)})"

    def dispose(self) -> None:
        """Release connections (DuckDB holds a file lock while a connection is open)."""
        if self._held is not None:
            self._held.close()
            self._held = None
        self.engine.dispose()

    def hold_open(self) -> None:
        """Keep a DuckDB database loaded until :meth:`dispose` (a task's many short transactions share it).

        Without it every transaction opens the file and, closing the last connection, checkpoints it: a
        demo night spent a tenth of its CPU opening and checkpointing DuckDB between the audit rows, the
        migration check and the work of each task. PostgreSQL pools its connections: nothing to do.
        """
        if self.dialect == "duckdb" and self._held is None:
            self._held = self.engine.connect()

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Keep the database open across many short transactions (a shard's budget leases).

        DuckDB connections are not pooled (a pooled connection would hold the file lock
        after the task), so each transaction opens the database again: ~25 ms. While one
        connection stays open the next ones reuse the loaded database: ~1 ms.
        """
        if self.dialect != "duckdb":
            yield
            return
        with self.engine.connect():
            yield

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    # -- migrations -----------------------------------------------------------------

    @contextmanager
    def advisory_lock(self, key: int) -> Iterator[None]:
        """Hold PostgreSQL's session advisory lock ``key`` for the block (other processes wait); DuckDB: nothing to do,
        its file lock already lets one process write at a time."""
        if self.dialect != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            conn.execute(sa.text("SET lock_timeout = 0"))  # waiting for another migration is expected, not an error
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()

    def migrate(self) -> list[str]:
        """Apply the migrations in sql/migrations not applied yet, each in its own transaction, one process at a time."""
        try:
            with self.advisory_lock(MIGRATION_LOCK):
                return self._migrate()
        except sa.exc.OperationalError as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            raise WarehouseError(
                f"cannot reach the warehouse {self!r}: {first}; check WAREHOUSE_URL and that the database server is running"
            ) from exc

    def _migrate(self) -> list[str]:
        applied: list[str] = []
        with self.transaction() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
                )
            )
            done = {row[0] for row in conn.execute(sa.text("SELECT version FROM schema_migrations"))}
        for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
            match = _MIGRATION_NAME.match(path.name)
            if not match:
                raise ValueError(f"migration file name {path.name!r} must look like 001_name.sql")
            version = match.group(1)
            if version in done:
                continue
            script = path.read_text(encoding="utf-8")
            only = _MIGRATION_DIALECT.match(script.split("\n", 1)[0])
            with self.transaction() as conn:
                for statement in split_statements(script) if only is None or only.group(1) == self.dialect else []:
                    conn.execute(sa.text(statement))
                conn.execute(
                    sa.text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"),
                    {"v": version, "n": path.stem, "t": datetime.now(UTC).replace(tzinfo=None)},
                )
            applied.append(path.stem)
            log.info("migration applied", **{"migration": path.stem, "warehouse": repr(self)})
        return applied

    # -- loading ----------------------------------------------------------------------

    def run_file(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
        """Run every statement of ``sql/<name>.sql``; returns the rows the last one touched."""
        rowcount = 0
        for statement in split_statements(sql_file(name)):
            result = conn.execute(sa.text(statement), dict(params or {}))
            rowcount = result.rowcount if result.rowcount is not None else 0
        return rowcount

    def staging_columns(self, conn: Connection, frame: str) -> list[str]:
        """The columns of ``stg_<frame>`` as ``sql/staging/<frame>.sql`` defines them (read from the database once)."""
        definition = sql_file(f"staging/{frame}")
        columns = _STAGING_COLUMNS.get((self.dialect, definition))
        return columns if columns is not None else self._learn_staging_columns(conn, frame, definition)

    def _stage(self, conn: Connection, frame: str, df: pd.DataFrame) -> tuple[int, str | None]:
        """Rows staged, and what ``stg_<frame>`` was created as: ``"TABLE"``, ``"VIEW"`` (DuckDB) or None."""
        table = f"stg_{frame}"
        definition = sql_file(f"staging/{frame}")
        columns = _STAGING_COLUMNS.get((self.dialect, definition))
        if columns is not None and len(df) == 0:
            # Nothing to stage (most shards have no deletions): no table to create, fill and drop, the
            # columns are still checked (issue 11: a staging table costs a few round trips per shard).
            _staged_columns(frame, columns, df)
            return 0, None
        if columns is None:
            columns = self._learn_staging_columns(conn, frame, definition)
        df = _staged_columns(frame, columns, df)[columns]
        if self.dialect == "duckdb":
            # One Arrow conversion serves the text check and the load (as below). Staged as a view that casts the
            # registered Arrow table to the staging file's types, the rows are read by the merge itself: copying them
            # into a temporary table first was ~12% of a first night's DuckDB load (issue 11). The casts run as the
            # merge reads: a value in a row its WHERE leaves out is never cast, so it cannot fail the load as
            # PostgreSQL's COPY into the typed staging table does (the quality gate has refused such rows earlier).
            arrow = _arrow_table(df)
            if arrow is None or _holds_nul(arrow):
                refuse_unstorable_text(frame, df)
            if arrow is not None:
                _stage_duckdb_view(conn, table, _STAGING_TYPES[definition], arrow)
                return len(df), "VIEW"
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        self.run_file(conn, f"staging/{frame}")
        if self.dialect == "duckdb":  # a column Arrow cannot type (mixed Python values): DuckDB's own pandas scan
            _insert_duckdb(conn, table, columns, df)
            return len(df), "TABLE"
        for start in range(0, len(df), BULK_CHUNK_ROWS):
            chunk = df.iloc[start : start + BULK_CHUNK_ROWS]
            # One Arrow conversion per chunk serves the text check and the load. Arrow refuses a lone surrogate
            # (no table) and finds a NUL in C; only then is the frame searched value by value to name the row.
            # Checking every frame in pandas first cost ~0.4 s of CPU a 1M-snapshot night, this ~0.2 s (issue 11).
            arrow = _arrow_table(chunk)
            if arrow is None or _holds_nul(arrow):
                refuse_unstorable_text(frame, df)
            _copy_postgres(conn, table, columns, chunk, arrow)
        return len(df), "TABLE"

    def _learn_staging_columns(self, conn: Connection, frame: str, definition: str) -> list[str]:
        """The columns (and on DuckDB their types) of ``sql/staging/<frame>.sql``, read from the database once."""
        table = f"stg_{frame}"
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        self.run_file(conn, f"staging/{frame}")
        columns = [row[0] for row in conn.execute(sa.text(f"SELECT * FROM {table} WHERE 1 = 0")).cursor.description]
        if self.dialect == "duckdb":
            _STAGING_TYPES[definition] = {row[0]: row[1] for row in conn.execute(sa.text(f"DESCRIBE {table}"))}
        conn.execute(sa.text(f"DROP TABLE {table}"))
        _STAGING_COLUMNS[(self.dialect, definition)] = columns
        return columns

    def merge(self, conn: Connection, frame: str, df: pd.DataFrame, model: str, params: Mapping[str, Any] | None = None) -> int:
        """Stage ``df`` as ``stg_<frame>`` and apply ``sql/merge/<model>.sql``; returns rows staged.

        An empty frame merges nothing (and, staged without a table, drops none).
        """
        staged, created = self._stage(conn, frame, df)
        if staged and not self._inserted_as_new(conn, model, staged, params):
            self.run_file(conn, f"merge/{model}", params)
        if created:
            conn.execute(sa.text(f"DROP {created} IF EXISTS stg_{frame}"))
        if created == "VIEW":
            # A registered Arrow table lives as long as the connection (a failed merge's goes with the transaction's
            # connection: DuckDB connections are not pooled); the shard's next frames need not wait for that.
            conn.connection.driver_connection.unregister(f"incoming_stg_{frame}")
        return staged

    def _inserted_as_new(self, conn: Connection, model: str, staged: int, params: Mapping[str, Any] | None) -> bool:
        """Whether every staged row was new and is now inserted by the merge's own INSERT without its ON CONFLICT.

        Only for a merge that is one ``INSERT .. ON CONFLICT`` of at least INSERT_FIRST_ROWS rows. PostgreSQL tries
        the insert under a savepoint: a row the target already holds (or any other integrity or data error) rolls
        the attempt back, and the merge then runs whole: the result, and the error bad data gives, are the merge's,
        and a rerun still rewrites nothing. A timeout or a lost connection is raised as it is (running the merge
        after it would only wait again).

        DuckDB has no savepoints (a failed statement aborts its transaction), so it asks first (_new_rows_question),
        and only where the answer is cheap: a merge whose conflict key holds the snapshot date, whose rows are all
        new on a day's first load. The question reads the target's rows of the staged days only (DuckDB skips the
        other days' row groups by their dates); for ON CONFLICT DO UPDATE DuckDB spent ~40% more than for the plain
        insert (issue 11). Asked of dim_post, whose key has no date, it read the whole table: ~80 ms a 25,000-row
        shard against 3,000,000 posts, more than the insert saves, and wasted on a normal night's known posts.
        """
        if staged < INSERT_FIRST_ROWS:
            return False
        merge = sql_file(f"merge/{model}")
        insert = _insert_without_conflict(merge)
        if insert is None:
            return False
        if self.dialect == "duckdb":
            question = _new_rows_question(merge)
            if question is None or conn.execute(sa.text(question), dict(params or {})).scalar_one():
                return False
            conn.execute(sa.text(insert), dict(params or {}))
            return True
        try:
            with conn.begin_nested():
                conn.execute(sa.text(insert), dict(params or {}))
        except (sa.exc.IntegrityError, sa.exc.DataError):  # then the merge runs and raises its own error, if any
            return False
        return True

    def refresh_statistics(self, conn: Connection, tables: list[str]) -> None:
        """Let PostgreSQL's planner see freshly bulk-loaded rows (DuckDB keeps its statistics current itself)."""
        if self.dialect == "postgresql":
            for table in tables:
                conn.execute(sa.text(f"ANALYZE {table}"))

    def scalar(self, conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return conn.execute(sa.text(sql), dict(params or {})).scalar_one()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            # fetchall: the driver hands over every row at once (DuckDB: ~2.5x faster than row-by-row iteration)
            return conn.execute(sa.text(sql), dict(params or {})).fetchall()

    def query_df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self.engine.connect() as conn:
            # Nullable dtypes: an integer column with NULLs stays integer (1030, not 1030.0).
            return pd.read_sql_query(sa.text(sql), conn, params=dict(params or {}), dtype_backend="numpy_nullable")

    def table_counts(self, tables: list[str]) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}


@cache
def _insert_without_conflict(merge: str) -> str | None:
    """The INSERT of a merge that is one ``INSERT .. ON CONFLICT ..`` statement, without its ON CONFLICT clause."""
    statements = split_statements(merge)
    if len(statements) != 1 or not statements[0].upper().startswith("INSERT"):
        return None
    # The clause starts a line of its own in every merge file; a line that is anything else (an inline comment or a
    # string that mentions it) must not cut the statement short.
    parts = _CONFLICT_LINE.split(statements[0])
    return parts[0].rstrip() if len(parts) == 2 else None


_CONFLICT_LINE = re.compile(r"^\s*ON CONFLICT\b", re.M)
_UPSERT = re.compile(r"^INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*(SELECT\b.*?)^\s*ON CONFLICT\s*\(([^)]*)\)", re.S | re.M | re.I)
#: A conflict key holding this column is a day's snapshot: its rows are new on the day's first load.
_DAY_KEY = "snapshot_date"


def _new_rows_question(merge: str) -> str | None:
    """DuckDB: a query whether a merge's rows would meet a conflict (a key the target holds, or one staged twice,
    which the merge accepts and a plain insert refuses); None for a merge whose conflict key has no snapshot date."""
    statements = split_statements(merge)
    found = _UPSERT.match(statements[0]) if len(statements) == 1 else None
    if found is None:
        return None
    table, columns, select, key = found.groups()
    keys = [k.strip() for k in key.split(",")]
    if _DAY_KEY not in keys:
        return None
    names = ", ".join(c.strip() for c in columns.split(","))
    on = " AND ".join(f"held.{k} = new_rows.{k}" for k in keys)
    return (f"WITH new_rows ({names}) AS ({select.rstrip()})\n"
            f"SELECT EXISTS (SELECT 1 FROM new_rows JOIN {table} AS held ON {on})\n"
            f"    OR (SELECT COUNT(*) <> COUNT(DISTINCT ({', '.join(keys)})) FROM new_rows)")


#: Columns of each staging table, by dialect and the text of its sql/staging file (read from the database once per
#: process: the definition only changes with the file).
_STAGING_COLUMNS: dict[tuple[str, str], list[str]] = {}
#: DuckDB: the type of each column of a staging table, by the text of its sql/staging file.
_STAGING_TYPES: dict[str, dict[str, str]] = {}


def _staged_columns(frame: str, columns: list[str], df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the optional staging columns it lacks as NULL; a clear error for any other missing column."""
    # A note column older frames (and hand-built ones) do not carry: NULL.
    df = df.assign(**{c: None for c in OPTIONAL_COLUMNS if c in columns and c not in df.columns})
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"frame {frame} lacks staging columns {missing}")
    return df


_UNSTORABLE = r"[\x00\ud800-\udfff]"
_UNSTORABLE_TEXT = re.compile(_UNSTORABLE)


def refuse_unstorable_text(frame: str, df: pd.DataFrame) -> None:
    """Raise :class:`DataError` naming the first row holding a NUL byte or a lone surrogate.

    Parsers repair such text (etl/sources/frames.py); text that still carries one would make PostgreSQL's COPY
    (NUL) or the driver (surrogates) fail the whole transaction with a message naming no row. Retrying cannot
    help: the error is deterministic.
    """
    for column in df.columns:
        values = df[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values) or _storable_column(values):
            continue
        texts = values[values.map(lambda v: isinstance(v, str))]
        hostile = texts[texts.str.contains(_UNSTORABLE, regex=True)]
        if len(hostile):
            position = df.index.get_loc(hostile.index[0])
            what = "a NUL byte" if "\x00" in hostile.iloc[0] else "a lone UTF-16 surrogate"
            key = ", ".join(f"{c}={df[c].iloc[position]!r}" for c in df.columns[:3] if c != column)
            raise DataError(
                f"frame {frame}: row {position} ({key}) field {column}: holds {what} the warehouse cannot store; "
                "repair it in the parser (etl.sources.frames.repair_text)"
            )


def _storable_column(values: pd.Series) -> bool:
    """True when no value of a column holds NUL or a lone surrogate, found without a Python call per value.

    The row-by-row search that names the offending row took about a quarter of a PostgreSQL night's load time
    (issue 11); it now runs only when this says a column holds one (or mixes text with other values).
    """
    import pyarrow as pa  # noqa: PLC0415 - pandas' string storage, always installed
    import pyarrow.compute as pc  # noqa: PLC0415

    if hasattr(values.array, "__arrow_array__"):  # Arrow-backed strings are UTF-8: no lone surrogate; NUL is searched in C
        return not pc.any(pc.match_substring(pa.array(values.array), "\x00")).as_py()
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind not in ("string", "empty"):
        return "mixed" not in kind  # dates, numbers: no text at all; text mixed with other values: row by row
    joined = "".join(values.dropna())
    return "\x00" not in joined and (joined.isascii() or _UNSTORABLE_TEXT.search(joined) is None)


def _python_rows(df: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Rows as plain Python values (pandas NA to None) for drivers that do not know numpy."""
    for row in df.astype(object).itertuples(index=False, name=None):
        yield tuple(None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else _plain(v) for v in row)


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _arrow_table(df: pd.DataFrame) -> Any:
    """``df`` as a pyarrow Table, or None when a column mixes Python types Arrow cannot put in one column
    (or holds text with a lone surrogate, which UTF-8 cannot encode)."""
    import pyarrow as pa  # noqa: PLC0415 - pandas' Parquet engine, always installed

    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None


def _holds_nul(table: Any) -> bool:
    """True when a text column of an Arrow table holds a NUL byte (searched in C)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    return any(
        pc.any(pc.match_substring(table.column(i), "\x00")).as_py()
        for i, field in enumerate(table.schema)
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
    )


#: ``_csv_bytes``'s default: the frame is converted to Arrow there (a ``None`` table means it could not be).
_NOT_CONVERTED = object()


def _csv_bytes(df: pd.DataFrame, table: Any = _NOT_CONVERTED) -> bytes | None:
    """``df`` (or its Arrow ``table``, None when ``df`` could not be converted) as PostgreSQL COPY CSV, rendered
    column-wise by Arrow; None when a column is not Arrow-typed.

    Arrow quotes every string and leaves NULL empty and unquoted, which is exactly how COPY's CSV
    format tells NULL from an empty string. Rendering row by row in Python cost ~4 us a value, five
    times the COPY itself (issue 11).
    """
    import pyarrow as pa  # noqa: PLC0415 - pandas' Parquet engine, always installed
    import pyarrow.csv as pa_csv  # noqa: PLC0415

    table = _arrow_table(df) if table is _NOT_CONVERTED else table
    if table is None:
        return None  # a column mixing Python types: the row-wise path renders it value by value
    if any(pa.types.is_nested(field.type) or pa.types.is_timestamp(field.type) and field.type.tz for field in table.schema):
        return None  # lists/structs and zoned timestamps keep the driver's own conversion
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def _copy_postgres(conn: Connection, table: str, columns: list[str], df: pd.DataFrame, arrow: Any) -> None:
    """COPY ``df`` into ``table``; ``arrow`` is its Arrow table, or None when it could not be converted (row by row)."""
    from psycopg import sql  # noqa: PLC0415 - only needed for PostgreSQL

    raw = conn.connection.driver_connection
    target = sql.SQL("{} ({})").format(sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    rendered = _csv_bytes(df, arrow)
    with raw.cursor() as cursor:
        if rendered is not None:
            with cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy:
                copy.write(rendered)
            return
        with cursor.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
            for row in _python_rows(df):
                copy.write_row(row)


def _stage_duckdb_view(conn: Connection, table: str, types: dict[str, str], arrow: Any) -> None:
    """Register ``arrow`` as ``incoming_<table>`` and create ``table`` as a temporary view casting it to ``types``."""
    name = f"incoming_{table}"
    conn.connection.driver_connection.register(name, arrow)
    # The casts are the ones an INSERT into the staging table applied: the merge sees the same types and values.
    casts = ", ".join(f'CAST("{column}" AS {kind}) AS "{column}"' for column, kind in types.items())
    conn.execute(sa.text(f"CREATE OR REPLACE TEMPORARY VIEW {table} AS SELECT {casts} FROM {name}"))


def _insert_duckdb(conn: Connection, table: str, columns: list[str], df: pd.DataFrame) -> None:
    """Insert ``df``, a frame Arrow could not convert, into ``table`` through DuckDB's scan of the DataFrame itself."""
    raw = conn.connection.driver_connection
    name = f"incoming_{table}"
    raw.register(name, df.reset_index(drop=True))
    cols = ", ".join(columns)
    raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    # Not in a finally: after a failed INSERT the transaction is aborted, and unregistering would raise that instead
    # of the INSERT's own error (the registration goes with the transaction's connection).
    raw.unregister(name)

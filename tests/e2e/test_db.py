"""The connectors, through `golive db`: each driver against a real engine
(SQLite file, PostgreSQL and MariaDB servers started by the harness)."""
import json

import pytest

from conftest import golive

SCHEMA = {
    "sqlite": """
        CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL,
          amount NUMERIC(38,10), ratio REAL, born DATE, seen TIMESTAMP,
          ok BOOLEAN, bin BLOB, note TEXT DEFAULT 'x');
        INSERT INTO t VALUES (1, 'Zhang Wei 张伟', '1234.50',
          0.1, '2026-03-14', '2026-03-14 01:02:03.000004', 1, X'00FF10', NULL);
        INSERT INTO t VALUES (2, 'O''Brien\\n"q"', NULL, NULL, NULL, NULL, 0, X'', '');
    """,
    "postgres": """
        CREATE TABLE t (id integer PRIMARY KEY, name varchar(40) NOT NULL,
          amount numeric(38,10), ratio double precision, born date,
          seen timestamptz, ok boolean, bin bytea, note text DEFAULT 'x');
        INSERT INTO t VALUES (1, 'Zhang Wei 张伟', '12345678901234567890123456.1234567890',
          0.1, '2026-03-14', '2026-03-14 09:02:03.000004+08', true, '\\x00ff10', NULL);
        INSERT INTO t VALUES (2, E'O''Brien\\\\n"q"', NULL, NULL, NULL, NULL, false, '\\x', '');
    """,
    "mariadb": """
        CREATE TABLE t (id int PRIMARY KEY, name varchar(40) NOT NULL,
          amount decimal(38,10), ratio double, born date,
          seen datetime(6), ok boolean, bin varbinary(10),
          note text DEFAULT 'x');
        INSERT INTO t VALUES (1, 'Zhang Wei 张伟', '12345678901234567890123456.1234567890',
          0.1, '2026-03-14', '2026-03-14 01:02:03.000004', true, x'00FF10', NULL);
        INSERT INTO t VALUES (2, 'O\\'Brien\\\\n"q"', NULL, NULL, NULL, NULL, false, '', '');
    """,
}


def query(engine, sql):
    r = golive("db", "query", engine.url, sql, "--json", env=engine.env)
    assert r.rc == 0, r
    return [json.loads(l) for l in r.out.splitlines()]


def test_ping_and_tables(engine):
    engine.sql(SCHEMA[engine.kind])
    r = golive("db", "ping", engine.url, env=engine.env)
    assert r.rc == 0 and "connected" in r.out, r
    r = golive("db", "tables", engine.url, "--json", env=engine.env)
    assert r.rc == 0 and json.loads(r.out) == ["t"], r


def test_describe(engine):
    engine.sql(SCHEMA[engine.kind])
    r = golive("db", "describe", engine.url, "t", "--json", env=engine.env)
    assert r.rc == 0, r
    d = json.loads(r.out)
    assert d["primary_key"] == ["id"]
    cols = {c["name"]: c for c in d["columns"]}
    assert list(cols) == ["id", "name", "amount", "ratio", "born", "seen",
                          "ok", "bin", "note"]
    assert cols["id"]["type"] == "integer"
    assert cols["name"]["type"] == "text" and cols["name"]["length"] == 40
    assert not cols["name"]["nullable"] and cols["amount"]["nullable"]
    assert cols["amount"]["type"] == "numeric"
    assert (cols["amount"]["precision"], cols["amount"]["scale"]) == (38, 10)
    assert cols["ratio"]["type"] == "float"
    assert cols["born"]["type"] == "date"
    assert cols["seen"]["type"] in ("timestamp", "timestamptz")
    assert cols["bin"]["type"] == "bytes"
    assert cols["note"]["has_default"]


def test_missing_table_is_not_found(engine):
    r = golive("db", "describe", engine.url, "nope", env=engine.env)
    assert r.rc == 2 and "no table 'nope'" in r.err


def test_query_values_are_typed(engine):
    engine.sql(SCHEMA[engine.kind])
    rows = query(engine, "SELECT id, name, amount, ratio, born, seen, bin,"
                         " note FROM t ORDER BY id")
    a, b = rows
    assert a["id"] == 1 and isinstance(a["id"], int)
    assert a["name"] == "Zhang Wei 张伟"
    if engine.kind == "sqlite":
        # SQLite stored 1234.50 as REAL; the NUMERIC declaration gives it
        # back as the decimal SQLite would print, not 1234.4999...
        assert a["amount"] == "1234.5"
    else:
        assert a["amount"] == "12345678901234567890123456.1234567890"
    assert a["ratio"] == 0.1
    assert a["born"] == "2026-03-14"
    assert a["seen"] in ("2026-03-14T01:02:03.000004Z",
                         "2026-03-14T01:02:03.000004")
    assert a["bin"] == "00ff10"
    assert a["note"] is None
    assert b["name"] == "O'Brien\\n\"q\""
    assert b["amount"] is None and b["born"] is None
    assert b["bin"] == "" and b["note"] == ""


def test_query_error_is_reported(engine):
    r = golive("db", "query", engine.url, "SELECT * FROM nope", env=engine.env)
    assert r.rc == 2 and "nope" in r.err


def test_password_never_printed(my, pg):
    # a wrong password in the URL: the message names the server, not it
    bad = my.url.replace("golive@", "golive:sekrit@")
    r = golive("db", "ping", bad)
    assert r.rc == 2 and "sekrit" not in r.err and "***" in r.err
    r = golive("db", "ping", "postgres://golive:sekrit@127.0.0.1:1/x")
    assert r.rc == 2 and "sekrit" not in r.err + r.out


def test_password_from_environment_variable(my):
    url = my.url.replace("golive@", "golive:${GL_TEST_PW}@")
    r = golive("db", "ping", url, env={"GL_TEST_PW": my.env["MYSQL_PWD"]})
    assert r.rc == 0, r
    r = golive("db", "ping", url)
    assert r.rc == 2 and "GL_TEST_PW" in r.err


def test_large_result_streams(engine):
    if engine.kind == "sqlite":
        engine.sql("CREATE TABLE n (i INTEGER PRIMARY KEY);"
                   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1"
                   " FROM c WHERE x < 20000) INSERT INTO n SELECT x FROM c")
    elif engine.kind == "postgres":
        engine.sql("CREATE TABLE n AS SELECT generate_series(1, 20000) AS i")
    else:
        engine.sql("CREATE TABLE n (i int); INSERT INTO n SELECT seq FROM"
                   " seq_1_to_20000")
    r = golive("db", "query", engine.url, "SELECT i FROM n ORDER BY i",
               env=engine.env)
    lines = r.out.splitlines()
    assert r.rc == 0 and len(lines) == 20001
    assert lines[1] == "1" and lines[-1] == "20000"

"""`golive validate --online`: the plan against its databases, each finding
at its position in the plan."""
import json
import textwrap

from conftest import golive

PLAN = """
cutover: online-test
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [data]}
  - {id: bob, roles: [data]}
systems:
  old: "%s"
  new: "%s"
sync:
  - id: j
    from: old.src
    to: new.tgt
    key: [id]
    columns:
%s
    owner: ann
    checker: bob
"""


def pos(text, needle):
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def check(tmp_path, old, new, columns="      id: id", extra_env=None):
    text = textwrap.dedent(PLAN).lstrip() % (old.url, new.url, columns)
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    env = dict(old.env, **new.env)
    env.update(extra_env or {})
    r = golive("validate", p, "--online", "--json", env=env)
    return r, json.loads(r.out) if r.out.strip() else [], text


def codes(found):
    return sorted(d["code"] for d in found)


def test_agreeing_plan_is_ok(tmp_path, lite, pg):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT)")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY, name text)")
    r, found, _ = check(tmp_path, lite, pg)
    assert r.rc == 0 and found == [], r
    r = golive("validate", tmp_path / "plan.yaml", "--online")
    assert r.rc == 0 and "the databases agree with the plan" in r.out


def test_missing_tables(tmp_path, lite, my):
    r, found, text = check(tmp_path, lite, my)
    assert r.rc == 1
    by = {d["code"]: d for d in found}
    assert codes(found) == ["no-table"]  # the target is checked first
    assert (by["no-table"]["line"], by["no-table"]["col"]) == pos(text, "new.tgt")
    my.sql("CREATE TABLE tgt (id int PRIMARY KEY)")
    r, found, text = check(tmp_path, lite, my)
    assert codes(found) == ["no-table"]
    assert (found[0]["line"], found[0]["col"]) == pos(text, "old.src")
    assert "src" in found[0]["message"]


def test_missing_columns_and_unfilled_not_null(tmp_path, lite, pg):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT)")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY, full_name text,"
           " must text NOT NULL, fine text NOT NULL DEFAULT 'x')")
    cols = "      full_name: nme\n      nope: name"
    r, found, text = check(tmp_path, lite, pg, cols)
    assert r.rc == 1
    got = sorted((d["code"], d["line"], d["col"]) for d in found)
    assert got == sorted([
        ("no-column",) + pos(text, "full_name: nme"),   # source has no nme
        ("no-column",) + pos(text, "nope: name"),       # target has no nope
        ("unfilled-column",) + pos(text, "new.tgt"),    # 'must'
    ]), found
    assert any("'must'" in d["message"] for d in found)


def test_type_fits(tmp_path, pg, my):
    pg.sql("CREATE TABLE src (id int PRIMARY KEY, code text, label varchar(80),"
           " amount numeric(12,4), at timestamp(6), big numeric(38,0))")
    my.sql("CREATE TABLE tgt (id int PRIMARY KEY, code int, label varchar(20),"
           " amount decimal(12,2), at datetime(0), big decimal(38,0))")
    r, found, text = check(tmp_path, pg, my)
    assert r.rc == 1
    got = {d["code"]: d for d in found}
    assert got["type-mismatch"]["severity"] == "error"
    assert "'code'" in got["type-mismatch"]["message"]
    assert got["may-truncate"]["severity"] == "warning"
    assert got["may-round"]["severity"] == "warning"
    assert got["may-lose-precision"]["severity"] == "warning"
    for d in found:
        assert (d["line"], d["col"]) == pos(text, "new.tgt")
    # a cast says how: the error goes
    r, found, _ = check(tmp_path, pg, my, "      code: {from: code, cast: integer}")
    assert "type-mismatch" not in codes(found)


def test_numerics_into_sqlite_lose_digits(tmp_path, pg, lite):
    pg.sql("CREATE TABLE src (id int PRIMARY KEY, n numeric(38,10))")
    lite.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, n NUMERIC)")
    r, found, _ = check(tmp_path, pg, lite)
    assert r.rc == 0 and codes(found) == ["may-lose-digits"], found


def test_unmapped_legacy_code_is_named_with_its_count(tmp_path, engine, lite):
    src = engine
    if engine.kind == "sqlite":
        src = lite
    src.sql("CREATE TABLE src (id int PRIMARY KEY, st varchar(2));"
            "INSERT INTO src VALUES (1,'00'),(2,'10'),(3,'15'),(4,'15'),(5,NULL)")
    lite_t = lite if engine.kind != "sqlite" else None
    if lite_t is None:
        import sqlite3
        t = tmp_path / "t.db"
        c = sqlite3.connect(t)
        c.execute("CREATE TABLE tgt (id INTEGER PRIMARY KEY, status TEXT)")
        c.close()

        class DB:
            pass
        lite_t = DB()
        lite_t.url = "sqlite:%s" % t
        lite_t.env = {}
    else:
        lite.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, status TEXT)")
    cols = '      status: {from: st, map: {"00": draft, "10": submitted}}'
    r, found, text = check(tmp_path, src, lite_t, cols)
    assert r.rc == 1, r
    (d,) = found
    assert d["code"] == "unmapped-value"
    assert (d["line"], d["col"]) == pos(text, "status: {from")
    assert "2 source rows carry '15'" in d["message"]
    cols = '      status: {from: st, map: {"00": draft, "10": submitted}, else: draft}'
    r, found, _ = check(tmp_path, src, lite_t, cols)
    assert r.rc == 0 and found == []


def test_every_old_table_synced_or_excluded(tmp_path, lite, pg):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY);"
             "CREATE TABLE t_log (id INTEGER PRIMARY KEY);"
             "CREATE TABLE t_tmp (id INTEGER PRIMARY KEY)")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY)")
    r, found, text = check(tmp_path, lite, pg)
    assert r.rc == 1
    assert codes(found) == ["unsynced-table", "unsynced-table"]
    assert {d["message"].split("'")[1] for d in found} == {"t_log", "t_tmp"}
    assert (found[0]["line"], found[0]["col"]) == pos(text, "old:")
    p = tmp_path / "plan.yaml"
    p.write_text(text.replace('old: "%s"' % lite.url,
                              'old: {url: "%s", exclude: [t_log, t_tmp]}' % lite.url))
    r = golive("validate", p, "--online", env=pg.env)
    assert r.rc == 0, r


def test_unreachable_database_is_exit_2(tmp_path, lite):
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY)")

    class DB:
        pass
    gone = DB()
    gone.url = "postgres://golive:pw@127.0.0.1:1/none"
    gone.env = {}
    r, found, text = check(tmp_path, lite, gone)
    assert r.rc == 2
    (d,) = [x for x in found if x["severity"] == "error"]
    assert d["code"] == "cannot-connect"
    assert (d["line"], d["col"]) == pos(text, '"postgres://')
    assert "pw" not in d["message"].replace("postgres", "")


def test_demo_catches_the_legacy_code_before_the_sync(tmp_path):
    d = tmp_path / "demo"
    assert golive("demo", "--dir", d, "--rows", "3000").rc == 0
    r = golive("validate", d / "plan.yaml", "--online", "--json")
    assert r.rc == 1, r
    errors = [x for x in json.loads(r.out) if x["severity"] == "error"]
    assert [e["code"] for e in errors] == ["unmapped-value"]
    assert "carry '15' in 'status_code'" in errors[0]["message"]


def test_misspelt_watermark_column(tmp_path, lite, pg):
    """New-user trial: a misspelt `watermark:` passed `validate --online`.
    It is an error at the watermark's position, with a did-you-mean."""
    lite.sql("CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT)")
    pg.sql("CREATE TABLE tgt (id int PRIMARY KEY, updated_at timestamptz)")
    text = textwrap.dedent(PLAN).lstrip() % (lite.url, pg.url, "      id: id\n"
                                             "      updated_at: updated_at")
    text = text.replace("    key: [id]\n", "    key: [id]\n    mode: incremental"
                        "\n    watermark: updated_ta\n")
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    assert golive("validate", p).rc == 0
    r = golive("validate", p, "--online", "--json", env=pg.env)
    assert r.rc == 1, r
    found = json.loads(r.out)
    assert [(d["code"], d["line"], d["col"]) for d in found] == [
        ("no-column",) + pos(text, "updated_ta\n")], found
    assert "source table has no watermark column 'updated_ta'; did you " \
        "mean 'updated_at'?" in found[0]["message"], found

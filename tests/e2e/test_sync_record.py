"""What the run records of sync executions whatever ends them (#10.3,
#10.4, #10.20): the rejects file only grows (each row names its
execution), --retry-rejects removes exactly the rows that load, an
execution is recorded from its start, SIGINT / SIGTERM end it cleanly,
one killed with -9 shows as died, and the counters say what committed."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from conftest import BIN, golive
from test_sync import lite_pair, mode_job, plan, rows, sync


def fill(lite, n, table="src"):
    lite.sql("CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c"
             " WHERE x < %d) INSERT INTO %s SELECT x, 'v' || x FROM c"
             % (table, n, table))


def store_rows(st, sql, args=()):
    db = sqlite3.connect(st)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


# ---- #10.20: the counters after a batch that did not commit ---------------

def test_written_counts_only_committed_batches(tmp_path, lite):
    new = lite_pair(tmp_path, lite)
    fill(lite, 50)
    new.sql("CREATE TABLE tgt (id INTEGER PRIMARY KEY, v TEXT)")
    # the third batch cannot commit (as on a full disk): its checkpoint is
    # refused inside the batch's transaction
    new.sql("CREATE TABLE golive_checkpoint (job VARCHAR(200) NOT NULL"
            " PRIMARY KEY, token VARCHAR(64) NOT NULL, batch BIGINT NOT NULL,"
            " last_key TEXT, watermark TEXT, rows_read BIGINT NOT NULL,"
            " rows_written BIGINT NOT NULL, rows_rejected BIGINT NOT NULL,"
            " bytes BIGINT NOT NULL, done INTEGER NOT NULL,"
            " updated_at VARCHAR(40) NOT NULL);"
            "CREATE TRIGGER full BEFORE INSERT ON golive_checkpoint"
            " WHEN NEW.batch >= 3 BEGIN SELECT RAISE(ABORT, 'disk is full');"
            " END")
    p = plan(tmp_path, lite, new, mode_job("append"))
    assert golive("run", "start", p).rc == 0
    res = sync(p, "--batch-size", "10", expect=2)["j"]
    assert res["outcome"] == "failed" and "disk is full" in res["error"]
    assert rows(new, "SELECT count(*) AS n FROM tgt") == [{"n": 20}]
    assert (res["read"], res["written"], res["rejected"]) == (20, 20, 0)
    assert store_rows(tmp_path / "golive.state",
                      "SELECT rows_read, rows_written FROM sync_runs") == \
        [(20, 20)]

/*
 * readfloor.c - the floor for bench/diff.sh: read every row of a query
 * with the engine's own C API and do nothing with it but count bytes.
 *   readfloor sqlite PATH SQL
 *   readfloor pg CONNINFO TABLE          (COPY TO STDOUT, the fastest)
 *   readfloor mysql HOST PORT USER DB SQL   (password from MYSQL_PWD)
 */
#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    unsigned long long rows = 0, bytes = 0;

    if (argc >= 4 && !strcmp(argv[1], "sqlite")) {
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) ||
            sqlite3_prepare_v2(db, argv[3], -1, &st, NULL))
            return 2;
        while (sqlite3_step(st) == SQLITE_ROW) {
            int i, n = sqlite3_column_count(st);
            for (i = 0; i < n; i++) {
                sqlite3_column_text(st, i);
                bytes += (unsigned)sqlite3_column_bytes(st, i);
            }
            rows++;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    } else if (argc >= 4 && !strcmp(argv[1], "pg")) {
        PGconn *c = PQconnectdb(argv[2]);
        char q[512], *buf;
        int n;
        PGresult *r;
        if (PQstatus(c) != CONNECTION_OK)
            return 2;
        snprintf(q, sizeof(q), "COPY %s TO STDOUT", argv[3]);
        r = PQexec(c, q);
        if (PQresultStatus(r) != PGRES_COPY_OUT)
            return 2;
        PQclear(r);
        while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
            bytes += (unsigned)n;
            rows++;
            PQfreemem(buf);
        }
        PQclear(PQgetResult(c));
        PQfinish(c);
    } else if (argc >= 7 && !strcmp(argv[1], "mysql")) {
        MYSQL *m = mysql_init(NULL);
        MYSQL_RES *res;
        MYSQL_ROW row;
        if (!mysql_real_connect(m, argv[2], argv[4], getenv("MYSQL_PWD"),
                                argv[5], (unsigned)atoi(argv[3]), NULL, 0) ||
            mysql_query(m, argv[6]) || !(res = mysql_use_result(m)))
            return 2;
        while ((row = mysql_fetch_row(res)) != NULL) {
            unsigned long *len = mysql_fetch_lengths(res);
            unsigned i;
            for (i = 0; i < mysql_num_fields(res); i++)
                bytes += len[i];
            rows++;
        }
        mysql_free_result(res);
        mysql_close(m);
    } else {
        fprintf(stderr, "usage: see the comment at the top\n");
        return 2;
    }
    printf("%llu rows, %llu bytes\n", rows, bytes);
    return 0;
}

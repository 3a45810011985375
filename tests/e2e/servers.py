"""Real database servers for the tests: one PostgreSQL and one MariaDB per
test session, each in a temporary folder, listening on 127.0.0.1 only,
stopped and removed afterwards.  Never a mock, never another address."""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _as_user(user, argv):
    """Run argv as user when we are root (initdb and mariadbd refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", user, "--"] + argv
    return argv


def _run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s\n%s" % (argv[0], p.returncode,
                                                       p.stdout, p.stderr))
    return p


class Postgres:
    """PostgreSQL 15 from Debian, initdb'd as the postgres user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="golive-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.log = os.path.join(self.dir, "server.log")
        self.user = "golive"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        _run(_as_user("postgres", [
            PG_BIN + "/initdb", "-D", self.data, "-U", self.user,
            "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]))
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = off\nsynchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "log_statement = 'all'\n"
                    "log_destination = 'stderr'\n" % (self.port, self.dir))
        _run(_as_user("postgres", [
            PG_BIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-w",
            "-t", "60", "start"]))

    def url(self, db="postgres"):
        return "postgres://%s@127.0.0.1:%d/%s" % (self.user, self.port, db)

    def psql(self, sql, db="postgres"):
        """Run SQL with psql; returns its output (unaligned, tuples only)."""
        return _run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                     "-h", "127.0.0.1", "-p", str(self.port), "-U",
                     self.user, "-d", db, "-c", sql]).stdout

    def create_db(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s"' % name)
        self.psql('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def stop(self):
        subprocess.run(_as_user("postgres", [
            PG_BIN + "/pg_ctl", "-D", self.data, "-m", "immediate", "-w",
            "stop"]), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class MariaDB:
    """MariaDB from Debian, in its own datadir, TCP on 127.0.0.1."""

    PASSWORD = "golive-test-pw"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="golive-my-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("mysql")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            user = ["--user=mysql"]
        _run(["mariadb-install-db", "--no-defaults", "--datadir=" + self.data,
              "--auth-root-authentication-method=normal",
              "--skip-test-db"] + user)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--datadir=" + self.data,
             "--socket=" + self.sock, "--port=%d" % self.port,
             "--bind-address=127.0.0.1", "--skip-name-resolve",
             "--skip-log-bin", "--innodb-buffer-pool-size=128M",
             "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
             "--character-set-server=utf8mb4",
             "--pid-file=" + os.path.join(self.dir, "mysqld.pid")] + user,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            p = subprocess.run(["mariadb-admin", "--no-defaults", "-S",
                                self.sock, "-u", "root", "ping"],
                               capture_output=True)
            if p.returncode == 0:
                break
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("mariadbd did not start: see %s" %
                                   self.log.name)
            time.sleep(0.2)
        self.sql("CREATE USER 'golive'@'127.0.0.1' IDENTIFIED BY '%s';"
                 "GRANT ALL ON *.* TO 'golive'@'127.0.0.1';" % self.PASSWORD)

    def url(self, db):
        return "mysql://golive@127.0.0.1:%d/%s" % (self.port, db)

    def env(self):
        """What golive needs in its environment: the password."""
        return {"MYSQL_PWD": self.PASSWORD}

    def sql(self, sql, db=None):
        argv = ["mariadb", "--no-defaults", "-S", self.sock, "-u", "root",
                "-N", "-B"]
        if db:
            argv += ["-D", db]
        return _run(argv + ["-e", sql]).stdout

    def create_db(self, name):
        self.sql("DROP DATABASE IF EXISTS `%s`; CREATE DATABASE `%s`" %
                 (name, name))
        return self.url(name)

    def stop(self):
        subprocess.run(["mariadb-admin", "--no-defaults", "-S", self.sock,
                        "-u", "root", "shutdown"], capture_output=True)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

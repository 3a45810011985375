/*
 * cmd-login.c - `golive login URL`, `golive logout`: keep a server's token
 * for the run commands' --server (src/client.h), in the XDG config folder,
 * readable by its owner only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "cmd.h"

/* mkdir -p of the folders of path (the file itself not), each 0700. */
static int make_dirs(const char *path)
{
    char d[4200], *p;

    snprintf(d, sizeof(d), "%s", path);
    if (!(p = strrchr(d, '/')))
        return 0;
    *p = '\0';
    for (p = d + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(d, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(d, 0700) && errno != EEXIST)
        return -1;
    return chmod(d, 0700);
}

/* The token from the terminal without echo, or a line of stdin. */
static int read_token(char *buf, size_t n)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), ok;
    size_t l;

    if (tty) {
        fprintf(stderr, "token: ");
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old))
            return -1;
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    ok = fgets(buf, (int)n, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r' || buf[l - 1] == ' '))
        buf[--l] = '\0';
    return l ? 0 : -1;
}

/* Write {url, token} to path: a fresh file of mode 0600 renamed over. */
static int store(const char *path, const char *url, const char *token)
{
    char tmp[4300];
    json_t *j = json_pack("{s:s, s:s}", "url", url, "token", token);
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    size_t len = text ? strlen(text) : 0;
    int fd, rc = -1;

    json_decref(j);
    if (!text)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
            !fsync(fd) && !fchmod(fd, 0600))
            rc = 0;
        if (close(fd))
            rc = -1;
        if (!rc && rename(tmp, path))
            rc = -1;
        if (rc)
            unlink(tmp);
    }
    memset(text, 0, len);
    free(text);
    return rc;
}

static int login_run(int argc, char **argv)
{
    char path[4200], token[600];
    struct client c;
    json_t *me = NULL;
    int rc;
    struct po_option opts[] = {
        OPT_ARGS(1, 1, "the server's URL"),
    };

    if ((rc = cli_parse(&cmd_login, opts, argc, argv)) >= 0)
        return rc;
    if (client_credentials_path(path, sizeof(path))) {
        cli_error("cannot tell where to keep the token: set HOME or "
                  "XDG_CONFIG_HOME");
        return EXIT_ERROR;
    }
    if (read_token(token, sizeof(token))) {
        cli_error("no token given (paste the one 'golive token issue' "
                  "printed)");
        return EXIT_ERROR;
    }
    /* checked before it is kept: GOLIVE_TOKEN is the one read here */
    setenv("GOLIVE_TOKEN", token, 1);
    rc = client_open(&c, argv[optind], NULL);
    if (!rc)
        rc = client_call(&c, "GET", "/me", NULL, &me);
    unsetenv("GOLIVE_TOKEN");
    if (!rc && make_dirs(path)) {
        cli_error("cannot create the folder of '%s': %s", path,
                  strerror(errno));
        rc = EXIT_ERROR;
    } else if (!rc && store(path, c.url, token)) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        rc = EXIT_ERROR;
    }
    if (!rc)
        printf("signed in to %s as %s%s; the token is kept in %s\n", c.url,
               json_string_value(json_object_get(me, "person")),
               json_is_true(json_object_get(me, "viewer")) ? " (a viewer)" : "",
               path);
    memset(token, 0, sizeof(token));
    json_decref(me);
    client_close(&c);
    return rc;
}

static int logout_run(int argc, char **argv)
{
    char path[4200];
    int rc;
    struct po_option opts[] = {
        OPT_END(),
    };

    if ((rc = cli_parse(&cmd_logout, opts, argc, argv)) >= 0)
        return rc;
    if (client_credentials_path(path, sizeof(path))) {
        cli_error("cannot tell where the token is kept: set HOME or "
                  "XDG_CONFIG_HOME");
        return EXIT_ERROR;
    }
    if (unlink(path)) {
        if (errno != ENOENT) {
            cli_error("cannot remove '%s': %s", path, strerror(errno));
            return EXIT_ERROR;
        }
        printf("not signed in: no %s\n", path);
        return EXIT_OK;
    }
    printf("signed out: %s removed\n", path);
    return EXIT_OK;
}

const struct gl_cmd cmd_login = {
    "login",
    "sign in to a golive server: keep its token for --server",
    "usage: golive login URL\n"
    "\n"
    "Ask for a token ('golive token issue' printed it; read without echo\n"
    "from the terminal, or a line of stdin when it is not one), check it\n"
    "with the server at URL (GET /api/v1/me) and keep URL and token in\n"
    "$XDG_CONFIG_HOME/golive/credentials (else\n"
    "~/.config/golive/credentials), mode 0600 in a folder of mode 0700.\n"
    "Then run commands given --server URL (or GOLIVE_SERVER=URL) work\n"
    "through that server as the token's person, without GOLIVE_TOKEN.\n"
    "One server is kept at a time; a new login replaces it.\n"
    "\n",
    "exit: 0 signed in, 2 no token, the server cannot be reached or the\n"
    "      file cannot be written, 3 the server refused the token\n",
    login_run,
};

const struct gl_cmd cmd_logout = {
    "logout",
    "forget the token 'golive login' kept",
    "usage: golive logout\n"
    "\n"
    "Remove the credentials file 'golive login' wrote.  The token itself\n"
    "stays valid until the lead revokes it ('golive token revoke').\n"
    "\n",
    "exit: 0 removed (or there was none), 2 it cannot be removed\n",
    logout_run,
};

/*
 * task-exec.h - executing a task's run: (sync JOB..., check CHECK...,
 * shell CMD) once `golive task start` has made it running.
 */
#ifndef GOLIVE_CLI_TASK_EXEC_H
#define GOLIVE_CLI_TASK_EXEC_H

#include "cli.h"

/* Run task t of the open run r, started by its owner (sync_opt:
 * "--resume" or "--restart" passed to a sync task's golive sync, or
 * NULL).  The command's
 * output goes to golive-output/TASK-N.log beside the store; a supervisor
 * (this process, or with detach one of its own in the background) waits
 * for it, kills it at the task's timeout, and reports the task done (exit
 * 0) or failed (with the exit status and the output's last line) as its
 * owner.  Returns EXIT_OK when the task is done or was detached, EXIT_NO
 * when it failed, EXIT_ERROR when it could not be started. */
int task_exec(struct cli_run *r, const struct gl_task *t, int detach, int json,
              const char *sync_opt);

/* The background supervisor (`golive task _supervise ID --output FILE`,
 * started by task_exec with detach in a fresh process): r is opened as
 * the task's owner. */
int task_supervise(struct cli_run *r, const struct gl_task *t,
                   const char *out_path, const char *sync_opt);

/* Whether sync_opt ("--resume", "--restart") applies to task t: a usage
 * error is printed and EXIT_ERROR returned when it does not. */
int task_sync_opt_check(const struct gl_task *t, const char *sync_opt);

#endif

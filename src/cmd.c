/*
 * cmd.c - the one table of commands (see cmd.h for how to add one).
 */
#include "cmd.h"

#include <stddef.h>

const struct gl_cmd *const cmd_table[] = {
    &cmd_validate, &cmd_sync,   &cmd_check,    &cmd_diff,   &cmd_flow,
    &cmd_scenario, &cmd_run,    &cmd_task,     &cmd_defect, &cmd_status,
    &cmd_gate,     &cmd_decide, &cmd_rollback, &cmd_shift,  &cmd_handover,
    &cmd_duty,     &cmd_patch,  &cmd_report,   &cmd_audit,  &cmd_store,
    &cmd_serve,    &cmd_token,  &cmd_login,    &cmd_logout, &cmd_demo,
    &cmd_db,       NULL,
};

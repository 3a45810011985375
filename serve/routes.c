/*
 * routes.c - the one route table: every api-*.c's, in order.  A new
 * file of routes adds its table here.
 */
#include "serve/serve.h"

/* one table a line (clang-format would pack them in columns) */
/* clang-format off */
const struct sv_route *const sv_route_tables[] = {
    sv_routes_base,
    sv_routes_session,
    sv_routes_read,
    sv_routes_stream,
    sv_routes_defect,
    sv_routes_duty,
    sv_routes_decide,
    sv_routes_task,
    sv_routes_scenario,
    sv_routes_crew,
    sv_routes_web,
    NULL,
};
/* clang-format on */

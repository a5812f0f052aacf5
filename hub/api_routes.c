/*
 * api_routes.c - the list of route tables (api.h). To add routes, define
 * `const struct api_route api_<area>_routes[]` in your own file and add one
 * line here; earlier tables win on overlapping paths.
 */
#include "api.h"

extern const struct api_route api_core_routes[];
extern const struct api_route api_hl7v2_routes[];
extern const struct api_route api_events_routes[];
extern const struct api_route api_subs_routes[];
extern const struct api_route api_docs_routes[];

const struct api_route *const api_route_tables[] = {
    api_core_routes,
    api_hl7v2_routes,
    api_events_routes,
    api_subs_routes,
    api_docs_routes,
    NULL,
};

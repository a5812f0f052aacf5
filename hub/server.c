/*
 * server.c - small shared helpers of struct server.
 */
#include "server.h"

#include <stdio.h>

void server_report_port(struct server *srv, const char *name, int port)
{
    size_t room = sizeof(srv->ports) - srv->ports_len;
    int n = snprintf(srv->ports + srv->ports_len, room, "%s=%d\n", name,
                     port);
    if (n > 0 && (size_t)n < room)
        srv->ports_len += (size_t)n;
}

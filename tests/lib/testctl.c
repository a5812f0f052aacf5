/*
 * testctl.c - see testctl.h.
 */
#include "testctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "testdb.h"

int testctl_run(const char *env, const char *args, const char *err,
                char *out, size_t size)
{
    char cmd[4096];
    const char *b = getenv("HUB_BUILD");
    size_t n = 0, got;
    char sink[512];

    if (b && b[0] == '/')
        snprintf(cmd, sizeof(cmd), "%s '%s/hubctl' %s 2>%s", env ? env : "",
                 b, args, err);
    else
        snprintf(cmd, sizeof(cmd), "%s '%s/%s/hubctl' %s 2>%s",
                 env ? env : "", testdb_root(), b && *b ? b : "build", args,
                 err);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    if (out && size) {
        n = fread(out, 1, size - 1, p);
        out[n] = '\0';
    }
    while ((got = fread(sink, 1, sizeof(sink), p)) > 0)
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

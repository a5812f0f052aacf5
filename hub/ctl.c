/*
 * ctl.c - the hubctl framework: connecting from DATABASE_URL and splitting
 * arguments. The commands themselves live in hub/ctl_*.c, listed in
 * hub/ctl_commands.h.
 */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "config.h"
#include "store.h"

struct store *ctl_store(struct ctl *c)
{
    const char *url = getenv("DATABASE_URL");

    if (c->s)
        return c->s;
    if (url == NULL || *url == '\0') {
        fputs("hubctl: DATABASE_URL is not set\n"
              "  for the private development database:\n"
              "    deploy/devdb.sh start && "
              "export DATABASE_URL=$(deploy/devdb.sh url)\n", stderr);
        return NULL;
    }
    char why[1024];
    if (store_connect_why(url, &c->s, why, sizeof(why)) != HUB_OK) {
        /* the URL is not printed: it may hold a password; libpq's reason
         * (a server down, a database or role that does not exist, a
         * password refused) names neither */
        fputs("hubctl: cannot connect to the database named by "
              "DATABASE_URL:\n", stderr);
        for (char *l = why, *e; *l; l = e) {
            l += strspn(l, " \t");
            e = l + strcspn(l, "\n");
            if (e > l)
                fprintf(stderr, "  %.*s\n", (int)(e - l), l);
            e += *e == '\n';
        }
        fputs("  the private development database: deploy/devdb.sh start "
              "&& export DATABASE_URL=$(deploy/devdb.sh url)\n"
              "  (with the HUB_PG_PORT of make run, if it had one)\n",
              stderr);
        return NULL;
    }
    /* each command says in its own words what the database refused */
    store_quiet_refusals(c->s, true);
    return c->s;
}

int ctl_usage_error(struct ctl *c)
{
    fprintf(stderr, "usage: hubctl %s\n", c->usage ? c->usage : "help");
    return 2;
}

int ctl_config(const struct ctl_args *a, struct hub_config *cfg)
{
    char err[512];
    const char *path = ctl_opt(a, "config");

    if (path == NULL)
        path = getenv("HUB_CONFIG");
    if (config_load(cfg, path, err, sizeof(err)) != HUB_OK) {
        fprintf(stderr, "hubctl: %s\n", err);
        return 2;
    }
    return 0;
}

int ctl_fail(const char *what, int code)
{
    fprintf(stderr, "hubctl: %s (%s)\n", what, hub_strerror(code));
    return 1;
}

/* `name` (length n) in the comma-separated `list`? */
static bool in_list(const char *list, const char *name, size_t n)
{
    const char *p = list;

    if (list == NULL)
        return false;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Whether `arg` is an option of the command ("--json", "--org=x"): no
 * value of the option before it. "sub list --org --json" listed an
 * organization named "--json" (F3227). */
static bool names_option(const char *arg, const char *known,
                         const char *flags)
{
    if (strncmp(arg, "--", 2) != 0)
        return false;
    size_t n = strcspn(arg + 2, "=");
    return in_list(known, arg + 2, n) || in_list(flags, arg + 2, n);
}

int ctl_parse(struct ctl *c, int argc, char **argv, const char *known,
              const char *flags, struct ctl_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (a->npos == CTL_MAX_ARGS)
                return ctl_usage_error(c);
            a->pos[a->npos++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        if (a->nopt == CTL_MAX_ARGS ||
            (known && !in_list(known, name, n) && !in_list(flags, name, n))) {
            fprintf(stderr, "hubctl: unknown option --%.*s\n", (int)n, name);
            return ctl_usage_error(c);
        }
        a->name[a->nopt] = name;
        if (in_list(flags, name, n) && eq) {
            /* --paused=false made a paused subscription: a flag's value
             * was never read (F3131) */
            fprintf(stderr, "hubctl: option --%.*s takes no value\n",
                    (int)n, name);
            return ctl_usage_error(c);
        }
        if (in_list(flags, name, n)) {
            a->val[a->nopt] = "1";
        } else if (eq) {
            a->val[a->nopt] = eq + 1;
        } else if (i + 1 < argc && !names_option(argv[i + 1], known, flags)) {
            a->val[a->nopt] = argv[++i];
        } else {
            fprintf(stderr, "hubctl: option --%s needs a value\n", name);
            return ctl_usage_error(c);
        }
        a->nopt++;
    }
    return 0;
}

const char *ctl_opt(const struct ctl_args *a, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;

    for (int i = 0; i < a->nopt; i++)          /* the last one wins */
        if (strncmp(a->name[i], name, n) == 0 &&
            (a->name[i][n] == '\0' || a->name[i][n] == '='))
            found = a->val[i];
    return found;
}

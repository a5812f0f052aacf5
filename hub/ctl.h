/*
 * ctl.h - the hubctl command framework.
 *
 * Every command is one line of hub/ctl_commands.h:
 *     CTL_COMMAND("sub", "add", ctl_sub_add, "sub add --org ORG --url URL ...")
 * and its function lives in its owner's file (hub/ctl_core.c, hub/ctl_subs.c,
 * hub/ctl_dict.c, ...), with this signature:
 *     int ctl_sub_add(struct ctl *c, int argc, char **argv);
 * argv holds only what follows the command words ("sub add"), argv[argc] is
 * NULL. The return value is the exit status: 0 success, 1 failure (or a
 * problem found, as `audit verify` reports), 2 usage error.
 * Output for people goes to stdout; errors to stderr, worded like git's
 * ("hubctl: cannot ..."), never with personal data.
 */
#ifndef HUB_CTL_H
#define HUB_CTL_H

#include <stdbool.h>

struct store;
struct hub_config;

struct ctl {
    const char *usage;              /* the running command's usage line */
    struct store *s;                /* set by ctl_store() on first use */
};

/*
 * The database, connected on first use from DATABASE_URL. On failure
 * prints why (unset: how to get one) and returns NULL; the command then
 * returns 1.
 */
struct store *ctl_store(struct ctl *c);

#define CTL_MAX_ARGS 1024           /* a shell glob of sample files */

/* argv split into positionals and --name VALUE / --name=VALUE options.
 * Names listed in `flags` ("json,force") take no value and read as "1". */
struct ctl_args {
    int npos;
    const char *pos[CTL_MAX_ARGS];
    int nopt;
    const char *name[CTL_MAX_ARGS];
    const char *val[CTL_MAX_ARGS];
};

/* 0, or prints the usage and returns 2 (an option without its value, too
 * many arguments, an option not in `known` when known is not NULL). */
int ctl_parse(struct ctl *c, int argc, char **argv, const char *known,
              const char *flags, struct ctl_args *a);
/* The value of --name (without the dashes), or NULL. */
const char *ctl_opt(const struct ctl_args *a, const char *name);
/* Print "usage: hubctl <usage>" to stderr and return 2. */
int ctl_usage_error(struct ctl *c);
/* Print "hubctl: <what> (<the error code's text>)" to stderr and return 1. */
int ctl_fail(const char *what, int code);
/* The configuration of --config FILE, else of $HUB_CONFIG, else the
 * defaults: 0, or prints why not and returns 2 (a usage error: the file
 * named is wrong). */
int ctl_config(const struct ctl_args *a, struct hub_config *cfg);

#endif

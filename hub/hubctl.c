/*
 * hubctl.c - the admin and operator CLI: finds the command in the table that
 * hub/ctl_commands.h builds (one line per command) and runs it.
 *   hubctl GROUP [SUB] [ARGS...]     hubctl help [GROUP]
 *   hubctl GROUP [SUB] --help        that command's usage (also -h)
 * Exit status: the command's (0 ok, 1 failed, 2 usage).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "store.h"

#define CTL_COMMAND(group, sub, fn, usage) \
    int fn(struct ctl *c, int argc, char **argv);
#include "ctl_commands.h"
#undef CTL_COMMAND

struct ctl_command {
    const char *group;
    const char *sub;                /* NULL: a one-word command */
    int (*run)(struct ctl *c, int argc, char **argv);
    const char *usage;
};

static const struct ctl_command commands[] = {
#define CTL_COMMAND(group, sub, fn, usage) { group, sub, fn, usage },
#include "ctl_commands.h"
#undef CTL_COMMAND
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int help(FILE *out, const char *group)
{
    fputs("usage: hubctl COMMAND [ARGS]   (DATABASE_URL names the database)\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (group == NULL || strcmp(commands[i].group, group) == 0)
            fprintf(out, "  hubctl %s\n", commands[i].usage);
    return out == stdout ? 0 : 2;
}

/* true when some command belongs to `group` */
static bool known_group(const char *group)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0)
            return true;
    return false;
}

/* --help or -h among a command's own arguments */
static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* the usage a person asked for: on stdout, exit 0 */
static int run(const struct ctl_command *k, struct ctl *c, int argc,
               char **argv)
{
    int rc;

    if (wants_help(argc, argv)) {
        printf("usage: hubctl %s\n", k->usage);
        return 0;
    }
    c->usage = k->usage;
    rc = k->run(c, argc, argv);
    store_free(c->s);
    return rc;
}

int main(int argc, char **argv)
{
    struct ctl c = { 0 };

    log_set_level(LOG_WARN);        /* people read stdout; logs stay quiet */
    if (argc < 2)
        return help(stderr, NULL);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        /* a misspelt group listed no command and exited 0 (F3123) */
        if (argc > 2 && !known_group(argv[2])) {
            fprintf(stderr, "hubctl: unknown command '%s'\n", argv[2]);
            return help(stderr, NULL);
        }
        return help(stdout, argc > 2 ? argv[2] : NULL);
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct ctl_command *k = &commands[i];
        if (strcmp(k->group, argv[1]) != 0)
            continue;
        if (k->sub == NULL)
            return run(k, &c, argc - 2, argv + 2);
        if (argc > 2 && strcmp(k->sub, argv[2]) == 0)
            return run(k, &c, argc - 3, argv + 3);
    }
    if (known_group(argv[1])) {
        if (wants_help(argc - 2, argv + 2))
            return help(stdout, argv[1]);
        /* a misspelt command of a known group was answered with the
         * group's usage and no word of why (F3123) */
        if (argc > 2)
            fprintf(stderr, "hubctl: unknown command '%s %s'\n", argv[1],
                    argv[2]);
        return help(stderr, argv[1]);
    }
    fprintf(stderr, "hubctl: unknown command '%s'\n", argv[1]);
    return help(stderr, NULL);
}

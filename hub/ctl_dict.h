/*
 * ctl_dict.h - `hubctl dict check [DIR]` and `hubctl dict show [DIR]`.
 * check: load and validate the data dictionary, print a one-line summary,
 * or the file, JSON path and reason of the first problem (exit status 1).
 * show: print every table in plain text, one row per line.
 */
#ifndef HUB_CTL_DICT_H
#define HUB_CTL_DICT_H

#include <stdio.h>

/* argv[0] is "dict"; returns the process exit status (0, 1, or 2 for usage). */
int ctl_dict(int argc, char **argv, FILE *out, FILE *errout);

struct ctl;
/* The hubctl table entries (hub/ctl_commands.h): argv is what follows
 * "dict check" / "dict show", i.e. at most the directory. */
int ctl_dict_check(struct ctl *c, int argc, char **argv);
int ctl_dict_show(struct ctl *c, int argc, char **argv);

#endif

/*
 * ctl_prune.c - `hubctl prune [--dry-run] [--config FILE]`: one run of the
 * retention (hub/prune.h) with hubd's settings (FILE, else $HUB_CONFIG,
 * then HUB_<KEY>), printing what it removed, or would remove, per table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/hub_err.h"
#include "config.h"
#include "ctl.h"
#include "prune.h"

int ctl_prune(struct ctl *c, int argc, char **argv);

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

int ctl_prune(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    struct hub_config cfg;
    struct prune_config pc;
    struct prune_report r;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "config", "dry-run", &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    if ((rc = ctl_config(&a, &cfg)) != 0)
        return rc;
    prune_config_from(&pc, &cfg);
    pc.actor = "hubctl";
    bool dry = ctl_opt(&a, "dry-run") != NULL;
    if (ctl_store(c) == NULL)
        return 1;
    if ((rc = prune_run(c->s, &pc, dry, &r)) != HUB_OK) {
        fprintf(stderr, "hubctl: the prune failed (%s); what went before "
                "stays pruned\n", hub_strerror(rc));
        return 1;
    }
    if (r.busy) {
        fputs("hubctl: another prune is running (a hubd or hubctl); "
              "nothing done\n", stderr);
        return 1;
    }
    printf("prune: %s, batches of %d row%s\n",
           dry ? "dry run, nothing removed" : "done", pc.batch,
           plural(pc.batch));
    for (int t = 0; t < PRUNE_NTABLES; t++) {
        const char *name = prune_table_name((enum prune_table)t);
        if (pc.days[t] == 0) {
            printf("%-10s kept forever\n", name);
        } else if (r.rows[t] == 0) {
            /* the run's empty step is no batch */
            printf("%-10s none older than %d day%s\n", name, pc.days[t],
                   plural(pc.days[t]));
        } else {
            printf("%-10s %lld row%s %s (older than %d day%s, %lld batch%s)\n",
                   name, (long long)r.rows[t], plural(r.rows[t]),
                   dry ? "would go" : "removed", pc.days[t],
                   plural(pc.days[t]), (long long)r.batches[t],
                   r.batches[t] == 1 ? "" : "es");
        }
    }
    printf("audit anchor: %lld\n", (long long)r.anchor_seq);
    return 0;
}

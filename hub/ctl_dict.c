/*
 * ctl_dict.c - the `hubctl dict` commands. Reads only the dictionary files,
 * which hold code tables and no personal data, so printing them is safe.
 */
#include "ctl_dict.h"

#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"

static void usage(FILE *errout)
{
    fputs("usage: hubctl dict check [DIR]\n"
          "       hubctl dict show [DIR]\n"
          "DIR defaults to $HUB_DICT_DIR, else " DICT_DEFAULT_DIR "\n",
          errout);
}

static size_t count_items(const struct dict *d)
{
    size_t n = 0;
    for (size_t i = 0; i < dict_instrument_count(d); i++)
        n += dict_instrument_at(d, i)->n_items;
    return n;
}

/* "<lead> a, b\n": the other codes or words the dictionary reads as this
 * entry, so that an operator can see why a sender's word was taken */
static void print_aliases(FILE *out, const char *lead,
                          const char *const *aliases, size_t n)
{
    for (size_t k = 0; k < n; k++)
        fprintf(out, "%s %s", k == 0 ? lead : ",", aliases[k]);
    if (n)
        fputc('\n', out);
}

static void show(const struct dict *d, FILE *out)
{
    fprintf(out, "# Gravity SDOH Clinical Care IG %s\n", dict_ig_version(d));
    fprintf(out, "\n## domains (%zu)\n", dict_domain_count(d));
    for (size_t i = 0; i < dict_domain_count(d); i++) {
        const struct dict_domain *dm = dict_domain_at(d, i);
        fprintf(out, "%-34s %s\n", dm->code, dm->display);
        print_aliases(out, "  also", dm->aliases, dm->n_aliases);
    }
    for (size_t i = 0; dict_domain_ambiguous_at(d, i); i++)
        fprintf(out, "ambiguous: %s\n", dict_domain_ambiguous_at(d, i)->why);
    fprintf(out, "\n## instruments (%zu)\n", dict_instrument_count(d));
    for (size_t i = 0; i < dict_instrument_count(d); i++) {
        const struct dict_instrument *in = dict_instrument_at(d, i);
        fprintf(out, "\n%s  %s  (%s)\n", in->code, in->name, in->system);
        print_aliases(out, "  also", in->aliases, in->n_aliases);
        for (size_t j = 0; j < in->n_items; j++) {
            const struct dict_item *it = &in->items[j];
            fprintf(out, "  item %-10s %-28s%s%s%s\n", it->question,
                    it->domain, it->multi ? " multi" : "",
                    it->label ? " label=" : "", it->label ? it->label : "");
            for (size_t k = 0; k < it->n_answers; k++) {
                const struct dict_answer *a = &it->answers[k];
                fprintf(out, "    %-11s %-9s", a->code,
                        a->positive ? "POSITIVE" : a->declined ? "declined"
                                                               : "-");
                if (a->has_value)
                    fprintf(out, " value=%lld", (long long)a->value);
                if (a->domain)
                    fprintf(out, " domain=%s", a->domain);
                fprintf(out, "  %s\n", a->display ? a->display : "");
            }
        }
        for (size_t j = 0; j < in->n_sums; j++) {
            const struct dict_sum *s = &in->sums[j];
            fprintf(out, "  sum  %-10s %-28s positive at >= %lld of", s->code,
                    s->domain, (long long)s->positive_at);
            for (size_t k = 0; k < s->n_items; k++)
                fprintf(out, " %s", s->items[k]);
            fprintf(out, "%s%s\n", s->require_all ? " (all required)" : "",
                    s->borrowed ? " (borrowed: within the instrument only)"
                                : "");
        }
        for (size_t j = 0; j < in->n_derived; j++) {
            const struct dict_derived *dv = &in->derived[j];
            fprintf(out, "  derived %-7s %-28s %s if any of", dv->code,
                    dv->domain, dv->positive_answer);
            for (size_t k = 0; k < dv->n_items; k++)
                fprintf(out, " %s", dv->items[k]);
            fprintf(out, " is positive, else %s\n", dv->negative_answer);
        }
    }
    static const struct { enum dict_table t; const char *name; } tabs[] = {
        { DICT_T_ZCODES, "ICD-10-CM to domain" },
        { DICT_T_ICD10_LABELS, "ICD-10-CM to sensitivity" },
        { DICT_T_LABELS, "security labels" },
        { DICT_T_SNOMED_LABELS, "SNOMED CT to sensitivity" },
        { DICT_T_LOINC_LABELS, "LOINC questions to sensitivity" },
        { DICT_T_SNOMED_DOMAINS, "SNOMED CT findings to domain" },
        { DICT_T_V2_0717, "HL7 v2 access restrictions (table 0717) to "
                          "sensitivity" },
        { DICT_T_PROC_LABELS, "CPT and HCPCS Level II to sensitivity" },
    };
    for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
        fprintf(out, "\n## %s (%zu)\n", tabs[t].name,
                dict_rows_count(d, tabs[t].t));
        struct dict_row r;
        for (size_t i = 0; dict_rows_at(d, tabs[t].t, i, &r); i++) {
            if (tabs[t].t == DICT_T_LABELS ||
                tabs[t].t == DICT_T_SNOMED_LABELS ||
                tabs[t].t == DICT_T_LOINC_LABELS ||
                tabs[t].t == DICT_T_V2_0717)
                fprintf(out, "%-12s %-10s %s%s\n", r.lo, r.value,
                        r.system ? r.system : "(any system)",
                        r.conditional ? " (some answers only)" : "");
            else if (strcmp(r.lo, r.hi) == 0)
                fprintf(out, "%-12s %s\n", r.lo, r.value);
            else
                fprintf(out, "%s-%-8s %s\n", r.lo, r.hi, r.value);
        }
    }
    fprintf(out, "\n## referral (Task) statuses (%zu)\n",
            dict_task_status_count(d));
    for (size_t i = 0; i < dict_task_status_count(d); i++) {
        const struct dict_task_status *t = dict_task_status_at(d, i);
        fprintf(out, "%-17s %-9s %s", t->code,
                t->terminal ? "terminal" : "-",
                t->referral ? "referral" : "");
        print_aliases(out, "  also", t->aliases, t->n_aliases);
        if (t->n_aliases == 0)
            fputc('\n', out);
    }
}

int ctl_dict(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2 || argc > 3 ||
        (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "show") != 0)) {
        usage(errout);
        return 2;
    }
    /* hubd's dict_dir, as its environment sets it (the container image) */
    const char *env = getenv("HUB_DICT_DIR");
    const char *dir = argc == 3 ? argv[2] : env && *env ? env
                                                         : DICT_DEFAULT_DIR;
    struct dict *d;
    struct dict_err err;
    int rc = dict_files_load(dir, &d, &err);
    if (rc != HUB_OK) {
        fprintf(errout, "dict: %s: %s%s%s (%s)\n", err.file,
                err.path[0] ? err.path : "", err.path[0] ? ": " : "",
                err.what ? err.what : "failed", hub_strerror(rc));
        return 1;
    }
    if (strcmp(argv[1], "check") == 0)
        fprintf(out, "dict: ok: IG %s, %zu domains, %zu instruments, "
                "%zu items, %zu ICD-10 rows, %zu task statuses, "
                "%zu security labels\n",
                dict_ig_version(d), dict_domain_count(d),
                dict_instrument_count(d), count_items(d),
                dict_rows_count(d, DICT_T_ZCODES), dict_task_status_count(d),
                dict_rows_count(d, DICT_T_LABELS));
    else
        show(d, out);
    dict_free(d);
    return 0;
}

static int run_sub(struct ctl *c, const char *sub, int argc, char **argv)
{
    char *v[4] = { "dict", (char *)sub, NULL, NULL };
    if (argc > 1)
        return ctl_usage_error(c);
    if (argc == 1)
        v[2] = argv[0];
    return ctl_dict(argc + 2, v, stdout, stderr);
}

int ctl_dict_check(struct ctl *c, int argc, char **argv)
{
    return run_sub(c, "check", argc, argv);
}

int ctl_dict_show(struct ctl *c, int argc, char **argv)
{
    return run_sub(c, "show", argc, argv);
}

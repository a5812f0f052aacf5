/*
 * fhir_outcome.c - the OperationOutcome the hub answers a FHIR body with:
 * one issue for a refused body, else one per refused entry, per warning
 * and per entry that says why it gave no event, or a single
 * informational issue (see fhir.h).
 */
#include "fhir/fhir.h"

#include <string.h>

#include "common/jw.h"

static const char *issue_code(int code)
{
    switch (code) {
    case HUB_ESYNTAX: return "structure";
    case HUB_ELIMIT: return "too-costly";
    case HUB_EUNSUPPORTED: return "not-supported";
    case HUB_ENOTFOUND: return "not-found";
    case HUB_EINVALID: return "invalid";
    default: return "exception";
    }
}

static void write_issue(struct jw *w, struct arena *a, const struct hub_err *e,
                        const char *resource_type, bool info)
{
    jw_obj_begin(w);
    /* HUB_OK here is a warning on an accepted entry, or with `info` the
     * reason it gave no event */
    jw_kv_cstr(w, "severity", info                ? "information"
                              : e->code == HUB_OK ? "warning"
                                                  : "error");
    jw_kv_cstr(w, "code", info                ? "informational"
                          : e->code == HUB_OK ? "business-rule"
                                              : issue_code(e->code));
    jw_kv_cstr(w, "diagnostics", e->what ? e->what : hub_strerror(e->code));
    if (e->located) {
        /* where in the body the fault is (a JSON syntax error, a limit):
         * FHIR R4's issue has no element for a byte offset */
        jw_key(w, "extension");
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv_cstr(w, "url", FHIR_OFFSET_EXT);
        jw_key(w, "valueInteger");
        jw_int(w, (int64_t)e->offset);
        jw_obj_end(w);
        jw_arr_end(w);
    }
    const char *field = hub_err_field(e);   /* whole, however deep */
    if (field[0] && strcmp(field, "$") != 0) {
        const char *prefix = "";
        if (strncmp(field, "entry[", 6) == 0)
            prefix = "Bundle.";
        else if (resource_type && strncmp(field, resource_type,
                                          strlen(resource_type)) != 0)
            prefix = resource_type;
        size_t pl = strlen(prefix), fl = strlen(field);
        bool dot = pl && prefix[pl - 1] != '.';
        char *buf = arena_alloc(a, pl + dot + fl + 1);
        memcpy(buf, prefix, pl);
        buf[pl] = '.';
        memcpy(buf + pl + dot, field, fl + 1);
        jw_key(w, "expression");
        jw_arr_begin(w);
        jw_str(w, (struct slice){ buf, pl + dot + fl });
        jw_arr_end(w);
    }
    jw_obj_end(w);
}

/* One information issue saying `what`, with no place in the body */
static void write_info(struct jw *w, const char *what)
{
    jw_obj_begin(w);
    jw_kv_cstr(w, "severity", "information");
    jw_kv_cstr(w, "code", "informational");
    jw_kv_cstr(w, "diagnostics", what);
    jw_obj_end(w);
}

int fhir_info_outcome(struct arena *a, const char *what, struct slice *out)
{
    struct jw w;
    jw_init(&w, a, 64 * 1024);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "resourceType", "OperationOutcome");
    jw_key(&w, "issue");
    jw_arr_begin(&w);
    write_info(&w, what);
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

int fhir_operation_outcome(struct arena *a, const struct hub_err *err,
                           const char *resource_type, struct slice *out)
{
    struct jw w;
    jw_init(&w, a, 64 * 1024);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "resourceType", "OperationOutcome");
    jw_key(&w, "issue");
    jw_arr_begin(&w);
    write_issue(&w, a, err, resource_type, false);
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

int fhir_result_outcome(struct arena *a, const struct fhir_result *res,
                        struct slice *out)
{
    struct jw w;
    jw_init(&w, a, 4 * 1024 * 1024);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "resourceType", "OperationOutcome");
    jw_key(&w, "issue");
    jw_arr_begin(&w);
    size_t issues = 0;
    for (size_t i = 0; i < res->n_entries; i++) {
        const struct fhir_entry_result *r = &res->entries[i];
        if (r->status != HUB_OK) {
            write_issue(&w, a, &r->err, NULL, false);
            issues++;
            continue;
        }
        for (size_t k = 0; k < r->n_warnings; k++) {
            struct hub_err e = { .code = HUB_OK, .what = r->warnings[k].what };
            hub_err_set_in(&e, a, HUB_OK, r->warnings[k].field, 0,
                           r->warnings[k].what);
            write_issue(&w, a, &e, res->bundle_type ? NULL
                                                    : res->resource_type,
                        false);
            issues++;
        }
        if (r->note.what) {
            struct hub_err e = { .code = HUB_OK };
            hub_err_set_in(&e, a, HUB_OK, r->note.field, 0, r->note.what);
            write_issue(&w, a, &e, res->bundle_type ? NULL
                                                    : res->resource_type,
                        true);
            issues++;
        }
    }
    if (issues == 0) {
        size_t events = 0;
        for (size_t i = 0; i < res->n_entries; i++)
            events += res->entries[i].n_events;
        /* stored and acknowledged, but a sender may expect an event: say
         * plainly that none was made and why that is not an error */
        write_info(&w, events ? "all entries accepted"
                              : "accepted with no event: the message holds "
                                "only context (Patient, Organization, ...) "
                                "or nothing the hub routes");
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}

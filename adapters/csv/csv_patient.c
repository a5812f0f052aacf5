/*
 * csv_patient.c - the patient block every CSV layout writes into its
 * events: identifiers (national systems by their URI, numbers never
 * issued marked inactive), names, birth date, sex, address and phone.
 */
#include "common/idsys.h"
#include "common/natid.h"
#include "common/postal.h"
#include "common/ssn.h"
#include "csv/csv_int.h"

/* A string element of an array, looked at once; the members take their
 * keys as chunks made at compile time (jw_kv), not measured each time. */
static void put_str(struct jw *w, struct slice s)
{
    jw_str_text(w, s, jw_plain(s));
}

void csv_write_patient(struct jw *w, const struct csv_patient *p)
{
    jw_key_chunk(w, JW_KEY("patient"));
    jw_obj_begin(w);
    if (p->n_ids) {
        jw_key_chunk(w, JW_KEY("identifiers"));
        jw_arr_begin(w);
        for (size_t i = 0; i < p->n_ids; i++) {
            const struct csv_ident *id = &p->ids[i];
            jw_obj_begin(w);
            char ssn[9];
            struct slice sys = id->system ? slice_from_cstr(id->system)
                                          : id->system_s;
            const char *type = id->type;
            /* a national system named by its OID or the SSA's address is
             * written with its URI (and type, when none was given), as
             * every adapter writes it (common/idsys.h) */
            const struct idsys_national *nat =
                sys.len ? idsys_national(sys) : NULL;
            if (nat) {
                sys = slice_from_cstr(nat->uri);
                if (type == NULL)
                    type = nat->type;
            }
            bool is_ssn = slice_eq(sys, SSN_SYSTEM);
            if (is_ssn && ssn_digits(id->value.p, id->value.len, ssn))
                jw_kv(w, JW_KV("value"), (struct slice){ ssn, sizeof(ssn) });
            else
                jw_kv(w, JW_KV("value"), id->value);
            jw_kv(w, JW_KV("system"), sys);
            jw_kv(w, JW_KV("type"), slice_from_cstr(type));
            /* a national number that fails its check digit was never
             * issued, and a placeholder in a Medicaid or other national
             * number is no one's: never linked on (F744, F843; a failed
             * check's warning was given where the row was read) */
            if (!is_ssn &&
                (natid_flaw(sys, slice_from_cstr(type), id->value) ||
                 (natid_national_type(slice_from_cstr(type)) &&
                  natid_placeholder(id->value)))) {
                jw_key(w, "inactive");
                jw_bool(w, true);
            }
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    if (p->family.len || p->given.len) {
        jw_key_chunk(w, JW_KEY("names"));
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv(w, JW_KV("family"), p->family);
        if (p->given.len || p->middle.len) {
            jw_key_chunk(w, JW_KEY("given"));
            jw_arr_begin(w);
            if (p->given.len)
                put_str(w, p->given);
            if (p->middle.len)
                put_str(w, p->middle);
            jw_arr_end(w);
        }
        jw_obj_end(w);
        jw_arr_end(w);
    }
    jw_kv(w, JW_KV("birth_date"), p->birth_date);
    jw_kv(w, JW_KV("sex"), slice_from_cstr(p->sex));
    if (p->line1.len || p->line2.len || p->city.len || p->state.len ||
        p->postal_code.len || p->county.len) {
        jw_key_chunk(w, JW_KEY("addresses"));
        jw_arr_begin(w);
        jw_obj_begin(w);
        if (p->line1.len || p->line2.len) {
            jw_key_chunk(w, JW_KEY("lines"));
            jw_arr_begin(w);
            if (p->line1.len)
                put_str(w, p->line1);
            if (p->line2.len)
                put_str(w, p->line2);
            jw_arr_end(w);
        }
        jw_kv(w, JW_KV("city"), p->city);
        jw_kv(w, JW_KV("state"), p->state);
        jw_kv(w, JW_KV("postal_code"), postal_code(p->postal_code));
        jw_kv(w, JW_KV("county"), p->county);
        jw_obj_end(w);
        jw_arr_end(w);
    }
    if (p->phone.len) {
        jw_key_chunk(w, JW_KEY("phones"));
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv(w, JW_KV("value"), p->phone);
        jw_kv(w, JW_KV("use"), p->phone_use);
        jw_obj_end(w);
        jw_arr_end(w);
    }
    jw_obj_end(w);
}

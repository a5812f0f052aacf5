/*
 * hub_err.h - status codes and the located error every parser fills.
 * `what` is always static text: it can never carry a patient's data. `field`
 * names a place ("PID-7.1", "entry[3].resource.birthDate", "/ClinicalDocument
 * /recordTarget"), never a value.
 */
#ifndef HUB_ERR_H
#define HUB_ERR_H

#include <stdbool.h>
#include <stddef.h>

struct arena;                   /* common/arena.h */

enum hub_status {
    HUB_OK = 0,
    HUB_ESYNTAX = -1,       /* input is not well formed */
    HUB_ELIMIT = -2,        /* input exceeds a configured limit */
    HUB_ESHORT = -3,        /* more input is needed */
    HUB_EUNSUPPORTED = -4,  /* well formed, but not something we handle */
    HUB_EINVALID = -5,      /* well formed, but a value is wrong */
    HUB_EDB = -6,           /* the database failed */
    HUB_EBUSY = -7,         /* back-pressure: try again later */
    HUB_EAUTH = -8,         /* not authenticated or not allowed */
    HUB_ENOTFOUND = -9,
    HUB_EIO = -10,          /* a system call failed */
};

struct hub_err {
    enum hub_status code;
    /* where: "PID-7.1", "entry[3].resource", or a C-CDA XPath such as
     * "/ClinicalDocument/component/structuredBody/component[3]/section";
     * 128 so that most such paths fit (longer ones are cut at the end
     * here, and kept whole in long_field) */
    char field[128];
    /* the whole place when `field` could not hold it (an XPath deep in a
     * C-CDA body), in the arena the parser was given, so it lives as long
     * as that does; else NULL. Read the place with hub_err_field(). */
    const char *long_field;
    size_t offset;          /* byte offset into the input */
    /* offset is where in the input the fault is, for the sender to be
     * told (hub_err_set_at: a JSON syntax error or limit); false: offset
     * may be 0 for a fault at no one place (a member missing) */
    bool located;
    const char *what;       /* static: "date is not YYYYMMDD" */
};

/* The place of *err, whole: long_field when set, else field. */
static inline const char *hub_err_field(const struct hub_err *err)
{
    return err->long_field ? err->long_field : err->field;
}

/* Short stable name of a status: "syntax", "limit", ... */
const char *hub_strerror(int code);

/*
 * Fill *err (if not NULL) and return `code`, so that a parser can write
 * `return hub_err_set(err, HUB_ESYNTAX, "PID-7", off, "date is not YYYYMMDD");`.
 * `field` is copied and truncated to fit; `what` must be a string literal.
 */
int hub_err_set(struct hub_err *err, int code, const char *field,
                size_t offset, const char *what);

/*
 * hub_err_set, and err->located: `offset` is the place of the fault in the
 * input (the byte a JSON parse stopped at, the first byte past a limit),
 * which the API answers give the sender ("offset"; FHIR: an extension).
 */
int hub_err_set_at(struct hub_err *err, int code, const char *field,
                   size_t offset, const char *what);

/*
 * hub_err_set, and a `field` longer than err->field holds kept whole in
 * long_field, copied into `a` (NULL: cut, as hub_err_set does). Callers
 * bound `field` (a C-CDA XPath: its depth).
 */
int hub_err_set_in(struct hub_err *err, struct arena *a, int code,
                   const char *field, size_t offset, const char *what);

#endif

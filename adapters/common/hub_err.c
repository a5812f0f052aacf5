/*
 * hub_err.c - status names and the error setter shared by every adapter.
 */
#include "common/hub_err.h"

#include <string.h>

#include "common/arena.h"

const char *hub_strerror(int code)
{
    switch (code) {
    case HUB_OK: return "ok";
    case HUB_ESYNTAX: return "syntax";
    case HUB_ELIMIT: return "limit";
    case HUB_ESHORT: return "short";
    case HUB_EUNSUPPORTED: return "unsupported";
    case HUB_EINVALID: return "invalid";
    case HUB_EDB: return "database";
    case HUB_EBUSY: return "busy";
    case HUB_EAUTH: return "auth";
    case HUB_ENOTFOUND: return "not_found";
    case HUB_EIO: return "io";
    }
    return "unknown";
}

int hub_err_set(struct hub_err *err, int code, const char *field,
                size_t offset, const char *what)
{
    if (err) {
        size_t n = field ? strlen(field) : 0;
        if (n >= sizeof(err->field))
            n = sizeof(err->field) - 1;
        err->code = code;
        if (n)
            memcpy(err->field, field, n);
        err->field[n] = '\0';
        err->long_field = NULL;
        err->offset = offset;
        err->located = false;
        err->what = what;
    }
    return code;
}

int hub_err_set_at(struct hub_err *err, int code, const char *field,
                   size_t offset, const char *what)
{
    hub_err_set(err, code, field, offset, what);
    if (err)
        err->located = true;
    return code;
}

int hub_err_set_in(struct hub_err *err, struct arena *a, int code,
                   const char *field, size_t offset, const char *what)
{
    hub_err_set(err, code, field, offset, what);
    if (err && a && field) {
        size_t n = strlen(field);
        if (n >= sizeof(err->field))
            err->long_field = arena_strndup(a, field, n);
    }
    return code;
}

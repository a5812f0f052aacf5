/*
 * echo_name.h - whether a name taken from a request (a query parameter, a
 * JSON member or filter) may be echoed in an error's `field`: 1 to `max`
 * bytes of ASCII letters, digits, '_', '-', '.' and the bytes of `extra`
 * (or NULL), so that an error never quotes other bytes of the request, nor
 * a name cut in two.
 */
#ifndef HUB_ECHO_NAME_H
#define HUB_ECHO_NAME_H

#include <stdbool.h>
#include <string.h>

static inline bool echo_name_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              (extra && strchr(extra, c))))
            return false;
    }
    return true;
}

#endif

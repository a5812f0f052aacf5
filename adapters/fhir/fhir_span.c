/*
 * fhir_span.c - where each Bundle.entry[i] lies in the bytes received, so
 * that a refused entry of a batch can be quarantined as the exact bytes the
 * sender sent (cJSON keeps no offsets). Runs only on input cJSON already
 * accepted as JSON, after the adapter refused some entry; still, every step
 * checks its bounds and a surprise ends the walk with the spans found so
 * far (the caller then keeps the whole body instead).
 */
#include "fhir/fhir_int.h"

#include <string.h>

/* White space as cJSON skips it: every byte up to 0x20, NUL and other
 * controls included (JSON allows four; the spans must follow the parser
 * that accepted the input, not the RFC). */
static bool is_ws(char c)
{
    return (unsigned char)c <= 0x20;
}

static size_t skip_ws(const char *p, size_t len, size_t i)
{
    while (i < len && is_ws(p[i]))
        i++;
    return i;
}

/* p[i] is '"': the index just past the closing quote, or len. */
static size_t skip_string(const char *p, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return len;
}

/* The index just past the value starting at p[i], or len. Nesting is
 * counted, not recursed into: depth was bounded before parsing anyway. */
static size_t skip_value(const char *p, size_t len, size_t i)
{
    size_t depth = 0;
    while (i < len) {
        char c = p[i];
        if (c == '"') {
            i = skip_string(p, len, i);
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;       /* a scalar ended by its container */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || is_ws(c))) {
            return i;           /* end of a number, true, false, null */
        }
        i++;
    }
    return len;
}

size_t fx_entry_spans(const char *p, size_t len, struct slice *out, size_t n)
{
    static const char key[] = "\"entry\"";
    size_t i = skip_ws(p, len, 0), found = 0;

    for (size_t k = 0; k < n; k++)
        out[k] = SLICE_NULL;
    if (i >= len || p[i] != '{')
        return 0;
    i = skip_ws(p, len, i + 1);
    while (i < len && p[i] == '"') {
        size_t kend = skip_string(p, len, i);
        /* an escaped key may mean "entry" to cJSON ("\u0065ntry"), and
         * its first "entry" is the one the adapter read: stop, the spans
         * are unknown (the caller keeps the whole body) */
        if (memchr(p + i + 1, '\\', kend - i - 1) != NULL)
            return found;
        bool is_entry = kend - i == sizeof(key) - 1 &&
                        memcmp(p + i, key, sizeof(key) - 1) == 0;
        i = skip_ws(p, len, kend);
        if (i >= len || p[i] != ':')
            return found;
        i = skip_ws(p, len, i + 1);
        if (is_entry) {
            /* the first "entry" member, as cJSON's lookup takes */
            if (i >= len || p[i] != '[')
                return found;
            i = skip_ws(p, len, i + 1);
            while (i < len && p[i] != ']' && found < n) {
                size_t end = skip_value(p, len, i);
                out[found++] = (struct slice){ p + i, end - i };
                i = skip_ws(p, len, end);
                if (i < len && p[i] == ',')
                    i = skip_ws(p, len, i + 1);
            }
            return found;
        }
        i = skip_ws(p, len, skip_value(p, len, i));
        if (i < len && p[i] == ',')
            i = skip_ws(p, len, i + 1);
    }
    return found;
}

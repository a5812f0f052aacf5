/*
 * csv_multipart.c - split a multipart/form-data body (RFC 7578, framing of
 * RFC 2046 5.1) into the files of a CSV upload, so that a SHIN-NY set can
 * arrive in one request (`curl -F a=@SDOH_PtInfo_X.csv -F b=@...`).
 *
 *   preamble --B CRLF headers CRLF CRLF content CRLF --B ... CRLF --B-- epilogue
 *
 * Content slices point into the body (no copy); file names are copied,
 * stripped of any directory part. Bounded: at most `max` parts, 8 KiB of
 * headers per part, a boundary of 1..70 characters.
 */
#include <string.h>

#include "csv/csv.h"

#define MP_MAX_HEADERS 8192

/* The value of parameter `name` in a header value ("a; name=v; x="q""),
 * unquoted (backslash escapes kept as sent: file names rarely hold them). */
static bool param(const char *p, size_t n, const char *name, struct slice *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] != ';')
            i++;
        if (i >= n)
            break;
        i++;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t k = i;
        while (i < n && p[i] != '=' && p[i] != ';')
            i++;
        if (i >= n || p[i] != '=')
            continue;
        bool match = slice_ieq((struct slice){ p + k, i - k }, name);
        i++;
        size_t vs, ve;
        if (i < n && p[i] == '"') {
            vs = ++i;
            while (i < n && p[i] != '"')
                i++;
            ve = i;
            if (i < n)
                i++;
        } else {
            vs = i;
            while (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t')
                i++;
            ve = i;
        }
        if (match) {
            *out = (struct slice){ p + vs, ve - vs };
            return true;
        }
    }
    return false;
}

static const char *find(const char *h, size_t hn, const char *nd, size_t nn)
{
    /* memchr on the first byte, then compare: the needle is at most 74
     * bytes, so the worst case stays linear in the body times 74 */
    const char *end = h + hn;
    if (nn == 0 || hn < nn)
        return NULL;
    while ((size_t)(end - h) >= nn) {
        const char *c = memchr(h, nd[0], (size_t)(end - h) - nn + 1);
        if (c == NULL)
            return NULL;
        if (memcmp(c, nd, nn) == 0)
            return c;
        h = c + 1;
    }
    return NULL;
}

int csv_multipart_files(struct arena *a, const char *content_type,
                        const char *p, size_t len, struct csv_file *files,
                        size_t max, size_t *n, struct hub_err *err)
{
    struct slice b;
    size_t ctl = content_type ? strlen(content_type) : 0;

    *n = 0;
    if (ctl < 19 || !slice_ieq((struct slice){ content_type, 19 },
                               "multipart/form-data"))
        return hub_err_set(err, HUB_EUNSUPPORTED, "Content-Type", 0,
                           "body is not multipart/form-data");
    if (!param(content_type, ctl, "boundary", &b) || b.len == 0 ||
        b.len > 70)
        return hub_err_set(err, HUB_EINVALID, "Content-Type", 0,
                           "multipart boundary is missing or too long");

    /* "\r\n--" + boundary; the first delimiter may open the body */
    char delim[76];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, b.p, b.len);
    size_t dl = b.len + 4;

    const char *end = p + len, *cur;
    if (len >= dl - 2 && memcmp(p, delim + 2, dl - 2) == 0) {
        cur = p + dl - 2;
    } else {
        const char *d = find(p, len, delim, dl);
        if (d == NULL)
            return hub_err_set(err, HUB_ESYNTAX, "body", 0,
                               "multipart boundary not found");
        cur = d + dl;
    }

    for (;;) {
        /* after a delimiter: "--" closes, CRLF opens a part */
        if (end - cur >= 2 && cur[0] == '-' && cur[1] == '-')
            break;
        while (cur < end && (*cur == ' ' || *cur == '\t'))
            cur++;                  /* transport padding, RFC 2046 */
        if (end - cur < 2 || cur[0] != '\r' || cur[1] != '\n')
            return hub_err_set(err, HUB_ESYNTAX, "body", (size_t)(cur - p),
                               "multipart delimiter not followed by CRLF");
        cur += 2;
        size_t room = (size_t)(end - cur);
        const char *hend = find(cur, room < MP_MAX_HEADERS ? room
                                                           : MP_MAX_HEADERS,
                                "\r\n\r\n", 4);
        const char *content;
        if (hend == NULL) {
            /* a part without headers starts with the blank line itself */
            if (room >= 2 && cur[0] == '\r' && cur[1] == '\n') {
                hend = cur - 2;
            } else {
                return hub_err_set(err, room >= MP_MAX_HEADERS ? HUB_ELIMIT
                                                               : HUB_ESYNTAX,
                                   "body", (size_t)(cur - p),
                                   "multipart part headers are not ended");
            }
        }
        content = hend + 4;
        struct slice fname = SLICE_NULL, name = SLICE_NULL;
        bool disposition = false;
        for (const char *h = cur; h < hend;) {
            const char *eol = find(h, (size_t)(hend - h), "\r\n", 2);
            if (eol == NULL)
                eol = hend;
            const char *colon = memchr(h, ':', (size_t)(eol - h));
            if (colon && slice_ieq((struct slice){ h, (size_t)(colon - h) },
                                   "Content-Disposition")) {
                disposition = true;
                param(colon + 1, (size_t)(eol - colon - 1), "filename",
                      &fname);
                param(colon + 1, (size_t)(eol - colon - 1), "name", &name);
            }
            h = eol + 2;
        }
        const char *d = find(content, (size_t)(end - content), delim, dl);
        if (d == NULL)
            return hub_err_set(err, HUB_ESYNTAX, "body", (size_t)(content - p),
                               "multipart part is not closed by the boundary");
        if (!disposition)
            return hub_err_set(err, HUB_EINVALID, "Content-Disposition",
                               (size_t)(cur - p),
                               "multipart part has no Content-Disposition");
        if (*n >= max)
            return hub_err_set(err, HUB_ELIMIT, "body", (size_t)(cur - p),
                               "more files than the limit");
        struct slice nm = fname.len ? fname : name;
        /* keep the base name only: a path is the sender's, not ours */
        for (size_t i = nm.len; i > 0; i--) {
            if (nm.p[i - 1] == '/' || nm.p[i - 1] == '\\') {
                nm.p += i;
                nm.len -= i;
                break;
            }
        }
        for (size_t i = 0; i < nm.len; i++)
            if ((unsigned char)nm.p[i] < 0x20 || nm.p[i] == 0x7f)
                return hub_err_set(err, HUB_EINVALID, "Content-Disposition",
                                   (size_t)(cur - p),
                                   "file name holds a control character");
        files[*n] = (struct csv_file){
            nm.len ? arena_slice_dup(a, nm) : NULL, NULL, content,
            (size_t)(d - content) };
        (*n)++;
        cur = d + dl;
    }
    if (*n == 0)
        return hub_err_set(err, HUB_EINVALID, "body", 0,
                           "multipart body holds no file");
    return HUB_OK;
}

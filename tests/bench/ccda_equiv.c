/*
 * ccda_equiv.c - everything the C-CDA adapter says about a set of
 * documents, for tests/tools/ccda-equiv.sh to compare between two builds:
 * per document its return code, error field, offset and message, message
 * id, and every canonical event (type and JSON). Documents: the files named
 * on the command line, then -m N mutants of them made with a fixed seed
 * (-s): white space, CRLF, comments, PIs, CDATA, references, non-ASCII
 * text and long blank runs put between tags; tabs, newlines, CR and
 * references put into attribute values; xml:space, prefixed, undeclared
 * and duplicate attributes added; indentation or the default namespace
 * taken away; bytes cut or changed. Most stay well-formed, so that both
 * ways of reading them (ccda_fast.c and libxml2) are exercised.
 * Run from the repository root (the dictionary is schemas/dict).
 *
 *   ccda_equiv [-m MUTANTS] [-s SEED] FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "common/arena.h"
#include "common/canon.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"
#include "equiv_mutate.h"

static struct dict *D;

static void run(const char *name, const char *p, size_t len)
{
    struct arena a;
    struct canon_list l = { 0 };
    struct slice id = SLICE_NULL;
    struct hub_err err;
    int rc;

    memset(&err, 0, sizeof(err));
    arena_init(&a, 65536);
    rc = ccda_to_events(&a, D, p, len, &l, &id, &err);
    printf("== %s rc=%d", name, rc);
    if (rc != HUB_OK)
        printf(" field=%s offset=%zu what=%s", err.field, err.offset,
               err.what ? err.what : "");
    else
        printf(" id=%.*s", (int)id.len, id.p ? id.p : "");
    putchar('\n');
    for (size_t i = 0; i < l.n; i++)
        printf("%s %.*s\n", l.ev[i].type, (int)l.ev[i].json.len,
               l.ev[i].json.p);
    arena_release(&a);
}

static const char *const between[] = {
    " ", "\n", "\r\n", "\t", "  \r\n  ", "\r\n\r\n", "<!-- c -->",
    "<?p x?>", "<![CDATA[ x ]]>", "<![CDATA[]]>", "&amp;", "&#32;",
    "&#xE9;", "\xc3\xa9", "x", " x ", "<b/>", "\r", " \xc3\xa9 ", "&lt; ",
    "]", "<sdtc:x xmlns:sdtc=\"urn:hl7-org:sdtc\"/>", "<p:x/>", "\x7f",
    "&#13;", "\xc3", "&#x10FFFF;", "&nbsp;", "]]>",
};
static const char *const in_value[] = {
    "\t", "\n", "&amp;", "&#9;", "&quot;", "\xc3\xa9", "\r", "\r\n", " ",
    "&#38;", "&#10;", "<",
};
static const char *const attrs[] = {
    " xml:space=\"preserve\"", " xml:space=\"default\"",
    " xmlns:q=\"urn:q\" q:a=\"1\"", " xsi:nil=\"true\"", " a=\"1\" a=\"2\"",
    " xmlns=\"\"", " xmlns=\"urn:x\"",
};

static void mutate(char *d, size_t *n)
{
    int k = 1 + (int)pick(4);
    char blanks[400];

    for (int i = 0; i < k; i++) {
        size_t at;
        switch (pick(10)) {
        case 0: case 1: case 2: case 3:
            at = find_any(d, *n, pick(2) ? '>' : '<');
            if (at == SIZE_MAX)
                break;
            if (d[at] == '>')
                at++;
            if (pick(8) == 0) {         /* a blank run past 300 bytes */
                size_t m = 290 + pick(60);
                for (size_t j = 0; j < m; j++)
                    blanks[j] = " \n\t"[pick(3)];
                insert(d, n, at, blanks, m);
            } else {
                const char *s = between[pick(sizeof(between) /
                                             sizeof(between[0]))];
                insert(d, n, at, s, strlen(s));
            }
            break;
        case 4:
            at = find_any(d, *n, '"');
            if (at != SIZE_MAX) {
                const char *s = in_value[pick(sizeof(in_value) /
                                              sizeof(in_value[0]))];
                insert(d, n, at + 1, s, strlen(s));
            }
            break;
        case 5:
            at = find_any(d, *n, '<');
            if (at != SIZE_MAX && at + 1 < *n && d[at + 1] >= 'a' &&
                d[at + 1] <= 'z') {
                size_t e = at + 1;
                while (e < *n && d[e] != ' ' && d[e] != '>' && d[e] != '/')
                    e++;
                const char *s = attrs[pick(sizeof(attrs) / sizeof(attrs[0]))];
                insert(d, n, e, s, strlen(s));
            }
            break;
        case 6: {                       /* every LF as CRLF */
            static char t[MAX_DOC];
            size_t m = 0;
            for (size_t j = 0; j < *n && m + 2 <= MAX_DOC; j++) {
                if (d[j] == '\n' && (j == 0 || d[j - 1] != '\r'))
                    t[m++] = '\r';
                t[m++] = d[j];
            }
            memcpy(d, t, m);
            *n = m;
            break;
        }
        case 7: {                       /* no indentation */
            size_t m = 0;
            for (size_t j = 0; j < *n; j++) {
                if (d[j] == '>' ) {
                    size_t e = j + 1;
                    while (e < *n && (d[e] == ' ' || d[e] == '\n' ||
                                      d[e] == '\r' || d[e] == '\t'))
                        e++;
                    d[m++] = d[j];
                    if (e < *n && d[e] == '<')
                        j = e - 1;
                    continue;
                }
                d[m++] = d[j];
            }
            *n = m;
            break;
        }
        case 8:
            if (*n > 2) {
                size_t p = pick(*n), q = p + 1 + pick(40);
                if (q > *n)
                    q = *n;
                memmove(d + p, d + q, *n - q);
                *n -= q - p;
            }
            break;
        default:
            if (*n)
                d[pick(*n)] = (char)pick(256);
            break;
        }
    }
}

int main(int argc, char **argv)
{
    struct dict_err de = { 0 };

    if (dict_files_load(NULL, &D, &de) != HUB_OK) {
        fprintf(stderr, "ccda_equiv: no dictionary (run from the root)\n");
        return 2;
    }
    ccda_global_init();
    return equiv_main("ccda_equiv", argc, argv, run, mutate);
}

/*
 * ccda_tree_fuzz.c - libFuzzer differential harness for the C-CDA reader's
 * two ways (ccda_xml.c): whatever the one-pass reader of ccda_fast.c takes,
 * libxml2 must take too and build the same tree (element names,
 * namespaces, attributes in order with their values, each element's text
 * run together, element order); where the reader gives up there is nothing
 * to compare (libxml2 decides alone). Aborts on the first difference.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "ccda/ccda_int.h"

static size_t run_text(const struct ccda_node *e, char *out, size_t cap)
{
    size_t n = 0;
    for (const struct ccda_node *c = e->children; c; c = c->next)
        if (c->type == CCDA_TEXT) {
            if (n + c->len > cap)
                abort();        /* no text is longer than the input */
            memcpy(out + n, c->content, c->len);
            n += c->len;
        }
    return n;
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static char *tx, *ty;
static size_t tcap;

static void differ(const struct ccda_node *n, const char *what)
{
    char path[512];
    ccda_xpath(n, path, sizeof(path));
    fprintf(stderr, "ccda_tree_fuzz: %s at %s\n", what, path);
    abort();
}

static void same_tree(const struct ccda_node *x, const struct ccda_node *y)
{
    if (strcmp(x->name, y->name) != 0 || !same_str(x->ns, y->ns) ||
        x->v3 != y->v3 || x->type != CCDA_ELEMENT || y->type != CCDA_ELEMENT)
        differ(x, "element");
    const struct ccda_attr *a = x->attrs, *b = y->attrs;
    for (; a && b; a = a->next, b = b->next)
        if (strcmp(a->name, b->name) || !same_str(a->ns, b->ns) ||
            strcmp(a->value, b->value))
            differ(x, "attribute");
    if (a || b)
        differ(x, "attribute count");
    size_t lx = run_text(x, tx, tcap), ly = run_text(y, ty, tcap);
    if (lx != ly || memcmp(tx, ty, lx) != 0)
        differ(x, "text");
    const struct ccda_node *cx = x->children, *cy = y->children;
    for (;;) {
        while (cx && cx->type != CCDA_ELEMENT)
            cx = cx->next;
        while (cy && cy->type != CCDA_ELEMENT)
            cy = cy->next;
        if (cx == NULL || cy == NULL)
            break;
        if (cx->parent != x || cy->parent != y)
            differ(x, "parent link");
        same_tree(cx, cy);
        cx = cx->next;
        cy = cy->next;
    }
    if (cx || cy)
        differ(x, "child element count");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ccda_global_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena fa, la;
    struct ccda_tree ft, lt;
    struct hub_err err;

    if (size == 0 || size > CCDA_MAX_DOCUMENT)
        return 0;
    arena_init(&fa, 16 * 1024);
    if (ccda_xml_parse_fast(&fa, (const char *)data, size, &ft)) {
        if (ft.root == NULL || ft.ctxt != NULL)
            abort();
        arena_init(&la, 16 * 1024);
        if (ccda_xml_parse_libxml(&la, NULL, (const char *)data, size, &lt,
                                  &err) != HUB_OK) {
            fprintf(stderr, "ccda_tree_fuzz: libxml2 refused it: %s\n",
                    err.what);
            abort();
        }
        if (tcap < size + 1) {
            free(tx);
            free(ty);
            tcap = size + 1;
            tx = malloc(tcap);
            ty = malloc(tcap);
            if (tx == NULL || ty == NULL)
                abort();
        }
        same_tree(ft.root, lt.root);
        ccda_tree_free(&lt);
        arena_release(&la);
    }
    arena_release(&fa);
    return 0;
}

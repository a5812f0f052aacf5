/*
 * jsontree.c - cJSON trees in an arena (see jsontree.h).
 *
 * The arena in use is a thread-local set only for the length of one
 * cJSON_ParseWithLength() call: it is how the caller's arena reaches
 * cJSON's allocation hooks, which take no argument. Outside that call the
 * hooks are plain malloc and free.
 */
#include "common/jsontree.h"

#include <pthread.h>
#include <stdlib.h>

/* The arena of the parse running on this thread, and the block of it that
 * nodes are cut from: a node costs a compare and an add, not a call. */
static _Thread_local struct arena *tree_arena;
static _Thread_local char *tree_cur, *tree_end;

#define TREE_BLOCK 16384

static void *tree_malloc(size_t n)
{
    struct arena *a = tree_arena;
    if (a == NULL)
        return malloc(n);
    n = (n + 7) & ~(size_t)7;       /* cJSON nodes hold pointers, doubles */
    if (n > (size_t)(tree_end - tree_cur)) {
        if (n > TREE_BLOCK / 4)
            return arena_alloc(a, n);   /* a long string: its own piece */
        tree_cur = arena_alloc(a, TREE_BLOCK);
        tree_end = tree_cur + TREE_BLOCK;
    }
    void *p = tree_cur;
    tree_cur += n;
    return p;
}

/* Inside a parse, cJSON frees only what that parse allocated (a failed
 * parse deletes its partial tree): arena memory, freed with the arena. */
static void tree_free(void *p)
{
    if (tree_arena == NULL)
        free(p);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_install(void)
{
    cJSON_Hooks h = { .malloc_fn = tree_malloc, .free_fn = tree_free };
    cJSON_InitHooks(&h);
}

void jsontree_global_init(void)
{
    pthread_once(&hooks_once, hooks_install);
}

static cJSON *parse_in(struct arena *a, const char *p, size_t len)
{
    tree_arena = a;
    tree_cur = tree_end = NULL;
    cJSON *root = cJSON_ParseWithLength(p, len);
    tree_arena = NULL;
    tree_cur = tree_end = NULL;
    return root;
}

int jsontree_parse(struct arena *a, const char *p, size_t len,
                   const struct json_limits *lim, cJSON **out,
                   struct hub_err *err)
{
    size_t n = 0;
    int rc;

    *out = NULL;
    jsontree_global_init();
    if (len > lim->max_bytes)       /* before sizing the copy by it */
        return json_prescan(p, len, lim, err);
    char *min = arena_alloc(a, len ? len : 1);
    if ((rc = json_prescan_copy(p, len, lim, min, &n, err)))
        return rc;
    *out = parse_in(a, min, n);
    if (*out)
        return HUB_OK;
    /* Rare: parse the input as sent, so the offset is one into `p` (and
     * should the copy ever mean less than the input, the input decides). */
    if ((*out = parse_in(a, p, len)))
        return HUB_OK;
    const char *ep = cJSON_GetErrorPtr();
    size_t off = ep && ep >= p && ep <= p + len ? (size_t)(ep - p) : 0;
    return hub_err_set(err, HUB_ESYNTAX, "$", off, "body is not JSON");
}

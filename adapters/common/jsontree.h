/*
 * jsontree.h - untrusted JSON into a cJSON tree that lives in an arena.
 *
 * Why: cJSON mallocs every node, key and string and frees them one by one
 * in cJSON_Delete, and its parse walks strings a byte at a time and tries
 * three strncmp per value; for a FHIR bundle that was over half of the
 * adapter's instructions. jsontree_parse() builds the same tree (cJSON's
 * struct, fields set as cJSON sets them) in one pass that also checks the
 * limits, for plain JSON; anything else - bad JSON, a limit, input that
 * only cJSON's leniencies accept - is decided as before by json_prescan
 * and then cJSON itself (jsontree_parse_cjson), so what is accepted and
 * the tree are cJSON's, but for bytes after the value, which are refused
 * (cJSON left them unread), and every refusal is cJSON's, its offset put
 * at the start of the token refused (json_fault_at).
 *
 * For that way cJSON's allocation hooks are process-wide (cJSON has no
 * other way), so they stay malloc/free except inside a parse on the
 * calling thread: every other use of cJSON in the process is unchanged.
 * jsontree_global_init() installs them; call it once on the main thread
 * before any thread starts (hubd does); otherwise the first such parse
 * installs them. Thread-safe: the offset of a refusal is the calling
 * parse's own, never cJSON_GetErrorPtr() (which every thread's parse sets).
 *
 * A tree from jsontree_parse() is NEVER given to cJSON_Delete: it dies with
 * its arena. Reading it with cJSON's functions is fine; adding to it is not.
 */
#ifndef HUB_JSONTREE_H
#define HUB_JSONTREE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "common/jsonscan.h"

void jsontree_global_init(void);

/*
 * Parse `p` (len bytes) into *out, allocated in `a`. Returns HUB_OK, or
 * HUB_ELIMIT / HUB_ESYNTAX from the bounds (as json_prescan fills *err), or
 * HUB_ESYNTAX "body is not JSON" at field "$" and the byte offset in `p`
 * of the token cJSON could not take, or "body has bytes after its JSON
 * value" at the first of them; err->located.
 */
int jsontree_parse(struct arena *a, const char *p, size_t len,
                   const struct json_limits *lim, cJSON **out,
                   struct hub_err *err) __attribute__((warn_unused_result));

/*
 * What the one pass notices on its way, so that a caller's check of every
 * object need not walk the tree again (the FHIR adapter's: each member
 * name once, no modifierExtension). Exact, not a guess; but only a tree
 * the one pass built is noticed, and only when no object has more than 32
 * members whose names it would have to compare: `noticed` false (cJSON
 * built it, or an object too wide) tells nothing, and the caller walks.
 */
struct jsontree_notes {
    const char *watch;      /* in: a member name to look out for, or NULL */
    bool noticed;           /* out: the one pass built the tree */
    bool repeated;          /* out: some object names a member twice */
    bool watched;           /* out: some member is named `watch` */
};

/* jsontree_parse, with `notes` (NULL: none wanted) filled in. */
int jsontree_parse_noting(struct arena *a, const char *p, size_t len,
                          const struct json_limits *lim, cJSON **out,
                          struct jsontree_notes *notes, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * The one pass alone: the tree when `p` is plain JSON within `lim` (then
 * json_prescan passes and cJSON builds this same tree), NULL when it is
 * not (jsontree_parse then asks json_prescan and cJSON). For tests.
 */
cJSON *jsontree_parse_plain(struct arena *a, const char *p, size_t len,
                            const struct json_limits *lim);

/* The same, always by json_prescan_copy then cJSON (the way jsontree_parse
 * takes for anything but plain JSON): for tests and fuzzers to hold the
 * one pass to, and for jsontree_parse itself. */
int jsontree_parse_cjson(struct arena *a, const char *p, size_t len,
                         const struct json_limits *lim, cJSON **out,
                         struct hub_err *err)
    __attribute__((warn_unused_result));

#endif

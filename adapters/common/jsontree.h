/*
 * jsontree.h - untrusted JSON into a cJSON tree that lives in an arena.
 *
 * Why: cJSON mallocs every node, key and string and frees them one by one
 * in cJSON_Delete; for a FHIR bundle that was a third of the adapter's time,
 * and cJSON's byte-at-a-time walk over indentation another tenth.
 * jsontree_parse() bounds the input (json_prescan's limits), copies it
 * without the white space between tokens in the same pass, and has cJSON
 * parse that copy with its allocation hooks pointed at the caller's arena.
 *
 * The hooks are process-wide (cJSON has no other way), so they stay
 * malloc/free except inside jsontree_parse() on the calling thread: every
 * other use of cJSON in the process is unchanged. jsontree_global_init()
 * installs them; call it once on the main thread before any thread starts
 * (hubd does); otherwise the first jsontree_parse() installs them.
 *
 * A tree from jsontree_parse() is NEVER given to cJSON_Delete: it dies with
 * its arena. Reading it with cJSON's functions is fine; adding to it is not.
 */
#ifndef HUB_JSONTREE_H
#define HUB_JSONTREE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "common/jsonscan.h"

void jsontree_global_init(void);

/*
 * Parse `p` (len bytes) into *out, allocated in `a`. Returns HUB_OK, or
 * HUB_ELIMIT / HUB_ESYNTAX from the bounds (as json_prescan fills *err), or
 * HUB_ESYNTAX "body is not JSON" at field "$" and the byte offset in `p`
 * where cJSON stopped.
 */
int jsontree_parse(struct arena *a, const char *p, size_t len,
                   const struct json_limits *lim, cJSON **out,
                   struct hub_err *err) __attribute__((warn_unused_result));

#endif

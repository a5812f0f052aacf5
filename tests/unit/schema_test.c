/*
 * schema_test.c - every canonical-event golden in tests/data validates
 * against schemas/canonical-event.schema.json (JSON Schema 2020-12), checked
 * by tests/tools/validate.js with ajv (no C validator of 2020-12 exists in
 * our libraries). The repository root is $HUB_ROOT, else the current
 * directory; node and tests/tools/node_modules come from `make deps`.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

Test(canonical_schema, every_golden_event_validates)
{
    const char *root = getenv("HUB_ROOT");
    char cmd[4096], line[1024], out[8192] = "";
    size_t used = 0;

    if (root == NULL || *root == '\0')
        root = ".";
    /* the root is ours (env or "."), but quote it anyway */
    cr_assert(strchr(root, '\'') == NULL, "HUB_ROOT holds a quote");
    snprintf(cmd, sizeof(cmd), "node '%s/tests/tools/validate.js' '%s' 2>&1",
             root, root);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run node");
    while (fgets(line, sizeof(line), p)) {
        size_t n = strlen(line);
        if (used + n < sizeof(out)) {
            memcpy(out + used, line, n + 1);
            used += n;
        }
    }
    int st = pclose(p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "schema validation failed (exit %d):\n%s",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
    cr_assert(strstr(out, " 0 failed") != NULL, "unexpected output:\n%s", out);
}

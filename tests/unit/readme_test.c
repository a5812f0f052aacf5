/*
 * readme_test.c - the README says what the code serves: every route of
 * hub/api_routes.c is a row of the API table with its scope, and every
 * topic a subscription can match (canon_topics, webhook_hub_topics) is in
 * the dictionary's list of topics, which names no other. A route or topic
 * added without its line fails here (config keys: config_test.c), as does
 * a /metrics family (and a delivery state) missing from its section, or
 * a hubctl command (hub/ctl_commands.h) missing from its block. And
 * every test that tests/README.md names exists.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/testfile.h"
#include "api.h"
#include "common/canon.h"
#include "metrics.h"
#include "webhook.h"

static char *readme;

static char *root_file(const char *rel)
{
    char *t = testfile_root_read(rel);
    cr_assert_not_null(t, "cannot read %s", rel);
    return t;
}

static void load(void)
{
    readme = root_file("README.md");
}

static void unload(void)
{
    free(readme);
    readme = NULL;
}

/* The text from `start` to the next line starting `until`, NUL-ended in a
 * copy (freed by the caller). */
static char *section(const char *start, const char *until)
{
    const char *a = strstr(readme, start);
    cr_assert_not_null(a, "README has no '%s'", start);
    const char *b = strstr(a + strlen(start), until);
    size_t n = b ? (size_t)(b - a) : strlen(a);
    char *s = strndup(a, n);
    cr_assert_not_null(s);
    return s;
}

static const char *next_line(const char *l)
{
    const char *n = strchr(l, '\n');
    return n ? n + 1 : NULL;
}

/* The table row whose first cell holds `path`, copied; NULL if none. */
static char *row_of(const char *api, const char *path)
{
    for (const char *l = api; l && *l; l = next_line(l)) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        if (n < 2 || l[0] != '|')
            continue;
        char *row = strndup(l, n);
        cr_assert_not_null(row);
        char *cell_end = strstr(row + 1, " | ");
        if (cell_end) {
            *cell_end = '\0';
            bool in = strstr(row, path) != NULL;
            *cell_end = ' ';
            if (in)
                return row;
        }
        free(row);
    }
    return NULL;
}

Test(readme, every_route_is_in_the_api_table_with_its_scope, .init = load,
     .fini = unload)
{
    static const struct { unsigned bit; const char *name; } scopes[] = {
        { SCOPE_INGEST, "ingest" }, { SCOPE_SUBSCRIBE, "subscribe" },
        { SCOPE_ROSTER, "roster" }, { SCOPE_REPORT, "report" },
        { SCOPE_ADMIN, "admin" },
    };
    char *api = section("\n## HTTPS API\n", "\n## ");
    int routes = 0;

    for (size_t t = 0; api_route_tables[t]; t++) {
        for (const struct api_route *r = api_route_tables[t]; r->methods;
             r++, routes++) {
            /* "/v1/csv/+" is written "/v1/csv/{kind}", "/v1/subscriptions/+"
             * "/v1/subscriptions[/{id}...]" */
            char path[128];
            snprintf(path, sizeof(path), "%s", r->path);
            char *plus = strstr(path, "/+");
            if (plus)
                *plus = '\0';
            char *row = row_of(api, path);
            cr_expect_not_null(row, "route %s is not in README's API table",
                               r->path);
            if (!row)
                continue;
            /* the scope cell: between the first cell and the third */
            char *scope = strstr(row + 1, " | ") + 3;
            char *scope_end = strstr(scope, " | ");
            if (scope_end)
                *scope_end = '\0';
            if (r->scopes == API_PUBLIC)
                cr_expect(strstr(scope, "public") != NULL,
                          "%s: README says '%s', the route is public",
                          r->path, scope);
            for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
                if (r->scopes & scopes[i].bit)
                    cr_expect(strstr(scope, scopes[i].name) != NULL,
                              "%s: README's scope '%s' does not name %s",
                              r->path, scope, scopes[i].name);
            free(row);
        }
    }
    cr_expect_gt(routes, 10);
    free(api);
}

/* Every family /metrics renders (the gauges read from the database
 * included: set here as a scrape would) is named in README's Metrics
 * section, and so is each state of hub_deliveries. */
Test(readme, every_metrics_family_is_described, .init = load, .fini = unload)
{
    static const long long health[4] = { 1, 0, 0, 0 };
    char *sec = section("\n### Metrics", "\n### ");
    size_t len;
    int families = 0;

    metrics_deliveries_set(1, 2, 3, 4, 5, 6, 7.0);
    metrics_health_set(health);
    metrics_tls_not_after(METRIC_TLS_HTTPS, 1);
    char *text = metrics_render(&len);
    cr_assert_not_null(text);
    for (const char *l = text; l && *l; l = next_line(l)) {
        char want[160];
        if (!strncmp(l, "# TYPE ", 7)) {
            size_t n = strcspn(l + 7, " ");
            snprintf(want, sizeof(want), "`%.*s", (int)n, l + 7);
            families++;
        } else if (!strncmp(l, "hub_deliveries{", 15)) {
            size_t n = strcspn(l, " ");
            snprintf(want, sizeof(want), "`%.*s`", (int)n, l);
        } else {
            continue;
        }
        bool named = false;
        for (const char *h = strstr(sec, want); h && !named;
             h = strstr(h + 1, want)) {
            char after = h[strlen(want)];
            named = after == '`' || after == '{' ||
                    want[strlen(want) - 1] == '`';
        }
        cr_expect(named, "README's Metrics section lacks %s", want + 1);
    }
    cr_expect_gt(families, 10);
    free(text);
    free(sec);
}

/* hub/ctl_commands.h as (group, sub) pairs: only the names are used */
static const struct { const char *group, *sub; } ctl_names[] = {
#define CTL_COMMAND(group, sub, fn, usage) { group, sub },
#include "ctl_commands.h"
#undef CTL_COMMAND
};

/* Does `sec` hold "hubctl GROUP" followed by a word that is SUB or a
 * '|'-separated list holding it ("hubctl sub add|list|get")? */
static bool ctl_named(const char *sec, const char *group, const char *sub)
{
    char head[64];
    snprintf(head, sizeof(head), "hubctl %s", group);
    for (const char *h = strstr(sec, head); h; h = strstr(h + 1, head)) {
        const char *w = h + strlen(head);
        if (!sub && (*w == ' ' || *w == '\n' || *w == ';' || *w == '`'))
            return true;
        if (!sub || *w != ' ')
            continue;
        w++;
        size_t wl = strcspn(w, " ;`\n"), sl = strlen(sub);
        for (const char *a = w; a < w + wl;) {
            size_t al = strcspn(a, "|");
            if (al > wl - (size_t)(a - w))
                al = wl - (size_t)(a - w);
            if (al == sl && !strncmp(a, sub, sl))
                return true;
            a += al + 1;
        }
    }
    return false;
}

Test(readme, every_hubctl_command_is_in_its_block, .init = load,
     .fini = unload)
{
    char *sec = section("\n## hubctl\n", "\n## ");

    for (size_t i = 0; i < sizeof(ctl_names) / sizeof(ctl_names[0]); i++)
        cr_expect(ctl_named(sec, ctl_names[i].group, ctl_names[i].sub),
                  "README's hubctl section lacks 'hubctl %s %s'",
                  ctl_names[i].group, ctl_names[i].sub ? ctl_names[i].sub
                                                       : "");
    free(sec);
}

static bool hub_topic(const char *t, size_t n)
{
    for (size_t i = 0; webhook_hub_topics[i]; i++)
        if (strlen(webhook_hub_topics[i]) == n &&
            !strncmp(webhook_hub_topics[i], t, n))
            return true;
    return false;
}

Test(readme, the_topics_list_is_what_a_subscription_can_match, .init = load,
     .fini = unload)
{
    char *list = section("Topics: `", "(source");
    char tick[80];

    for (size_t i = 0; canon_topics[i]; i++) {
        snprintf(tick, sizeof(tick), "`%s`", canon_topics[i]);
        cr_expect(strstr(list, tick) != NULL, "README's topics lack %s",
                  canon_topics[i]);
    }
    for (size_t i = 0; webhook_hub_topics[i]; i++) {
        snprintf(tick, sizeof(tick), "`%s`", webhook_hub_topics[i]);
        cr_expect(strstr(list, tick) != NULL, "README's topics lack %s",
                  webhook_hub_topics[i]);
    }
    /* and each topic it names is one the hub makes */
    for (const char *t = strchr(list, '`'); t; t = strchr(t, '`')) {
        const char *e = strchr(t + 1, '`');
        cr_assert_not_null(e);
        size_t n = (size_t)(e - t - 1);
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)(n < 79 ? n : 79), t + 1);
        cr_expect(canon_topic_known(name) || hub_topic(t + 1, n),
                  "README names topic '%s', which the hub does not make",
                  name);
        t = e + 1;
    }
    free(list);
}

/* Is there a "Test(suite, name" in one of the suites' files? */
static bool test_exists(const char *suite, size_t sl, const char *name,
                        size_t nl)
{
    static const char *const dirs[] = { "tests/unit", "tests/integration",
                                        "tests/e2e" };
    char needle[256];
    bool found = false;

    snprintf(needle, sizeof(needle), "Test(%.*s, %.*s", (int)sl, suite,
             (int)nl, name);
    for (size_t d = 0; d < 3 && !found; d++) {
        const char *root = getenv("HUB_ROOT");
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", root && *root ? root : ".",
                 dirs[d]);
        DIR *dir = opendir(path);
        cr_assert_not_null(dir, "cannot open %s", path);
        struct dirent *e;
        while (!found && (e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 3 || strcmp(e->d_name + n - 2, ".c"))
                continue;
            char rel[512];
            snprintf(rel, sizeof(rel), "%s/%s", dirs[d], e->d_name);
            char *text = root_file(rel);
            for (const char *h = strstr(text, needle); h && !found;
                 h = strstr(h + 1, needle)) {
                char after = h[strlen(needle)];
                found = after == ',' || after == ')';
            }
            free(text);
        }
        closedir(dir);
    }
    return found;
}

/* The peer-lessons table and the text around it name tests as
 * `suite::test`: each must exist, so that a renamed or removed test does
 * not leave the proof of a lesson pointing at nothing. */
Test(readme, every_test_tests_readme_names_exists)
{
    char *text = root_file("tests/README.md");
    int named = 0;

    for (const char *t = strchr(text, '`'); t; t = strchr(t, '`')) {
        const char *e = strchr(t + 1, '`');
        if (!e)
            break;
        const char *sep = strstr(t + 1, "::");
        size_t sl = sep ? (size_t)(sep - t - 1) : 0;
        size_t nl = sep && sep < e ? (size_t)(e - sep - 2) : 0;
        if (sep && sep < e && sl > 0 && nl > 0 &&
            strspn(t + 1, "abcdefghijklmnopqrstuvwxyz0123456789_") == sl &&
            strspn(sep + 2, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == nl &&
            strncmp(t + 1, "suite", sl)) {
            named++;
            cr_expect(test_exists(t + 1, sl, sep + 2, nl),
                      "tests/README.md names %.*s, which no test file holds",
                      (int)(e - t - 1), t + 1);
        }
        t = e + 1;
    }
    cr_expect_gt(named, 50);
    free(text);
}

/* deploy/Containerfile builds with `COPY . .` from the top of the tree:
 * without an ignore file the context held build/ (whose objects make in
 * the image took as up to date, shipping this machine's binaries) and
 * var/ (the private PostgreSQL's files, development keys, demo tokens)
 * (F443). */
Test(readme, the_container_build_context_leaves_out_build_and_var)
{
    char *cf = root_file("deploy/Containerfile");
    cr_assert_not_null(strstr(cf, "\nCOPY . .\n"), "the context is not the "
                       "whole tree any more: look at this test again");
    free(cf);
    char *ign = testfile_root_read(".dockerignore");
    cr_assert_not_null(ign, "no .dockerignore beside the Containerfile's "
                       "build context");
    static const char *const out[] = { "\nbuild\n", "\nvar\n", "\n.git\n" };
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
        cr_expect_not_null(strstr(ign, out[i]), ".dockerignore does not "
                           "leave out %s", out[i] + 1);
    free(ign);
}

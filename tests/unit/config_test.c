/*
 * config_test.c - hubd configuration: defaults per profile, the file, the
 * environment over the file, and refusal of bad keys and values.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "config.h"
#include "../lib/testfile.h"

static char path[64];

static void write_conf(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/hubd-conf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void cleanup(void)
{
    if (path[0])
        unlink(path);
    unsetenv("HUB_MLLP_PORT");
    unsetenv("DATABASE_URL");
    unsetenv("HUB_MLLP_LISTENER");
    unsetenv("HUB_PROFILE");
}

Test(config, dev_defaults_are_the_documented_ports, .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_OK);
    cr_expect_eq(c.profile, PROFILE_DEV);
    cr_expect_eq(c.mllp[0].port, 2575);
    cr_expect_eq(c.mllps_port, 2576);
    cr_expect_eq(c.https_port, 8443);
    cr_expect_eq(c.http_port, 8080);
    cr_expect_eq(c.max_frame, 1u << 20);
    cr_expect(c.allow_tokens);
}

Test(config, production_has_no_plain_http_and_no_tokens, .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    write_conf("profile = production\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK);
    cr_expect_eq(c.http_port, -1);
    cr_expect_not(c.allow_tokens);
    cr_expect_not(c.migrate_at_start);
    cleanup();
    write_conf("profile = production\nhttp_port = 8080\n");
    cr_expect_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "http_port") != NULL, "%s", err);
}

Test(config, environment_overrides_the_file, .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    write_conf("# comment\nmllp_port = 3000\nmllp_org = hosp\n"
               "max_frame = 64K\nmllp_listener = 127.0.0.1:2577 clinic\n"
               "database_url = \"postgresql://file\"\n");
    setenv("HUB_MLLP_PORT", "4000", 1);
    setenv("DATABASE_URL", "postgresql://env", 1);
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(c.mllp[0].port, 4000);
    cr_expect_str_eq(c.mllp[0].org, "hosp");
    cr_expect_eq(c.max_frame, 64u << 10);
    cr_expect_str_eq(c.database_url, "postgresql://env");
    cr_assert_eq(c.n_mllp, 2);
    cr_expect_eq(c.mllp[1].port, 2577);
    cr_expect_str_eq(c.mllp[1].org, "clinic");

    /* HUB_MLLP_LISTENER replaces the file's listeners, as any key does
     * (a second node on one machine moves them), and empty drops them */
    setenv("HUB_MLLP_LISTENER", "3577 clinic,3578 plan", 1);
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_assert_eq(c.n_mllp, 3);
    cr_expect_eq(c.mllp[0].port, 4000);
    cr_expect_eq(c.mllp[1].port, 3577);
    cr_expect_str_eq(c.mllp[1].org, "clinic");
    cr_expect_eq(c.mllp[2].port, 3578);
    cr_expect_str_eq(c.mllp[2].org, "plan");
    setenv("HUB_MLLP_LISTENER", "", 1);
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(c.n_mllp, 1);
    unsetenv("HUB_MLLP_LISTENER");
}

Test(config, rejects_unknown_keys_and_out_of_range_values, .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    write_conf("no_such_key = 1\n");
    cr_expect_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1:") != NULL, "%s", err);
    cr_expect_eq(config_set(&c, "mllp_port", "65536"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "mllp_port", "12ab"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "max_frame", "1T"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "max_frame", "100G"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "allow_tokens", "maybe"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "commit_threads", "0"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "mllp_listener", "2577"), HUB_EINVALID,
                 "a listener needs its org");
    cr_expect_eq(config_set(&c, "commit_threads", "4"), HUB_OK);
    cr_expect_eq(c.commit_threads, 4);
}

/* A mistyped variable (HUB_MAX_FRAMES for HUB_MAX_FRAME) was ignored
 * without a word, where the file's unknown key is refused: hubd names it
 * (F200). A key's variable, in upper case, and the tools' own are not. */
Test(config, names_the_environment_variables_that_are_no_key)
{
    const char *u[64];
    bool typo = false, lower = false, other = false;

    setenv("HUB_MAX_FRAMES", "1", 1);
    setenv("HUB_max_frame", "1", 1);
    setenv("HUB_MAX_FRAME", "2048", 1);
    setenv("HUB_PG_PORT", "54329", 1);
    setenv("HUB_CONFIG", "/dev/null", 1);
    size_t n = config_env_unknown(u, 64);
    for (size_t i = 0; i < n; i++) {
        typo |= strcmp(u[i], "HUB_MAX_FRAMES=1") == 0;
        lower |= strcmp(u[i], "HUB_max_frame=1") == 0;
        other |= strncmp(u[i], "HUB_MAX_FRAME=", 14) == 0 ||
                 strncmp(u[i], "HUB_PG_PORT=", 12) == 0 ||
                 strncmp(u[i], "HUB_CONFIG=", 11) == 0;
    }
    cr_expect(typo, "HUB_MAX_FRAMES is named");
    cr_expect(lower, "a key in lower case is not read: named");
    cr_expect_not(other, "a key's variable and a tool's are not named");
    cr_expect_eq(config_env_unknown(u, 1), 1, "at most max");
}

Test(config, dict_dir_defaults_to_schemas_dict_and_follows_the_environment,
     .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_OK);
    cr_expect_str_eq(c.dict_dir, "schemas/dict");
    setenv("HUB_DICT_DIR", "/usr/share/hub/schemas/dict", 1);
    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_OK);
    unsetenv("HUB_DICT_DIR");
    cr_expect_str_eq(c.dict_dir, "/usr/share/hub/schemas/dict");
}

/* The dispatcher's settings are keys like any other: defaults as
 * dispatch_config_defaults() had them, the file, then HUB_<KEY>. */
Test(config, dispatcher_keys_have_defaults_file_values_and_env_overrides,
     .fini = cleanup)
{
    struct hub_config c;
    char err[256];

    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect(c.dispatch);
    cr_expect_eq(c.dispatch_max_inflight, 64);
    cr_expect_eq(c.dispatch_per_endpoint, 8);
    cr_expect_eq(c.dispatch_timeout_ms, 15000);
    cr_expect_eq(c.dispatch_lease_ms, 0);
    cr_expect_eq(c.dispatch_poll_ms, 1000);
    cr_expect_eq(c.dispatch_breaker_failures, 5);
    cr_expect_eq(c.dispatch_breaker_open_ms, 30000);
    cr_expect_str_eq(c.dispatch_node, "");
    cr_expect_not(c.webhook_allow_private);
    cr_expect_eq(c.time_scale, 1.0);

    write_conf("dispatch_poll_ms = 50\ndispatch_node = node-a\n"
               "time_scale = 1000\nwebhook_allow_private = true\n"
               "dispatch_lease_ms = 2500\n");
    setenv("HUB_DISPATCH", "0", 1);
    setenv("HUB_DISPATCH_POLL_MS", "75", 1);
    setenv("HUB_TIME_SCALE", "86400", 1);
    int rc = config_load(&c, path, err, sizeof(err));
    unsetenv("HUB_DISPATCH");
    unsetenv("HUB_DISPATCH_POLL_MS");
    unsetenv("HUB_TIME_SCALE");
    cr_assert_eq(rc, HUB_OK, "%s", err);
    cr_expect_not(c.dispatch, "HUB_DISPATCH=0 turns it off");
    cr_expect_eq(c.dispatch_poll_ms, 75, "the environment wins");
    cr_expect_eq(c.time_scale, 86400.0);
    cr_expect_str_eq(c.dispatch_node, "node-a");
    cr_expect(c.webhook_allow_private);
    cr_expect_eq(c.dispatch_lease_ms, 2500);

    /* the bounds dispatch.c applied to the environment */
    cr_expect_eq(config_set(&c, "dispatch_poll_ms", "9"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "dispatch_timeout_ms", "600001"),
                 HUB_EINVALID);
    cr_expect_eq(config_set(&c, "dispatch_lease_ms", "199"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "dispatch_lease_ms", "0"), HUB_OK);
    cr_expect_eq(config_set(&c, "time_scale", "0.5"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "time_scale", "nan"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "time_scale", "2x"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "dispatch", "maybe"), HUB_EINVALID);
}

/* Every key of the example file is known and its value valid, so the
 * example cannot drift from config.c (run from the repository root). */
Test(config, the_example_file_loads, .fini = cleanup)
{
    struct hub_config c;
    char err[256], ex[4096];
    const char *root = getenv("HUB_ROOT");

    snprintf(ex, sizeof(ex), "%s/deploy/hubd.conf.example",
             root && *root ? root : ".");
    cr_assert_eq(config_load(&c, ex, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect(c.dispatch);
    cr_expect_eq(c.time_scale, 1.0);
}

/* A refusal names the key and what it accepts, and tells an unknown key
 * from a bad value, so that the operator can fix the line without the
 * source. */
Test(config, refusals_say_what_the_key_accepts, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    write_conf("# sizes\nmax_body = 1T\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":2: bad value for 'max_body': expected a size "
                          "from 1K to 256M") != NULL, "%s", err);
    cleanup();
    write_conf("mllp_prot = 2575\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1: unknown key 'mllp_prot'") != NULL, "%s", err);
    cleanup();
    setenv("HUB_COMMIT_THREADS", "100", 1);
    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_EINVALID);
    unsetenv("HUB_COMMIT_THREADS");
    cr_expect(strstr(err, "HUB_COMMIT_THREADS: bad value for "
                          "'commit_threads': expected a whole number from 1 "
                          "to 64") != NULL, "%s", err);
    /* a comment after a value is part of the value: said so (F1463) */
    cleanup();
    write_conf("https_port = 8443   # the API\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1: bad value for 'https_port'") != NULL, "%s",
              err);
    cr_expect(strstr(err, "put the comment on a line of its own") != NULL,
              "%s", err);
    cleanup();
    write_conf("https_port = 84430\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "comment") == NULL, "%s", err);
    /* a mistyped key is refused for its name: its value's '#' is not why
     * (F1530) */
    cleanup();
    write_conf("tls_cetr = /etc/hub/server.crt   # renewed yearly\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1: unknown key 'tls_cetr'") != NULL, "%s", err);
    cr_expect(strstr(err, "comment") == NULL, "%s", err);
    cleanup();
    write_conf("profile = production\nhttp_port = 8080\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "http_port = -1") != NULL, "%s", err);
}

/* dispatch_max_endpoints took up to 1,000,000, but the endpoint table is
 * searched linearly for every claimed row: at the top a claim would hold
 * the dispatcher's loop for a large part of a second. The key stops at
 * 65,536 and the refusal names it and its range (F4144, F4221). */
Test(config, dispatch_max_endpoints_stops_at_65536, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    write_conf("dispatch_max_endpoints = 65536\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(c.dispatch_max_endpoints, 65536);
    cleanup();
    write_conf("dispatch_max_endpoints = 65537\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1: bad value for 'dispatch_max_endpoints': "
                          "expected a whole number from 1 to 65536") != NULL,
              "%s", err);
    cr_expect_eq(config_set(&c, "dispatch_max_endpoints", "1000000"),
                 HUB_EINVALID);
}

/* The HL7 v2 processing IDs taken: production takes P alone (a test
 * system's training messages are no real admissions), dev P, T and D; a
 * value is letters of table 0103, one at least. */
Test(config, hl7_processing_ids_defaults_and_values, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    config_defaults(&c, PROFILE_PRODUCTION);
    cr_expect_str_eq(c.hl7_processing_ids, "P");
    config_defaults(&c, PROFILE_DEV);
    cr_expect_str_eq(c.hl7_processing_ids, "PTD");
    cr_expect_eq(config_set(&c, "hl7_processing_ids", "T, D"), HUB_OK);
    cr_expect_str_eq(c.hl7_processing_ids, "TD");
    cr_expect_eq(config_set(&c, "hl7_processing_ids", "P P"), HUB_OK);
    cr_expect_str_eq(c.hl7_processing_ids, "P");
    cr_expect_eq(config_set(&c, "hl7_processing_ids", ""), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "hl7_processing_ids", " , "), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "hl7_processing_ids", "p"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "hl7_processing_ids", "P X"), HUB_EINVALID);
    cr_expect_str_eq(c.hl7_processing_ids, "P", "a refused value changes "
                     "nothing");
    write_conf("hl7_processing_ids = P Q\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":1: bad value for 'hl7_processing_ids': expected "
                          "one or more of P, T and D") != NULL, "%s", err);
    cleanup();
    write_conf("profile = production\nhttp_port = -1\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_str_eq(c.hl7_processing_ids, "P");
}

Test(config, log_level_is_one_of_four, .fini = cleanup)
{
    struct hub_config c;

    config_defaults(&c, PROFILE_DEV);
    cr_expect_eq(config_set(&c, "log_level", "warning"), HUB_EINVALID);
    cr_expect_str_eq(c.log_level, "info");
    cr_expect_eq(config_set(&c, "log_level", "warn"), HUB_OK);
    cr_expect_str_eq(c.log_level, "warn");
}

/* The retention's defaults, and HIPAA's six years of audit documentation:
 * production refuses a shorter audit retention (0, forever, is fine); the
 * dev profile takes one (tests), and each run warns about it. */
Test(config, retention_defaults_and_the_audit_minimum, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    config_defaults(&c, PROFILE_PRODUCTION);
    cr_expect_eq(c.retain_messages_days, 30);
    cr_expect_eq(c.retain_events_days, 365);
    cr_expect_eq(c.retain_deliveries_days, 90);
    cr_expect_eq(c.retain_audit_days, 2190);
    cr_expect_eq(c.prune_batch, 5000);
    cr_expect_eq(c.prune_interval, 86400);
    cr_expect_eq(config_set(&c, "prune_batch", "0"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "prune_batch", "100001"), HUB_EINVALID);
    cr_expect_eq(config_set(&c, "retain_events_days", "-1"), HUB_EINVALID);
    write_conf("profile = production\nhttp_port = -1\n"
               "retain_audit_days = 365\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "retain_audit_days") != NULL, "%s", err);
    cleanup();
    write_conf("profile = production\nhttp_port = -1\n"
               "retain_audit_days = 0\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cleanup();
    setenv("HUB_RETAIN_AUDIT_DAYS", "30", 1);
    cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), HUB_OK, "%s", err);
    unsetenv("HUB_RETAIN_AUDIT_DAYS");
    cr_expect_eq(c.retain_audit_days, 30);
}

/* A file of the repository root, read whole. */
static char *root_file(const char *rel)
{
    char *t = testfile_root_read(rel);
    cr_assert_not_null(t, "cannot read %s", rel);
    return t;
}

static const char *next_line(const char *l)
{
    const char *n = strchr(l, '\n');
    return n ? n + 1 : NULL;
}

static bool known_key(const char *name, size_t n)
{
    for (size_t i = 0; config_key_name(i); i++)
        if (strlen(config_key_name(i)) == n &&
            !strncmp(config_key_name(i), name, n))
            return true;
    return false;
}

/* Does `text` hold a line "key =" or "# key =" (the example's form)? */
static bool example_has(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = next_line(l)) {
        const char *s = l;
        if (s[0] == '#' && s[1] == ' ')
            s += 2;
        if (!strncmp(s, key, kl) && (s[kl] == ' ' || s[kl] == '='))
            return true;
    }
    return false;
}

/* The README table's rows "| `a`, `b` | 1M, 16M | ..." whose keys and
 * defaults pair up (not "none", nor one default for several keys): each
 * default set on the dev defaults changes nothing. Returns how many. */
static int readme_defaults(const char *sec, size_t seclen,
                           const struct hub_config *def)
{
    int checked = 0;

    for (const char *l = sec; l && l < sec + seclen; l = next_line(l)) {
        if (strncmp(l, "| `", 3))
            continue;
        const char *e = strchr(l, '\n');
        char *row = strndup(l, e ? (size_t)(e - l) : strlen(l));
        cr_assert_not_null(row);
        char *keys = row + 2, *vals = strstr(keys, " | ");
        char *end = vals ? strstr(vals + 3, " | ") : NULL;
        if (!end) {
            free(row);
            continue;
        }
        *vals = *end = '\0';
        vals += 3;
        char *ks = NULL, *vs = NULL;
        int nk = 1, nv = 1;
        for (char *c = keys; *c; c++)
            nk += *c == ',';
        for (char *c = vals; *c; c++)
            nv += *c == ',';
        for (char *k = strtok_r(keys, ", `", &ks),
                  *v = strtok_r(vals, ", `", &vs);
             nk == nv && k && v;
             k = strtok_r(NULL, ", `", &ks), v = strtok_r(NULL, ", `", &vs)) {
            if (!strcmp(v, "none") || !known_key(k, strlen(k)))
                continue;
            struct hub_config got;
            memcpy(&got, def, sizeof(got));
            cr_expect_eq(config_set(&got, k, v), HUB_OK, "%s = %s", k, v);
            cr_expect_eq(memcmp(def, &got, sizeof(got)), 0,
                         "README: '%s' defaults to '%s'? not in config.c",
                         k, v);
            checked++;
        }
        free(row);
    }
    return checked;
}

/* Every key hubd accepts is in deploy/hubd.conf.example and named in the
 * README's configuration section, and each value the example sets (and
 * each default the README's table states) is the dev profile's default;
 * every key the README's table or the example's
 * commented lines name is one hubd accepts. A key added to config.c
 * without its documentation, or a default changed on one side only, fails
 * here. */
/* webhook_proxy: none by default; an http or https proxy with its port
 * (and credentials) is taken from the file or HUB_WEBHOOK_PROXY; what the
 * dispatcher could not use is refused. */
Test(config, webhook_proxy_is_none_by_default_and_checked)
{
    struct hub_config c;
    config_defaults(&c, PROFILE_PRODUCTION);
    cr_expect_str_eq(c.webhook_proxy, "");
    cr_expect_str_eq(c.webhook_proxy_ca, "");
    cr_expect_eq(config_set(&c, "webhook_proxy",
                            "http://u:p@proxy.example:3128"), HUB_OK);
    cr_expect_str_eq(c.webhook_proxy, "http://u:p@proxy.example:3128");
    cr_expect_eq(config_set(&c, "webhook_proxy", ""), HUB_OK);
    cr_expect_str_eq(c.webhook_proxy, "");
    static const char *const bad[] = {
        "proxy.example:3128", "http://proxy.example", "ftp://p:21",
        "socks5h://p:1080", "http://p:3128/path", "http://p:3128?q",
        "http://p:0", "http://:3128", "http://[::1:3128", "http://p :3128",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(config_set(&c, "webhook_proxy", bad[i]), HUB_EINVALID,
                     "%s", bad[i]);
    cr_expect_str_eq(c.webhook_proxy, "", "a refused value is not kept");
}

Test(config, every_key_is_documented_with_its_default, .fini = cleanup)
{
    char *ex = root_file("deploy/hubd.conf.example");
    char *readme = root_file("README.md");
    const char *sec = strstr(readme, "\n## Configuration\n");
    cr_assert_not_null(sec, "README has no Configuration section");
    const char *end = strstr(sec + 1, "\n## ");
    size_t seclen = end ? (size_t)(end - sec) : strlen(sec);

    for (size_t i = 0; config_key_name(i); i++) {
        const char *k = config_key_name(i);
        char tick[80];
        cr_expect(example_has(ex, k), "'%s' is not in hubd.conf.example", k);
        snprintf(tick, sizeof(tick), "`%s`", k);
        const char *at = strstr(sec, tick);
        cr_expect(at && at < sec + seclen,
                  "'%s' is not named in README's Configuration", k);
    }

    /* the example's values are the dev defaults; its commented keys exist */
    struct hub_config def, got;
    config_defaults(&def, PROFILE_DEV);
    config_defaults(&got, PROFILE_DEV);
    char *copy = strdup(ex), *save = NULL;
    cr_assert_not_null(copy);
    for (char *l = strtok_r(copy, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        bool commented = l[0] == '#';
        char *k = commented ? l + 1 : l;
        while (*k == ' ')
            k++;
        size_t kl = strspn(k, "abcdefghijklmnopqrstuvwxyz_");
        char *eq = k + kl;
        while (*eq == ' ')
            eq++;
        if (kl == 0 || *eq != '=')
            continue;                   /* prose, or a blank line */
        cr_expect(known_key(k, kl), "example names unknown key '%.*s'",
                  (int)kl, k);
        if (commented)
            continue;
        char *v = eq + 1;
        while (*v == ' ')
            v++;
        k[kl] = '\0';
        cr_expect_eq(config_set(&got, k, v), HUB_OK, "%s = %s", k, v);
        cr_expect_eq(memcmp(&def, &got, sizeof(def)), 0,
                     "example: '%s = %s' is not the dev default", k, v);
        memcpy(&got, &def, sizeof(got));
    }
    free(copy);

    /* the README table's first column names known keys (or DATABASE_URL) */
    for (const char *l = sec; l && l < sec + seclen; l = next_line(l)) {
        if (strncmp(l, "| `", 3))
            continue;
        const char *cell_end = strstr(l + 1, " |");
        for (const char *t = strchr(l, '`'); t && t < cell_end;
             t = strchr(t, '`')) {
            const char *te = strchr(t + 1, '`');
            cr_assert_not_null(te);
            size_t n = (size_t)(te - t - 1);
            cr_expect(known_key(t + 1, n) ||
                      (n == 12 && !strncmp(t + 1, "DATABASE_URL", 12)),
                      "README names unknown key '%.*s'", (int)n, t + 1);
            t = te + 1;
        }
    }
    cr_expect_gt(readme_defaults(sec, seclen, &def), 25);
    free(readme);
    free(ex);
}

/* deploy/hubd.service says: copy the example to /etc/hub/hubd.conf and set
 * profile = production (the unit sets HUB_PROFILE=production too). That
 * copy runs with production's defaults: no dev value set in the example
 * (plain HTTP, tokens, loopback binds, var/certs, processing ids T and D,
 * migration at start) overrides them (F440). */
Test(config, the_example_file_as_production_gives_production_defaults,
     .fini = cleanup)
{
    struct hub_config c, want;
    char err[256];
    char *ex = root_file("deploy/hubd.conf.example");
    char *at = strstr(ex, "\nprofile = dev\n");
    cr_assert_not_null(at, "the example sets no 'profile = dev' line");
    size_t head = (size_t)(at - ex) + 1;
    char *prod = malloc(strlen(ex) + 16);
    cr_assert_not_null(prod);
    snprintf(prod, strlen(ex) + 16, "%.*sprofile = production%s", (int)head,
             ex, at + strlen("\nprofile = dev"));

    config_defaults(&want, PROFILE_PRODUCTION);
    write_conf(prod);
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(memcmp(&c, &want, sizeof(c)), 0,
                 "the example sets a value over a production default");
    cr_expect_eq(c.http_port, -1);
    cr_expect_not(c.allow_tokens);
    cr_expect_not(c.migrate_at_start);
    cr_expect_str_eq(c.tls_cert, "/etc/hub/server.crt");
    cr_expect_str_eq(c.hl7_processing_ids, "P");
    cleanup();
    setenv("HUB_PROFILE", "production", 1);
    write_conf(ex);
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(memcmp(&c, &want, sizeof(c)), 0,
                 "the example sets a value over a production default");
    free(prod);
    free(ex);
}

/* hubd.service runs hubd as the user hub: a file it may not read said
 * only "cannot open", as a missing one did (F446). The reason is said. */
Test(config, a_file_that_cannot_be_opened_says_why, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    cr_assert_eq(config_load(&c, "/nonexistent/hubd.conf", err, sizeof(err)),
                 HUB_EINVALID);
    cr_expect(strstr(err, "/nonexistent/hubd.conf: cannot open (") != NULL,
              "%s", err);
    cr_expect(strstr(err, strerror(ENOENT)) != NULL, "%s", err);
}

/* A file saved with a UTF-8 byte order mark (Notepad's way) was refused
 * for its first key, "unknown key 'profile'", the mark unseen in the
 * message (F3122): the mark is skipped, and the first line is read as
 * written, the production profile included. */
Test(config, a_byte_order_mark_is_not_the_first_key, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    write_conf("\xEF\xBB\xBFprofile = dev\nhttp_port = 18080\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(c.http_port, 18080);
    cleanup();
    write_conf("\xEF\xBB\xBFprofile = production\nhttp_port = 8080\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "http_port = -1") != NULL, "%s", err);
    cleanup();
    /* a mark elsewhere is no mark: the key is refused as before */
    write_conf("profile = dev\n\xEF\xBB\xBFhttp_port = 18080\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":2: unknown key") != NULL, "%s", err);
}

/* a key given twice was taken from its last line, silently, and
 * --check-config said ok (F3128); mllp_listener is one a line */
Test(config, a_key_given_twice_is_refused_naming_both_lines, .fini = cleanup)
{
    struct hub_config c;
    char err[512];

    write_conf("profile = dev\nhttps_port = 8443\n# API\n\n"
               "https_port = 9443\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":5: 'https_port' is given twice, on lines 2 "
                     "and 5") != NULL, "%s", err);
    cleanup();
    write_conf("profile = dev\nprofile = production\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, ":2: 'profile' is given twice, on lines 1 and 2")
              != NULL, "%s", err);
    cleanup();
    write_conf("profile = dev\nmllp_listener = 12577 clinic\n"
               "mllp_listener = 12578 plan\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_OK, "%s", err);
    cr_expect_eq(c.n_mllp, 3);
}

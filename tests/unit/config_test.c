/*
 * config_test.c - hubd configuration: defaults per profile, the file, the
 * environment over the file, and refusal of bad keys and values.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "config.h"

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
    write_conf("profile = production\nhttp_port = 8080\n");
    cr_assert_eq(config_load(&c, path, err, sizeof(err)), HUB_EINVALID);
    cr_expect(strstr(err, "http_port = -1") != NULL, "%s", err);
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

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

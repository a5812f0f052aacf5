/*
 * topics_test.c - the two topic matchers agree: webhook_topic_match() (C:
 * what a subscription's topics are checked against, README's topics list)
 * and hub_sub_matches() (001_init.sql: the reference that routing follows,
 * hub_topic_like() turning '*' into '%'), on every pattern a subscription
 * may hold (each topic, each family "adt.*", each kind "*.positive", "*",
 * "hub.*") against every topic the hub makes, the hub's own included.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/canon.h"
#include "common/hub_err.h"
#include "store.h"
#include "webhook.h"
#include "../lib/storetest.h"
#include "../lib/testdb.h"

static char *url;
static struct store *s;

static void setup(void)
{
    s = storetest_open(&url, storetest_hosp_cbo, 2);
}

static void teardown(void)
{
    storetest_close(&s, &url);
}

TestSuite(topics, .init = setup, .fini = teardown, .timeout = 60);

#define MAX_TOPICS 64

/* every topic the hub makes: the data topics, then its own */
static size_t all_topics(const char *out[MAX_TOPICS])
{
    size_t n = 0;
    for (size_t i = 0; canon_topics[i] && n < MAX_TOPICS; i++)
        out[n++] = canon_topics[i];
    for (size_t i = 0; webhook_hub_topics[i] && n < MAX_TOPICS; i++)
        out[n++] = webhook_hub_topics[i];
    return n;
}

static void check(const char *pattern, const char *const *topics,
                  size_t nt, int *pairs)
{
    struct hub_err e;
    if (webhook_topic_check(pattern, &e) != HUB_OK)
        return;                 /* refused at creation: never matched */
    for (size_t j = 0; j < nt; j++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT hub_sub_matches(ARRAY['%s'], "
                 "'{}'::jsonb, '%s', 'hosp', '{}'::jsonb)::int", pattern,
                 topics[j]);
        bool c = webhook_topic_match(pattern, topics[j]);
        long q = storetest_long(s, sql);
        cr_expect_eq(q, c ? 1 : 0, "pattern '%s', topic '%s': C says %d, "
                     "SQL %ld", pattern, topics[j], c, q);
        (*pairs)++;
    }
}

Test(topics, the_sql_and_c_matchers_agree_on_every_pattern_and_topic)
{
    const char *topics[MAX_TOPICS] = { NULL };
    size_t nt = all_topics(topics);
    int pairs = 0;

    check("*", topics, nt, &pairs);
    for (size_t i = 0; i < nt; i++) {
        char fam[64], kind[64];
        const char *dot = strchr(topics[i], '.');
        cr_assert_not_null(dot);
        snprintf(fam, sizeof(fam), "%.*s.*", (int)(dot - topics[i]),
                 topics[i]);
        snprintf(kind, sizeof(kind), "*%s", dot);
        check(topics[i], topics, nt, &pairs);
        check(fam, topics, nt, &pairs);
        check(kind, topics, nt, &pairs);
    }
    /* the hub's own by their family only: "*" and "*.x" never */
    cr_expect_not(webhook_topic_match("*", "hub.health"));
    cr_expect_eq(storetest_long(s, "SELECT hub_sub_matches(ARRAY['*'], "
                 "'{}'::jsonb, 'hub.digest', 'hosp', '{}'::jsonb)::int"), 0);
    cr_expect_gt(pairs, 500, "%d pairs", pairs);
}

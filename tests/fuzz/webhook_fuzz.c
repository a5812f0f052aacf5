/*
 * webhook_fuzz.c - libFuzzer harness for what subscribers and receivers
 * control in hub/webhook.c: the subscription document (API and hubctl
 * bodies), URLs, topic patterns, secrets, Retry-After values, addresses and
 * signature headers. The fuzz build links adapters only, so the module is
 * compiled into this harness.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/webhook.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hub_err err;
    struct webhook_sub_check c = { .partial = size > 0 && (data[0] & 1) };
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (webhook_sub_validate(s, size, &c, &err) == HUB_OK)
        free(c.json_out);
    (void)webhook_url_check(s, &err);
    (void)webhook_topic_check(s, &err);
    (void)webhook_topic_match(s, "screening.positive");
    struct webhook_secret k;
    (void)webhook_secret_parse(s, &k, &err);
    (void)webhook_retry_after_ms(s, 1700000000);
    (void)webhook_addr_classify(s);
    static const char key[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    if (webhook_secret_parse(key, &k, NULL) == HUB_OK)
        (void)webhook_verify(&k, "dlv_1", "1700000000", "{}", 2, s);
    free(s);
    return 0;
}

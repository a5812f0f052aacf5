/*
 * mllp_fuzz.c - libFuzzer harness for the MLLP framer: the input is a byte
 * stream drained frame by frame, as the listener's read buffer is, with a
 * small frame limit so that the limit paths are reached. Checks that every
 * frame lies inside the input and that progress is always made; and that
 * mllp_lead's answer does not depend on the split: each prefix of the
 * input gets "more" or the whole input's answer, and "more" only for
 * fewer than MLLP_LEAD_MAX bytes.
 */
#include <stdint.h>
#include <string.h>

#include "common/hub_err.h"
#include "mllp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t len = size;
    size_t max = size ? data[0] % 64 + 1 : 16;

    enum mllp_lead whole = mllp_lead(p, len, false);
    enum mllp_lead at_eof = mllp_lead(p, len, true);
    if ((whole == MLLP_LEAD_MORE && len >= MLLP_LEAD_MAX) ||
        (whole != MLLP_LEAD_MORE && at_eof != whole) ||
        (len > 0 && at_eof == MLLP_LEAD_MORE))
        __builtin_trap();
    for (size_t k = 0; k < len && k <= MLLP_LEAD_MAX; k++) {
        enum mllp_lead part = mllp_lead(p, k, false);
        if (part != MLLP_LEAD_MORE && part != whole)
            __builtin_trap();
    }

    while (len > 0) {
        struct slice m = { NULL, 0 };
        ssize_t r = mllp_frame(p, len, max, &m);
        if (r <= 0)
            break;                      /* need more, or an error */
        if ((size_t)r > len || m.p < p || m.p + m.len > p + r ||
            m.len > max)
            __builtin_trap();
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/*
 * jsongen.c - random documents for the jcanon tests (see jsongen.h).
 */
#include "jsongen.h"

unsigned jsongen_rnd(struct jsongen *g, unsigned n)
{
    g->state = g->state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((g->state >> 33) % n);
}

static void gen_ws(struct jsongen *g, struct buf *b)
{
    static const char *const w[] = { "", "", "", " ", "\n", "\t", "\r\n  " };
    buf_puts(b, w[jsongen_rnd(g, 7)]);
}

static void gen_str(struct jsongen *g, struct buf *b)
{
    static const char *const parts[] = {
        "a", "b", "id", "hub_id", "patient", "\\n", "\\\"", "\\\\", "\\/",
        "\\u0041", "\\u001f", "\\u00e9", "\xc3\xa9", "\xe2\x9c\x93", "\\t",
        "\\b", " ", "source", "\x7f", "\\u0000", "\\ud83d\\ude00", "zz",
        "a fairly long run of plain text, past one block",
    };
    buf_putc(b, '"');
    unsigned n = jsongen_rnd(g, 4);
    for (unsigned i = 0; i < n; i++)
        buf_puts(b, parts[jsongen_rnd(g, sizeof(parts) / sizeof(parts[0]))]);
    buf_putc(b, '"');
}

static void gen_value(struct jsongen *g, struct buf *b, int depth)
{
    static const char *const nums[] = {
        "0", "1", "-1", "10", "1.0", "-2.50", "0.001", "-0", "-0.0", "1e3",
        "2E-2", "12345678901234567890", "3.14159265358979323846",
    };
    switch (jsongen_rnd(g, depth > 4 ? 5 : 8)) {
    case 0:
        buf_puts(b, nums[jsongen_rnd(g, sizeof(nums) / sizeof(nums[0]))]);
        break;
    case 1:
    case 4: gen_str(g, b); break;
    case 2: buf_puts(b, jsongen_rnd(g, 2) ? "true" : "false"); break;
    case 3: buf_puts(b, "null"); break;
    case 5:
    case 6: {
        /* past 32 members now and then */
        unsigned n = jsongen_rnd(g, 40) == 0 ? 40 : jsongen_rnd(g, 6);
        buf_putc(b, '{');
        for (unsigned i = 0; i < n; i++) {
            if (i) {
                buf_putc(b, ',');
                gen_ws(g, b);
            }
            gen_str(g, b);
            gen_ws(g, b);
            buf_putc(b, ':');
            gen_ws(g, b);
            gen_value(g, b, depth + 1);
        }
        buf_putc(b, '}');
        break;
    }
    default: {
        unsigned n = jsongen_rnd(g, 4);
        buf_putc(b, '[');
        for (unsigned i = 0; i < n; i++) {
            if (i)
                buf_putc(b, ',');
            gen_ws(g, b);
            gen_value(g, b, depth + 1);
        }
        buf_putc(b, ']');
    }
    }
}

void jsongen_doc(struct jsongen *g, struct buf *b)
{
    gen_ws(g, b);
    if (jsongen_rnd(g, 4)) {
        buf_putc(b, '{');
        gen_str(g, b);
        buf_putc(b, ':');
        gen_value(g, b, 1);
        buf_putc(b, ',');
        gen_str(g, b);
        buf_putc(b, ':');
        gen_value(g, b, 1);
        buf_putc(b, '}');
    } else {
        gen_value(g, b, 0);
    }
    gen_ws(g, b);
}

/*
 * batch.c - the HL7 v2 batch file envelope (batch protocol, v2.5 ch. 2.10.3;
 * v2.3 ch. 2.23.3): [FHS] { [BHS] { MSH ... } [BTS] } [FTS]. The envelope
 * is read and checked here; each message inside is handed back as its own
 * slice, to be parsed and acknowledged exactly as if it had been sent alone.
 * The answer is a batch of those ACKs (option "all messages are acknowledged
 * in the response batch"), BHS-12/FHS-12 echoing the sender's BHS-11/FHS-11.
 * Pure: no I/O, no clock; errors carry a segment ID and a byte offset only.
 */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "hl7v2/hl7v2_int.h"

/* The bytes of a UTF-8 byte order mark at p[0..len): Windows tools write
 * one at the start of an exported file. */
static size_t bom_len(const char *p, size_t len)
{
    return len >= 3 && (unsigned char)p[0] == 0xef &&
                   (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf
               ? 3
               : 0;
}

bool hl7_is_batch(const char *p, size_t len)
{
    size_t i = bom_len(p, len);
    while (i < len && hl7_is_space((unsigned char)p[i]))
        i++;
    return len - i >= 4 && (p[i] == 'F' || p[i] == 'B') &&
           p[i + 1] == 'H' && p[i + 2] == 'S' &&
           hl7_delim_ok((unsigned char)p[i + 3]);
}

/* The segment at p[0..len) is `id` followed by the field separator or by
 * nothing (BTS and FTS have only optional fields). */
static bool seg_is(const char *p, size_t len, const char *id, char fs)
{
    return len >= 3 && memcmp(p, id, 3) == 0 && (len == 3 || p[3] == fs);
}

/* Field n (n >= 1, as in the standard) of a trailer or header segment;
 * headers count their field separator as field 1, as MSH does. */
static struct slice raw_field(struct slice seg, char fs, unsigned n,
                              bool header)
{
    unsigned k = header ? 2 : 1;
    const char *q = seg.p + 4, *end = seg.p + seg.len;

    if (seg.len <= 4 || (header && n < 2))
        return SLICE_NULL;
    for (; k < n; k++) {
        q = memchr(q, fs, (size_t)(end - q));
        if (q == NULL)
            return SLICE_NULL;
        q++;
    }
    const char *e = memchr(q, fs, (size_t)(end - q));
    return (struct slice){ q, (size_t)((e ? e : end) - q) };
}

/* BTS-1 / FTS-1: digits (spaces around them allowed), or empty: -1. */
static int read_count(struct slice s, long *out)
{
    s = slice_trim(s);
    *out = -1;
    if (s.len == 0)
        return HUB_OK;
    if (s.len > 9)
        return HUB_EINVALID;
    long v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return HUB_EINVALID;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return HUB_OK;
}

/* A stray line's place: its segment ID when it looks like one (three
 * capitals or digits, then the field separator or the line's end), else
 * "segment": never bytes that could be data (a name sent in capitals,
 * "DOE^JANE", on a line of its own was named "DOE", in the log, the 400
 * and the quarantined body's error, F4145). */
static void place_of(const char *p, size_t len, char fs, char out[8])
{
    bool id = len == 3 || (len > 3 && p[3] == fs);
    for (size_t i = 0; id && i < 3; i++)
        id = (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9');
    if (id) {
        memcpy(out, p, 3);
        out[3] = '\0';
    } else {
        memcpy(out, "segment", 8);
    }
}

static void close_msg(struct hl7_batch_file *f, struct slice *msgs,
                      const char **msg_start, const char *msg_end)
{
    if (*msg_start) {
        msgs[f->n_msgs++] = (struct slice){
            *msg_start, (size_t)(msg_end - *msg_start) };
        *msg_start = NULL;
    }
}

int hl7_batch_read(const char *p, size_t len, struct hl7_batch_file *f,
                   struct slice *msgs, size_t max, struct hub_err *err)
{
    if (p == NULL)
        p = "";                     /* no bytes: an empty envelope */
    const char *end = p + len, *q = p + bom_len(p, len);
    const char *msg_start = NULL, *msg_end = NULL;
    struct hl7_batch *b = NULL;     /* the batch open now, if any */
    bool in_file = false, file_done = false, any_bhs = false;
    char fs = '|';
    char place[8];

    memset(f, 0, sizeof(*f));
    while (q < end) {
        /* one line: a segment, ended by CR, LF or CR LF */
        const char *s = q;
        while (q < end && *q != '\r' && *q != '\n')
            q++;
        const char *e = q;
        if (q < end && *q == '\r')
            q++;
        if (q < end && *q == '\n')
            q++;
        const char *t = s;
        while (t < e && (*t == ' ' || *t == '\t'))
            t++;
        if (t == e)
            continue;               /* blank lines between segments */
        size_t off = (size_t)(t - p), sl = (size_t)(e - t);
        if (file_done) {
            place_of(t, sl, fs, place);
            return hub_err_set(err, HUB_ESYNTAX, place, off,
                               "a segment after FTS, the end of the file");
        }
        if (sl >= 4 && memcmp(t, "FHS", 3) == 0 &&
            hl7_delim_ok((unsigned char)t[3])) {
            if (in_file || f->nb || f->n_msgs)
                return hub_err_set(err, HUB_ESYNTAX, "FHS", off,
                                   "FHS after the file's first segment: "
                                   "files do not nest");
            fs = t[3];
            f->fhs = (struct slice){ t, sl };
            in_file = true;
            continue;
        }
        if (sl >= 4 && memcmp(t, "BHS", 3) == 0 &&
            hl7_delim_ok((unsigned char)t[3])) {
            if (b && b->has_bhs)
                return hub_err_set(err, HUB_ESYNTAX, "BHS", b->offset,
                                   "BHS without BTS: the batch it opens "
                                   "has no trailer before the next BHS");
            if (b || msg_start)
                return hub_err_set(err, HUB_ESYNTAX, "BHS", off,
                                   "BHS after messages outside any batch");
            if (f->nb == HL7_BATCH_MAX)
                return hub_err_set(err, HUB_ELIMIT, "BHS", off,
                                   "too many batches in one file");
            if (!in_file)
                fs = t[3];
            b = &f->b[f->nb++];
            b->bhs = (struct slice){ t, sl };
            b->has_bhs = true;
            b->first = f->n_msgs;
            b->offset = off;
            any_bhs = true;
            continue;
        }
        if (seg_is(t, sl, "BTS", fs)) {
            close_msg(f, msgs, &msg_start, msg_end);
            if (b == NULL || !b->has_bhs)
                return hub_err_set(err, HUB_ESYNTAX, "BTS", off,
                                   "BTS without its BHS");
            b->n = f->n_msgs - b->first;
            if (read_count(raw_field((struct slice){ t, sl }, fs, 1, false),
                           &b->declared) != HUB_OK)
                return hub_err_set(err, HUB_EINVALID, "BTS-1", off,
                                   "BTS-1 (batch message count) is not a "
                                   "number");
            if (b->declared >= 0 && (size_t)b->declared != b->n)
                return hub_err_set(err, HUB_EINVALID, "BTS-1", off,
                                   "BTS-1 (batch message count) differs "
                                   "from the messages in the batch: the "
                                   "batch may be cut or joined; nothing in "
                                   "it was taken");
            b = NULL;
            continue;
        }
        if (seg_is(t, sl, "FTS", fs)) {
            close_msg(f, msgs, &msg_start, msg_end);
            if (b && b->has_bhs)
                return hub_err_set(err, HUB_ESYNTAX, "BHS", b->offset,
                                   "BHS without BTS before FTS");
            if (!in_file)
                return hub_err_set(err, HUB_ESYNTAX, "FTS", off,
                                   "FTS without its FHS");
            if (b)                          /* messages with no BHS */
                b->n = f->n_msgs - b->first;
            long declared;
            if (read_count(raw_field((struct slice){ t, sl }, fs, 1, false),
                           &declared) != HUB_OK)
                return hub_err_set(err, HUB_EINVALID, "FTS-1", off,
                                   "FTS-1 (file batch count) is not a "
                                   "number");
            /* a file whose messages come with no BHS holds the one
             * batch the hub reads them as, and no batch header: Oazis
             * (a Belgian HIS) counts the headers, FTS|0 (F265) */
            if (declared >= 0 && (size_t)declared != f->nb &&
                !(declared == 0 && !any_bhs))
                return hub_err_set(err, HUB_EINVALID, "FTS-1", off,
                                   "FTS-1 (file batch count) differs from "
                                   "the batches in the file: the file may "
                                   "be cut or joined; nothing in it was "
                                   "taken");
            b = NULL;
            in_file = false;
            file_done = true;
            continue;
        }
        if (sl >= 3 && memcmp(t, "MSH", 3) == 0) {
            close_msg(f, msgs, &msg_start, msg_end);
            if (b == NULL) {
                /* FHS then messages with no BHS: the standard's BHS is
                 * optional; once a file uses BHS, every batch has one */
                if (any_bhs || !in_file)
                    return hub_err_set(err, HUB_ESYNTAX, "MSH", off,
                                       "a message outside any batch "
                                       "(after BTS, before the next BHS)");
                if (f->nb == HL7_BATCH_MAX)
                    return hub_err_set(err, HUB_ELIMIT, "MSH", off,
                                       "too many batches in one file");
                b = &f->b[f->nb++];
                b->first = f->n_msgs;
                b->offset = off;
            }
            if (f->n_msgs == max)
                return hub_err_set(err, HUB_ELIMIT, "MSH", off,
                                   "too many messages in one request");
            msg_start = t;
        } else if (msg_start == NULL) {
            place_of(t, sl, fs, place);
            return hub_err_set(err, HUB_ESYNTAX, place, off,
                               "a segment outside any message: only MSH "
                               "may follow FHS, BHS or a BTS");
        }
        /* the message keeps its last segment's CR, as sent alone */
        msg_end = e < end && *e == '\r' ? e + 1 : e;
    }
    close_msg(f, msgs, &msg_start, msg_end);
    if (b && b->has_bhs)
        return hub_err_set(err, HUB_ESYNTAX, "BHS", b->offset,
                           "BHS without BTS: the batch has no trailer");
    if (in_file)
        return hub_err_set(err, HUB_ESYNTAX, "FHS", (size_t)(f->fhs.p - p),
                           "FHS without FTS: the file has no trailer");
    if (b)
        b->n = f->n_msgs - b->first;
    return HUB_OK;
}

/* A response header: the received one's applications and facilities
 * swapped (fields 3-6), our time and id (7, 11), its id echoed (12). */
static void answer_header(struct buf *o, const char *id, struct slice hdr,
                          char fs, const char *ctl_id, const char *now)
{
    struct slice enc = raw_field(hdr, fs, 2, true);
    char sep[2] = { fs, '\0' };

    buf_puts(o, id);
    buf_puts(o, sep);
    buf_append(o, enc.p, enc.len);
    static const unsigned swap[] = { 5, 6, 3, 4 };
    for (unsigned k = 0; k < 4; k++) {
        struct slice v = raw_field(hdr, fs, swap[k], true);
        buf_puts(o, sep);
        buf_append(o, v.p, v.len);
    }
    buf_puts(o, sep);
    buf_puts(o, now);
    buf_puts(o, sep);
    buf_puts(o, sep);
    buf_puts(o, sep);
    buf_puts(o, sep);
    /* FHS-11/BHS-11 are ST of 20 (F324) */
    size_t n = strlen(ctl_id);
    buf_puts(o, n > HL7_ACK_ID_MAX ? ctl_id + n - HL7_ACK_ID_MAX : ctl_id);
    struct slice ref = raw_field(hdr, fs, 11, true);
    buf_puts(o, sep);
    buf_append(o, ref.p, ref.len);
    buf_puts(o, "\r");
}

static void trailer(struct buf *o, const char *id, char fs, size_t n)
{
    char t[32];
    snprintf(t, sizeof(t), "%s%c%zu\r", id, fs, n);
    buf_puts(o, t);
}

int hl7_batch_ack(struct arena *a, const struct hl7_batch_file *f,
                  const struct slice *acks, const char *ctl_id,
                  const char *now, struct slice *out)
{
    struct buf o;
    char fs = f->fhs.len > 3 ? f->fhs.p[3]
              : f->nb && f->b[0].has_bhs ? f->b[0].bhs.p[3] : '|';

    buf_init(&o, a, HL7_MAX_MESSAGE * 4);
    if (f->fhs.len)
        answer_header(&o, "FHS", f->fhs, fs, ctl_id, now);
    for (unsigned i = 0; i < f->nb; i++) {
        const struct hl7_batch *b = &f->b[i];
        if (b->has_bhs)
            answer_header(&o, "BHS", b->bhs, fs, ctl_id, now);
        for (size_t k = b->first; k < b->first + b->n; k++) {
            buf_append(&o, acks[k].p, acks[k].len);
            if (acks[k].len && acks[k].p[acks[k].len - 1] != '\r')
                buf_puts(&o, "\r");
        }
        if (b->has_bhs)
            trailer(&o, "BTS", fs, b->n);
    }
    if (f->fhs.len)
        trailer(&o, "FTS", fs, f->nb);
    if (o.err)
        return HUB_ELIMIT;
    *out = buf_slice(&o);
    return HUB_OK;
}

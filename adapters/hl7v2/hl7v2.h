/*
 * hl7v2.h - parse HL7 v2.x messages (2.2 to 2.8) into canonical events,
 * and build the ACKs that answer them.
 * Pure: no I/O, no clock, no globals; all memory from the caller's arena.
 * Failures say where (segment, field, byte offset), never what the value was.
 */
#ifndef HUB_HL7V2_H
#define HUB_HL7V2_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "common/slice.h"

#define HL7_MAX_MESSAGE (4u << 20)  /* bytes */
#define HL7_MAX_SEGMENTS 2000
#define HL7_MAX_FIELDS 300          /* per segment */
#define HL7_MAX_REPS 100            /* per field */

struct hl7_msg;                     /* opaque; fields point into the input */

/*
 * Parse one message. Returns HUB_OK and sets *out, which borrows `p` and
 * lives as long as `p` and `a` both do; or returns a negative HUB_E* and
 * fills *err. On failure *out is still set when the MSH segment itself was
 * readable (else NULL), so that the ACK can echo MSH-10 in the sender's
 * version and delimiters. A batch file (starting FHS or BHS) is
 * HUB_EUNSUPPORTED at "FHS"/"BHS": one message per call.
 * Character set: a message whose bytes are not valid UTF-8 is read from
 * its UTF-8 translation (made in `a`; *out then borrows that, and later
 * offsets count its bytes): ISO 8859-15 when MSH-18 says "8859/15",
 * Windows-1252 when it says "8859/1" or "ASCII" or nothing, the set's
 * table (common/sbcs.h) for "8859/2" to "8859/9", "CP1250" and "CP1251"
 * (and the IANA names of all of these). A 7-bit
 * message with an ESC byte whose MSH-18 names "ISO IR87" or "ISO IR159" in
 * any repetition (SS-MIX2 sends "~ISO IR87") is read from its UTF-8
 * translation as ISO-2022-JP (glibc iconv; only such a message pays for
 * iconv_open), made before the message is split: its JIS characters can
 * hold delimiter bytes. A valid UTF-8 message, or one in another declared
 * set, is read as sent. HL7's own switches to those sets (v2.3 ch. 2.9.2:
 * \M2442\ for ESC $ B, \C2842\ back to ASCII) are decoded value by value
 * (hl7_get, the events) when MSH-18 names the set. JIS X 0208 is read by
 * its standard table (0x215D is U+2212 MINUS SIGN, not Microsoft's
 * U+FF0D: tests/data/real/SOURCES.md, finding 28).
 */
int hl7_parse(struct arena *a, const char *p, size_t len,
              struct hl7_msg **out, struct hub_err *err)
    __attribute__((warn_unused_result));

/* MSH-10, the sender's message control id (the idempotency key). */
struct slice hl7_control_id(const struct hl7_msg *m);
/* MSH-9.1 and MSH-9.2 ("ADT", "A01") and MSH-12.1 ("2.5.1"). */
struct slice hl7_message_type(const struct hl7_msg *m);
struct slice hl7_trigger(const struct hl7_msg *m);
struct slice hl7_version(const struct hl7_msg *m);
/* MSH-11.1, the processing ID (table 0103: P production, T training, D
 * debugging), trimmed, empty when absent; *offset (when not NULL) its byte
 * offset in the bytes sent (of the MSH segment when the field is absent),
 * for the refusal that names it. The hub decides which it takes. */
struct slice hl7_processing_id(const struct hl7_msg *m, size_t *offset);
/* MSH-3.1 and MSH-4.1, raw: recorded, never trusted as identity. */
struct slice hl7_sending_application(const struct hl7_msg *m);
struct slice hl7_sending_facility(const struct hl7_msg *m);

/*
 * The value at SEG-field(rep).comp.sub of the nth (0-based) segment with that
 * ID: field, comp and sub count from 1 as in the standard (comp or sub 0 =
 * the whole field repetition or component), rep from 0. Unescaped into `a`
 * when it holds escapes; the HL7 null "" and absent values are empty.
 */
struct slice hl7_get(struct arena *a, const struct hl7_msg *m, const char *seg,
                     unsigned nth, unsigned field, unsigned rep, unsigned comp,
                     unsigned sub);

/*
 * Normalize an ADT message to canonical events (one per message today,
 * appended to *out). HUB_EUNSUPPORTED for a message type or trigger the hub
 * does not take (the ACK is then AR), HUB_EINVALID with the field for a
 * value that breaks the message (AE).
 */
int hl7_to_events(struct arena *a, const struct hl7_msg *m,
                  struct canon_list *out, struct hub_err *err)
    __attribute__((warn_unused_result));

/* A non-fatal finding, as on the events ("warnings"): a value left out or
 * kept although doubtful, a required segment missing. Place and static
 * text only, never a value. */
#define HL7_MAX_WARNINGS 32
struct hl7_warning {
    const char *field;          /* static: "PID-7", "PV1" */
    const char *what;           /* static: "birth date is before 1880" */
    unsigned seq;               /* its segment's ordinal among the
                                   message's segments of that ID, from 1
                                   (the ACK's ERR-2.2); 0 when none (a
                                   segment missing): read as 1 */
};
struct hl7_warnings {
    struct hl7_warning w[HL7_MAX_WARNINGS];
    unsigned n;
};

/* hl7_to_events, and the warnings of its events (once each, in the order
 * met) in *warn, for the sender's ACK (hl7_ack_warn). */
int hl7_to_events_warn(struct arena *a, const struct hl7_msg *m,
                       struct canon_list *out, struct hl7_warnings *warn,
                       struct hub_err *err)
    __attribute__((warn_unused_result));

/* hl7_to_events_warn with the data dictionary, as hubd normalizes: each
 * DG1 code (and its alternate, CE/CWE 4-6) gets the sensitivity label the
 * one classifier of every adapter gives it (dict_code_sensitivity: the
 * dictionary's ICD-10 rows, sud for F10-F19 and hiv for B20 and Z21; its
 * SNOMED CT tables, under SCT or SNM, SNM3, SNOMED CT as feeds name it;
 * ICD-9-CM 291-305 sud and its psychiatric codes psy, under I9, I9C,
 * I9CM, I9CDX...), as FHIR and C-CDA diagnoses get it; a code in no
 * system is read as ICD-10. `d` NULL (hl7_to_events): ICD-9-CM only. */
struct dict;
int hl7_to_events_dict(struct arena *a, const struct dict *d,
                       const struct hl7_msg *m, struct canon_list *out,
                       struct hl7_warnings *warn, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * Build the ACK for `m` (NULL when not even MSH could be read: a v2.5 ACK
 * with the hub's default delimiters). `code` is "AA", "AE" or "AR"; `err`,
 * when not NULL, adds an ERR segment (location and static text only).
 * The ACK is in the sender's version and delimiters, MSA-2 = MSH-10 (as
 * sent: see hl7_ack_warn), sending and receiving application/facility
 * swapped, MSH-18 (character set) as sent when there was one. `ack_id`
 * becomes the ACK's own MSH-10 (its last HL7_ACK_ID_MAX characters before
 * v2.7, where MSH-10 is ST of 20) and `now` (YYYYMMDDHHMMSS+ZZZZ) its
 * MSH-7: the caller supplies both because adapters read no clock.
 * Segments end in CR.
 */
#define HL7_ACK_ID_MAX 20
int hl7_ack(struct arena *a, const struct hl7_msg *m, const char *code,
            const struct hub_err *err, const char *ack_id, const char *now,
            struct slice *out);

/*
 * hl7_ack with one more ERR segment per warning (severity W from v2.5;
 * before it ERR-1 alone, as for an error): an AA that tells the sender
 * what was doubtful. `warn` may be NULL. Echoed MSH values are the bytes
 * the sender sent (a Latin text read through its UTF-8 translation is
 * answered in its own set).
 */
int hl7_ack_warn(struct arena *a, const struct hl7_msg *m, const char *code,
                 const struct hub_err *err, const struct hl7_warnings *warn,
                 const char *ack_id, const char *now, struct slice *out);

/*
 * Batch files (batch protocol, v2.5 ch. 2.10.3): [FHS] { [BHS] { MSH ... }
 * [BTS] } [FTS]. hl7_is_batch: the bytes (after a UTF-8 byte order mark
 * and blank lines) start with FHS or BHS and a delimiter; a message does
 * not pay for batch support beyond that compare. hl7_batch_read checks the envelope and sets
 * msgs[0..f->n_msgs) to the messages (each parsed later as if sent alone).
 * Refused whole, nothing taken: a BHS without BTS (or the reverse), an FHS
 * without FTS or not first, a segment outside any message, a segment after
 * FTS (HUB_ESYNTAX); BTS-1 or FTS-1 that is not the count of messages or
 * batches (HUB_EINVALID: HL7 rejects a batch as a whole only when it may be
 * corrupt, and a count that differs says a part was lost or added); more
 * than `max` messages or HL7_BATCH_MAX batches (HUB_ELIMIT). err names the
 * segment (or "BTS-1") and its byte offset, never a value.
 * The slices borrow `p`.
 */
#define HL7_BATCH_MAX 256           /* batches in one file */
struct hl7_batch {
    struct slice bhs;               /* as sent, without terminator */
    bool has_bhs;                   /* false: messages right under FHS */
    size_t first, n;                /* its messages: msgs[first..first+n) */
    long declared;                  /* BTS-1, -1 when empty */
    size_t offset;                  /* of its BHS (or first MSH) */
};
struct hl7_batch_file {
    struct slice fhs;               /* SLICE_NULL when none */
    struct hl7_batch b[HL7_BATCH_MAX];
    unsigned nb;
    size_t n_msgs;
};
bool hl7_is_batch(const char *p, size_t len);
int hl7_batch_read(const char *p, size_t len, struct hl7_batch_file *f,
                   struct slice *msgs, size_t max, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * The response batch: every message's ACK (acks[i] answers msgs[i]) in
 * the file's own envelope, each header with the sender's applications and
 * facilities swapped, `now` as its date (-7), `ctl_id` as its control id
 * (-11) and the received control id in -12 (Reference Batch/File Control
 * ID); BTS-1 and FTS-1 count what is inside. Segments end in CR.
 */
int hl7_batch_ack(struct arena *a, const struct hl7_batch_file *f,
                  const struct slice *acks, const char *ctl_id,
                  const char *now, struct slice *out);

#endif

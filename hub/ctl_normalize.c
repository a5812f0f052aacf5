/*
 * ctl_normalize.c - `hubctl normalize [--csv KIND] [--config FILE] FILE...`:
 * what hubd would make of a sender's sample, without a database and without
 * storing anything. For an interface analyst before go-live: the canonical
 * events, or the refusal with its place, and the very answer the sender
 * would get (the HL7 ACK, or the HTTP body), from the same prepare
 * functions hubd runs (ingest_prepare_hl7, _fhir, _ccda, _csv) with hubd's
 * settings (FILE, else $HUB_CONFIG, then HUB_<KEY>) and dictionary.
 *
 * The format is read from the bytes: MLLP frames, MSH, FHS or BHS is HL7 v2
 * (several messages per file, as POST /v1/hl7v2 takes them), '{' FHIR
 * JSON, '<' C-CDA. CSV says its layout: --csv screenings|referral-status
 * (one FILE) or --csv shinny (the set's files, or its directory, sent as
 * one multipart upload). What a database decides is not shown: duplicates, patient
 * links, routing.
 *
 * stdout: each event as one JSON line, every other line starting "# " (so
 * `grep -v '^#' | jq` reads the events). The output holds the sample's
 * data, as the sample does: it is the operator's own terminal, never a
 * log. Exit status 0 when everything was accepted, 1 when something was
 * refused or could not be read, 2 for a usage error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "config.h"
#include "ctl.h"
#include "dict_files.h"
#include "hl7v2/hl7v2.h"
#include "ingest.h"
#include "ingest_split.h"
#include "ingest_docs.h"
#include "readfile.h"

int ctl_normalize(struct ctl *c, int argc, char **argv);

#define CTL_ORG "hubctl"


enum format { F_HL7, F_FHIR, F_CCDA, F_UNKNOWN };

/* Whether the file is XML in UTF-16, as hubd's C-CDA reader takes it
 * (XML 1.0 4.3.3 and F.1): a byte order mark, or "<" as the first code
 * unit, then blanks and "<". Each ASCII character is a code unit whose
 * other byte is 0; `lo` is where the character's byte is. */
static bool utf16_markup(const unsigned char *p, size_t n)
{
    size_t i = 2;
    int lo;
    if (n < 2)
        return false;
    if (p[0] == 0xff && p[1] == 0xfe)
        lo = 0;
    else if (p[0] == 0xfe && p[1] == 0xff)
        lo = 1;
    else if ((p[0] == '<' && p[1] == 0) || (p[0] == 0 && p[1] == '<'))
        return true;
    else
        return false;
    for (; i + 1 < n && p[i + 1 - lo] == 0; i += 2) {
        unsigned char c = p[i + lo];
        if (c == '<')
            return true;
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return false;
}

static enum format sniff(const char *p, size_t n)
{
    if (utf16_markup((const unsigned char *)p, n))
        return F_CCDA;
    size_t i = n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
                     p[i] == '\n'))
        i++;
    if (i < n && p[i] == 0x0b)
        return F_HL7;
    if (n - i >= 3 && (memcmp(p + i, "MSH", 3) == 0 ||
                       memcmp(p + i, "FHS", 3) == 0 ||
                       memcmp(p + i, "BHS", 3) == 0))
        return F_HL7;
    if (i < n && p[i] == '{')
        return F_FHIR;
    if (i < n && p[i] == '<')
        return F_CCDA;
    return F_UNKNOWN;
}

/* The answer as the sender gets it: an HL7 ACK a segment a line, a body as
 * it is; each line after "# ". */
static void print_answer(struct slice a)
{
    fputs("# answer:\n#   ", stdout);
    for (size_t i = 0; i < a.len; i++) {
        char ch = a.p[i];
        if (ch == '\r' || ch == '\n') {
            if (i + 1 < a.len && ch == '\r' && a.p[i + 1] == '\n')
                i++;
            if (i + 1 < a.len)
                fputs("\n#   ", stdout);
        } else {
            putchar(ch);
        }
    }
    putchar('\n');
}

/* One prepared job: its summary, answer and events; whether it was
 * accepted whole (no CSV row or FHIR batch entry refused). */
static bool report(const char *what, struct ingest_job *j, bool hl7)
{
    bool ok = j->msg.accepted;
    if (ok) {
        printf("# %s: accepted%s%s%s, %zu event%s\n", what, hl7 ? " (" : "",
               hl7 ? j->ack_code : "", hl7 ? ")" : "", j->events.n,
               j->events.n == 1 ? "" : "s");
    } else {
        printf("# %s: refused%s%s%s: %s at %s", what, hl7 ? " (" : "",
               hl7 ? j->ack_code : "", hl7 ? ")" : "",
               hub_strerror(j->err.code),
               j->err.field[0] ? hub_err_field(&j->err) : "-");
        if (j->err.offset)
            printf(", byte %zu", j->err.offset);
        printf(": %s\n", j->err.what ? j->err.what : "refused");
    }
    print_answer(ingest_job_answer(j));
    if (j->n_parts)
        printf("# %zu part%s refused (rows or entries: see the answer)\n",
               j->n_parts, j->n_parts == 1 ? "" : "s");
    for (size_t k = 0; ok && k < j->events.n; k++)
        printf("%.*s\n", (int)j->events.ev[k].json.len, j->events.ev[k].json.p);
    return ok && j->n_parts == 0;   /* a refused row is a refusal too */
}

static int hl7_file(const struct hub_config *cfg, const struct dict *d,
                    const char *path, const char *p, size_t n)
{
    size_t max = cfg->max_messages_per_request;
    struct slice *msgs = calloc(max ? max : 1, sizeof(*msgs));
    struct hub_err err = { 0 };
    long count;
    if (msgs == NULL)
        abort();
    if (hl7_is_batch(p, n)) {
        struct hl7_batch_file *f = malloc(sizeof(*f));
        if (f == NULL)
            abort();
        int rc = hl7_batch_read(p, n, f, msgs, max, &err);
        count = rc == HUB_OK ? (long)f->n_msgs : -3;
        free(f);
    } else {
        count = ingest_hl7_split((struct slice){ p, n }, cfg->max_frame, msgs,
                                 max);
    }
    if (count < 0) {
        if (count == -3)
            printf("# %s: batch refused: %s at %s, byte %zu: %s\n", path,
                   hub_strerror(err.code), hub_err_field(&err), err.offset,
                   err.what ? err.what : "refused");
        else
            printf("# %s: %s\n", path,
                   count == -1 ? "more messages than max_messages_per_request"
                               : "broken MLLP framing");
        free(msgs);
        return 1;
    }
    int status = count == 0 ? 1 : 0;
    if (count == 0)
        printf("# %s: no HL7 v2 message\n", path);
    for (long i = 0; i < count; i++) {
        struct ingest_job *j = ingest_job_new();
        char what[4200];
        ingest_prepare_hl7(j, d, cfg->hl7_processing_ids, CTL_ORG, msgs[i].p,
                           msgs[i].len);
        snprintf(what, sizeof(what), "%s: message %ld of %ld", path, i + 1,
                 count);
        if (!report(what, j, true))
            status = 1;
        ingest_job_free(j);
    }
    free(msgs);
    return status;
}

static int doc_file(const struct dict *d, enum format f, const char *path,
                    const char *p, size_t n)
{
    struct ingest_job *j = ingest_job_new();
    struct docs_meta meta = { 0 };
    if (f == F_FHIR)
        ingest_prepare_fhir(j, d, CTL_ORG, &meta, p, n);
    else
        ingest_prepare_ccda(j, d, CTL_ORG, &meta, p, n);
    bool ok = report(path, j, false);
    ingest_job_free(j);
    return ok ? 0 : 1;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The files as one multipart/form-data body (RFC 7578), as `curl -F`
 * sends a SHIN-NY set. */
#define MP_BOUNDARY "hubctl-normalize-7f3a9c"
static char *multipart(char **bodies, size_t *lens, const char **names,
                       int n, size_t *out_len)
{
    size_t cap = 64;
    for (int i = 0; i < n; i++)
        cap += lens[i] + strlen(names[i]) + 160;
    char *o = malloc(cap), *w = o;
    for (int i = 0; i < n; i++) {
        w += snprintf(w, cap - (size_t)(w - o),
                      "--" MP_BOUNDARY "\r\nContent-Disposition: form-data; "
                      "name=\"f%d\"; filename=\"%s\"\r\nContent-Type: "
                      "text/csv\r\n\r\n",
                      i, names[i]);
        memcpy(w, bodies[i], lens[i]);
        w += lens[i];
        memcpy(w, "\r\n", 2);
        w += 2;
    }
    w += snprintf(w, cap - (size_t)(w - o), "--" MP_BOUNDARY "--\r\n");
    *out_len = (size_t)(w - o);
    return o;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.csv files of directory `dir`, sorted, into paths (malloc'd, at
 * most max); their count, or -1 when it cannot be read. */
static int csv_of_dir(const char *dir, char **paths, int max)
{
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL && n < max) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcasecmp(e->d_name + l - 4, ".csv") != 0)
            continue;
        size_t size = strlen(dir) + l + 2;
        paths[n] = malloc(size);
        if (paths[n] == NULL)
            abort();
        snprintf(paths[n++], size, "%s/%s", dir, e->d_name);
    }
    closedir(dh);
    qsort(paths, (size_t)n, sizeof(*paths), by_name);
    return n;
}

static int csv_files(const struct hub_config *cfg, const struct dict *d,
                     const char *kind, int n, const char *const *paths)
{
    /* a SHIN-NY set given as its directory */
    struct stat st;
    if (n == 1 && stat(paths[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        char *in_dir[CTL_MAX_ARGS];
        int k = csv_of_dir(paths[0], in_dir, CTL_MAX_ARGS);
        if (k <= 0) {
            fprintf(stderr, "hubctl: no .csv file in %s\n", paths[0]);
            return 1;
        }
        int rc = csv_files(cfg, d, kind, k, (const char *const *)in_dir);
        for (int i = 0; i < k; i++)
            free(in_dir[i]);
        return rc;
    }
    char *bodies[CTL_MAX_ARGS] = { NULL };
    size_t lens[CTL_MAX_ARGS];
    const char *names[CTL_MAX_ARGS];
    int status = 0;
    bool set = strcmp(kind, "shinny") == 0;
    if (!set && n != 1) {
        fprintf(stderr, "hubctl: --csv %s takes one file\n", kind);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        names[i] = base_name(paths[i]);
        if (read_file(paths[i], cfg->max_body, &bodies[i], &lens[i]) != HUB_OK) {
            bodies[i] = NULL;
            fprintf(stderr, "hubctl: cannot read %s (or it is over max_body)"
                    "\n", paths[i]);
            status = 1;
        }
    }
    if (status == 0) {
        struct ingest_job *j = ingest_job_new();
        struct docs_meta meta = { 0 };
        if (set) {
            size_t len;
            char *body = multipart(bodies, lens, names, n, &len);
            meta.content_type = "multipart/form-data; boundary=" MP_BOUNDARY;
            ingest_prepare_csv(j, d, CTL_ORG, kind, &meta, body, len);
            free(body);
        } else {
            meta.file_name = names[0];
            ingest_prepare_csv(j, d, CTL_ORG, kind, &meta, bodies[0], lens[0]);
        }
        status = report(set ? "the set" : paths[0], j, false) ? 0 : 1;
        ingest_job_free(j);
    }
    for (int i = 0; i < n; i++)
        free(bodies[i]);
    return status;
}

int ctl_normalize(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    struct hub_config cfg;
    struct dict *d;
    struct dict_err derr;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "csv,config", NULL, &a)) ||
        a.npos == 0)
        return rc ? rc : ctl_usage_error(c);
    const char *kind = ctl_opt(&a, "csv");
    if (kind && strcmp(kind, "screenings") != 0 &&
        strcmp(kind, "referral-status") != 0 && strcmp(kind, "shinny") != 0)
        return ctl_usage_error(c);
    if ((rc = ctl_config(&a, &cfg)) != 0)
        return rc;
    if ((rc = dict_files_load(cfg.dict_dir, &d, &derr)) != HUB_OK) {
        fprintf(stderr, "hubctl: the data dictionary: %s: %s (%s)\n",
                derr.file, derr.what ? derr.what : "failed",
                hub_strerror(rc));
        if (rc == HUB_EIO || rc == HUB_ENOTFOUND)
            fprintf(stderr, "hubctl: dict_dir is %s, relative to the "
                    "current directory unless absolute: run from the "
                    "hub's directory, or set dict_dir (--config FILE, or "
                    "HUB_DICT_DIR)\n", cfg.dict_dir);
        return 1;
    }
    int status = 0;
    if (kind) {
        status = csv_files(&cfg, d, kind, a.npos, a.pos);
    } else {
        for (int i = 0; i < a.npos; i++) {
            size_t n;
            char *p;
            if (read_file(a.pos[i], cfg.max_body, &p, &n) != HUB_OK) {
                fprintf(stderr, "hubctl: cannot read %s (or it is over "
                        "max_body)\n", a.pos[i]);
                status = 1;
                continue;
            }
            enum format f = sniff(p, n);
            int one;
            if (f == F_HL7)
                one = hl7_file(&cfg, d, a.pos[i], p, n);
            else if (f == F_FHIR || f == F_CCDA)
                one = doc_file(d, f, a.pos[i], p, n);
            else {
                fprintf(stderr, "hubctl: %s is not HL7 v2, FHIR JSON or "
                        "C-CDA; for a CSV file say --csv KIND\n", a.pos[i]);
                one = 1;
            }
            free(p);
            if (one > status)
                status = one;
        }
    }
    dict_free(d);
    return status;
}

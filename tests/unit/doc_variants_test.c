/*
 * doc_variants_test.c - one FHIR resource or C-CDA document written
 * another legal way gives the same canonical events. Every file of
 * tests/data/{fhir,ccda} and tests/data/real/{fhir,ccda} is read again
 *   FHIR: with its members in reverse order at every level (JSON objects
 *         have no order, FHIR R4 "JSON representation": resourceType need
 *         not come first), minified, without the sender's blanks, with an
 *         extension the hub does not know on every element (R4 2.4.1: a
 *         reader ignores those), with the vowels of every key and
 *         string as \u escapes (RFC 8259 7), and with every coding
 *         array reversed (codings are alternatives, in no order: the
 *         same codes, domain and score must follow; the lists that carry
 *         them as sent are compared as sets);
 *   C-CDA: with the HL7 v3 namespace under a prefix and no default one
 *         (<v3:ClinicalDocument xmlns:v3="urn:hl7-org:v3">, xsi:type
 *         "v3:CD", xsi itself under another prefix: as XSLT and some
 *         exporters write it), with each element's attributes in reverse
 *         order, encoded in UTF-16 (XML 1.0 4.3.3; libxml2 reads what its
 *         declaration and byte-order mark say) and in ISO-8859-1 (what
 *         Latin-1 cannot hold as character references), with comments
 *         around and inside every element, and with each element's text
 *         between a line break and indentation, as pretty-printers write
 *         it.
 * Each variant must give what the file as sent gives, compared as JSON,
 * or the same refusal at the same place: a difference would be a reader
 * that keyed on spelling rather than meaning, the kind of defect an unseen
 * sender finds first.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/testdb.h"
#include "../lib/testdict.h"
#include "../lib/testfile.h"
#include "../lib/variant.h"
#include "ccda/ccda.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "fhir/fhir.h"

#define V3_NS "urn:hl7-org:v3"

static struct dict *D;

static void setup(void)
{
    ccda_global_init(); /* before this file's own libxml2 */
    D = testdict_load();
}

static void teardown(void)
{
    dict_free(D);
}

TestSuite(doc_variants, .init = setup, .fini = teardown);

enum fmt { F_FHIR, F_CCDA };

static struct variant_outcome normalize(enum fmt f, const char *p, size_t n)
{
    struct arena a;
    struct hub_err err = {0};
    struct canon_list l = {0};
    int rc;
    arena_init(&a, 64 * 1024);
    if (f == F_FHIR) {
        struct fhir_result res;
        rc = fhir_to_events(&a, D, p, n, &l, &res, &err);
    } else {
        struct slice mid;
        rc = ccda_to_events(&a, D, p, n, &l, &mid, &err);
    }
    struct variant_outcome o = variant_outcome_of(rc, &err, &l);
    arena_release(&a);
    return o;
}

/* --- FHIR variants ------------------------------------------------------- */

/* Every object's members in reverse order, at every depth. */
static void reverse_members(cJSON *j)
{
    if (cJSON_IsObject(j))
        variant_reverse_children(j);
    for (cJSON *c = j->child; c; c = c->next)
        reverse_members(c);
}

/* Every "coding" array in reverse order: a CodeableConcept's codings are
 * alternatives of one concept, in no order of preference (R4 datatypes
 * 2.24.0.2); a reader picks by system, not by place. */
static void reverse_codings(cJSON *j)
{
    for (cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (c->string && strcmp(c->string, "coding") == 0 && cJSON_IsArray(c))
            variant_reverse_children(c);
        reverse_codings(c);
    }
}

/* An extension the hub does not know on every element object (FHIR R4
 * 2.4.1: any element may carry one, and a reader ignores what it does not
 * know, unless it is a modifierExtension). Not on a Bundle, a Resource
 * that is no DomainResource, nor inside an extension. */
static void add_extensions(cJSON *j, bool is_bundle)
{
    if (cJSON_IsObject(j)) {
        for (cJSON *c = j->child; c; c = c->next)
            if (strcmp(c->string, "extension") != 0 &&
                strcmp(c->string, "modifierExtension") != 0)
                add_extensions(
                    c,
                    cJSON_IsObject(c) &&
                        cJSON_GetObjectItemCaseSensitive(c, "resourceType") &&
                        strcmp(cJSON_GetStringValue(
                                   cJSON_GetObjectItemCaseSensitive(
                                       c, "resourceType"))
                                   ?: "",
                               "Bundle") == 0);
        if (is_bundle)
            return;
        cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "extension");
        if (!ext)
            ext = cJSON_AddArrayToObject(j, "extension");
        if (!cJSON_IsArray(ext))
            return;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "url",
                                "http://example.org/fhir/"
                                "StructureDefinition/unknown");
        cJSON_AddStringToObject(e, "valueString", "ignored");
        cJSON_AddItemToArray(ext, e);
    } else if (cJSON_IsArray(j)) {
        for (cJSON *c = j->child; c; c = c->next)
            add_extensions(c, false);
    }
}

/* Minified JSON with each vowel inside a string (keys and values) written
 * as a \u escape (RFC 8259 7: the same string). */
static char *escape_vowels(const char *j)
{
    size_t n = strlen(j);
    char *o = malloc(6 * n + 1), *w = o;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        char ch = j[i];
        if (in && ch == '\\') { /* an escape as it was */
            *w++ = ch;
            *w++ = j[++i];
            continue;
        }
        if (ch == '"')
            in = !in;
        if (in && ch && strchr("aeiouAEIOU", ch))
            w += snprintf(w, 7, "\\u%04x", (unsigned char)ch);
        else
            *w++ = ch;
    }
    *w = '\0';
    return o;
}

static char *fhir_variant(const char *doc, size_t len, int which)
{
    cJSON *j = cJSON_ParseWithLength(doc, len);
    if (!j)
        return NULL;
    if (which == 0)
        reverse_members(j);
    if (which == 4)
        reverse_codings(j);
    if (which == 2) {
        const char *rt = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(j, "resourceType"));
        add_extensions(j, rt && strcmp(rt, "Bundle") == 0);
    }
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (which == 3) {
        char *e = escape_vowels(out);
        free(out);
        out = e;
    }
    return out;
}

/* --- C-CDA variants ------------------------------------------------------ */

/* Elements of the v3 namespace moved under the prefix `v3`, declared on the
 * root; the default declaration left in place but used by nothing. */
static void prefix_v3(xmlNodePtr n, xmlNsPtr v3)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns && n->ns->href && xmlStrEqual(n->ns->href, BAD_CAST V3_NS))
            xmlSetNs(n, v3);
        prefix_v3(n->children, v3);
    }
}

/* A comment before each element and as each element's first child (XML
 * 1.0 2.5: comments may come anywhere outside markup; exporters leave
 * them). */
static void add_comments(xmlNodePtr n)
{
    for (xmlNodePtr next; n; n = next) {
        next = n->next;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        add_comments(n->children);
        xmlNodePtr first = xmlNewDocComment(n->doc, BAD_CAST " exported ");
        if (n->children)
            xmlAddPrevSibling(n->children, first);
        else
            xmlAddChild(n, first);
        if (n->parent && n->parent->type == XML_ELEMENT_NODE)
            xmlAddPrevSibling(n, xmlNewDocComment(n->doc, BAD_CAST " x "));
    }
}

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* xsi:type values are QNames: once the v3 namespace has no default
 * declaration, "CD" must be written "v3:CD". */
static void prefix_xsi_types(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            if (!a->ns || !xmlStrEqual(a->ns->href, BAD_CAST XSI_NS) ||
                !xmlStrEqual(a->name, BAD_CAST "type"))
                continue;
            xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
            if (v && !xmlStrchr(v, ':')) {
                char q[256];
                snprintf(q, sizeof(q), "v3:%s", (const char *)v);
                xmlSetNsProp(n, a->ns, a->name, BAD_CAST q);
            }
            xmlFree(v);
        }
        prefix_xsi_types(n->children);
    }
}

/* The root's default v3 declaration removed, and the xsi prefix renamed:
 * what a document written with prefixes throughout looks like. */
static void prefixes_throughout(xmlNodePtr r)
{
    for (xmlNsPtr *at = &r->nsDef; *at;) {
        xmlNsPtr ns = *at;
        if (ns->prefix == NULL && xmlStrEqual(ns->href, BAD_CAST V3_NS)) {
            *at = ns->next;
            ns->next = NULL;
            xmlFreeNs(ns);
            continue;
        }
        if (ns->prefix && xmlStrEqual(ns->href, BAD_CAST XSI_NS)) {
            xmlFree((xmlChar *)ns->prefix);
            ns->prefix = xmlStrdup(BAD_CAST "inst");
        }
        at = &ns->next;
    }
    prefix_xsi_types(r);
}

/* The text of each element that holds text alone set between a line break
 * and indentation, as pretty-printers and hand-edited exports write it
 * (<given>\n    Jo\n  </given>); narrative blocks (section text) are left
 * as they are. */
static void pad_text(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, BAD_CAST "text") && n->parent &&
            xmlStrEqual(n->parent->name, BAD_CAST "section"))
            continue;
        xmlNodePtr c = n->children;
        if (c && c->next == NULL && c->type == XML_TEXT_NODE && c->content &&
            *c->content) {
            size_t l = strlen((const char *)c->content);
            char *t = malloc(l + 16);
            snprintf(t, l + 16, "\n    %s\n  ", (const char *)c->content);
            xmlNodeSetContent(c, BAD_CAST t);
            free(t);
            continue;
        }
        pad_text(n->children);
    }
}

static void reverse_attributes(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlAttrPtr rev = NULL, next;
        for (xmlAttrPtr a = n->properties; a; a = next) {
            next = a->next;
            a->next = rev;
            a->prev = NULL;
            if (rev)
                rev->prev = a;
            rev = a;
        }
        n->properties = rev;
        reverse_attributes(n->children);
    }
}

static char *ccda_variant(const char *doc, size_t len, int which,
                          size_t *out_len)
{
    xmlDocPtr x = xmlReadMemory(doc, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    if (!x)
        return NULL;
    xmlNodePtr r = xmlDocGetRootElement(x);
    if (!r) {
        xmlFreeDoc(x);
        return NULL;
    }
    if (which == 0) {
        prefix_v3(r, xmlNewNs(r, BAD_CAST V3_NS, BAD_CAST "v3"));
        prefixes_throughout(r);
    } else if (which == 1)
        reverse_attributes(r);
    else if (which == 3)
        add_comments(r);
    else if (which == 4)
        pad_text(r);
    xmlChar *buf = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(x, &buf, &n,
                        which == 2   ? "UTF-16"
                        : which == 5 ? "ISO-8859-1"
                                     : "UTF-8");
    xmlFreeDoc(x);
    if (!buf)
        return NULL;
    char *out = malloc((size_t)n + 1);
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    xmlFree(buf);
    *out_len = (size_t)n;
    return out;
}

/* --- the test ------------------------------------------------------------ */

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The items of array j in the order of their JSON text. */
static void sort_items(cJSON *j)
{
    int n = cJSON_GetArraySize(j);
    char **t = calloc((size_t)n + 1, sizeof(*t));
    int k = 0;
    for (cJSON *e = j->child; e; e = e->next)
        t[k++] = cJSON_PrintUnformatted(e);
    qsort(t, (size_t)n, sizeof(*t), by_text);
    while (j->child)
        cJSON_Delete(cJSON_DetachItemViaPointer(j, j->child));
    for (k = 0; k < n; k++) {
        cJSON_AddItemToArray(j, cJSON_Parse(t[k]));
        free(t[k]);
    }
    free(t);
}

/* The lists that carry a concept's codings as sent ("codes", and the
 * "answers" a multi-coded answer gives) sorted, at every depth: with the
 * codings reversed their order follows, and only their order. */
static void sort_coding_lists(cJSON *j)
{
    for (cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (c->string && cJSON_IsArray(c) &&
            (strcmp(c->string, "codes") == 0 ||
             strcmp(c->string, "answers") == 0)) {
            sort_items(c);
        }
        sort_coding_lists(c);
    }
}

static bool is_input(enum fmt f, const char *name)
{
    size_t l = strlen(name);
    if (f == F_FHIR)
        return l > 5 && strcmp(name + l - 5, ".json") == 0 &&
               !strstr(name, ".events.json") && !strstr(name, ".err.json") &&
               !strstr(name, ".outcome.json");
    return (l > 4 && strcmp(name + l - 4, ".xml") == 0) ||
           (l > 5 && strcmp(name + l - 5, ".ccda") == 0);
}

/* Every input of the format's two directories through every variant;
 * returns the number of inputs read and adds to *fails. */
static unsigned run_format(enum fmt f, unsigned *accepted, unsigned *fails)
{
    static const char *const fhir_dirs[] = {"tests/data/fhir",
                                            "tests/data/real/fhir"};
    static const char *const ccda_dirs[] = {"tests/data/ccda",
                                            "tests/data/real/ccda"};
    static const char *const fhir_names[] = {
        "with its members reversed", "minified", "with unknown extensions",
        "with vowels as \\u escapes", "with its codings reversed"};
    static const char *const ccda_names[] = {"with prefixes throughout",
                                             "with attributes reversed",
                                             "in UTF-16",
                                             "with comments",
                                             "with its text indented",
                                             "in ISO-8859-1"};
    const char *const *dirs = f == F_FHIR ? fhir_dirs : ccda_dirs;
    unsigned files = 0, nvar = f == F_FHIR ? 5 : 6;
    for (size_t di = 0; di < 2; di++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", testdb_root(), dirs[di]);
        DIR *dh = opendir(dir);
        cr_assert_not_null(dh, "cannot open %s", dir);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            if (!is_input(f, e->d_name))
                continue;
            char path[8192];
            size_t len;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            char *doc = testfile_read(path, &len);
            cr_assert_not_null(doc, "cannot read %s", path);
            struct variant_outcome want = normalize(f, doc, len);
            files++;
            *accepted += want.rc == HUB_OK;
            /* a file the adapter refuses as not well-formed has no
             * variant: there is nothing to rewrite */
            for (unsigned k = 0; want.rc != HUB_ESYNTAX && k < nvar; k++) {
                size_t n = 0;
                char *alt = f == F_FHIR ? fhir_variant(doc, len, (int)k)
                                        : ccda_variant(doc, len, (int)k, &n);
                if (!alt)
                    continue;
                if (f == F_FHIR)
                    n = strlen(alt);
                struct variant_outcome got = normalize(f, alt, n);
                const char *vname = f == F_FHIR ? fhir_names[k] : ccda_names[k];
                variant_expect_same(
                    e->d_name, vname, &want, &got,
                    strstr(vname, "codings") ? sort_coding_lists : NULL, fails);
                variant_outcome_release(&got);
                free(alt);
            }
            variant_outcome_release(&want);
            free(doc);
        }
        closedir(dh);
    }
    return files;
}

Test(doc_variants, fhir_member_order_and_blanks_change_nothing)
{
    unsigned accepted = 0, fails = 0;
    unsigned files = run_format(F_FHIR, &accepted, &fails);
    cr_log_info("FHIR: %u files, %u accepted", files, accepted);
    cr_assert_geq(files, 40, "%u FHIR files read", files);
    cr_assert_geq(accepted, 30, "%u FHIR files accepted", accepted);
    cr_assert_eq(fails, 0, "%u FHIR variants differ from the file as sent",
                 fails);
}

Test(doc_variants, ccda_prefix_attribute_order_and_encoding_change_nothing)
{
    unsigned accepted = 0, fails = 0;
    unsigned files = run_format(F_CCDA, &accepted, &fails);
    cr_log_info("C-CDA: %u files, %u accepted", files, accepted);
    cr_assert_geq(files, 15, "%u C-CDA files read", files);
    cr_assert_geq(accepted, 8, "%u C-CDA files accepted", accepted);
    cr_assert_eq(fails, 0, "%u C-CDA variants differ from the file as sent",
                 fails);
}

/*
 * ccda_tree_test.c - the C-CDA adapter's compact tree (built from libxml2's
 * SAX2 events, ccda_xml.c) against the tree libxml2 itself builds from the
 * same bytes with the options the adapter used before (NOBLANKS, NOCDATA,
 * no comments or processing instructions): the same elements, names,
 * namespaces, attribute values and text, on every test document and on
 * snippets made to hit libxml2's edge cases (which blank runs NOBLANKS
 * drops, xml:space, CDATA, character and entity references in text and in
 * attributes, undeclared prefixes, text past libxml2's 300-byte buffer).
 * Files are found under $HUB_ROOT, else the current directory.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ccda/ccda.h"
#include "ccda/ccda_int.h"

static const char *root_dir(void)
{
    const char *r = getenv("HUB_ROOT");
    return r ? r : ".";
}

/* libxml2's own tree, parsed as ccda_xml.c parsed before it had a tree of
 * its own. */
static xmlDocPtr dom_parse(const char *p, size_t len)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc;

    cr_assert_not_null(ctxt);
    ctxt->sax->comment = NULL;
    ctxt->sax->processingInstruction = NULL;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->sax->serror = NULL;
    doc = xmlCtxtReadMemory(ctxt, p, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                XML_PARSE_NOBLANKS | XML_PARSE_COMPACT);
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* What the old helpers read as an attribute's value. */
static const char *dom_attr_value(const xmlAttr *a)
{
    if (a->children && a->children->type == XML_TEXT_NODE &&
        a->children->next == NULL)
        return (const char *)a->children->content;
    if (a->children == NULL)
        return "";
    return NULL;
}

/* Compare one element and everything under it; text compared as the run
 * of an element's text children, which is all the adapter reads of it.
 * Returns the number of differences (and says where the first was). */
static int same(const xmlNode *d, const struct ccda_node *t, int depth)
{
    char path[256];
    int diffs = 0;

    ccda_xpath(t, path, sizeof(path));
    if (strcmp((const char *)d->name, t->name) != 0) {
        cr_log_error("%s: name %s vs %s", path, d->name, t->name);
        return 1;
    }
    const char *dns = d->ns && d->ns->href ? (const char *)d->ns->href : NULL;
    if ((dns == NULL) != (t->ns == NULL) || (dns && strcmp(dns, t->ns))) {
        cr_log_error("%s: namespace differs", path);
        diffs++;
    }
    /* attributes, in order */
    const xmlAttr *da = d->properties;
    const struct ccda_attr *ta = t->attrs;
    for (; da && ta; da = da->next, ta = ta->next) {
        const char *ans = da->ns && da->ns->href
                              ? (const char *)da->ns->href : NULL;
        const char *v = dom_attr_value(da);
        if (strcmp((const char *)da->name, ta->name) != 0 ||
            (ans == NULL) != (ta->ns == NULL) ||
            (ans && strcmp(ans, ta->ns) != 0) || v == NULL ||
            strcmp(v, ta->value) != 0) {
            cr_log_error("%s: attribute %s differs", path, da->name);
            diffs++;
        }
    }
    if (da || ta) {
        cr_log_error("%s: attribute count differs", path);
        diffs++;
    }
    /* text: the concatenation of the text children; elements: in order */
    char dt[4096] = "", tt[4096] = "";
    size_t dl = 0, tl = 0;
    const xmlNode *dc = d->children;
    const struct ccda_node *tc = t->children;
    for (const xmlNode *c = dc; c; c = c->next)
        if (c->type == XML_TEXT_NODE && c->content) {
            size_t k = strlen((const char *)c->content);
            if (dl + k < sizeof(dt)) {
                memcpy(dt + dl, c->content, k + 1);
                dl += k;
            }
        }
    for (const struct ccda_node *c = tc; c; c = c->next)
        if (c->type == CCDA_TEXT && tl + c->len < sizeof(tt)) {
            memcpy(tt + tl, c->content, c->len);
            tl += c->len;
            tt[tl] = '\0';
        }
    if (dl != tl || memcmp(dt, tt, dl) != 0) {
        cr_log_error("%s: text differs (%zu vs %zu bytes)", path, dl, tl);
        diffs++;
    }
    for (;;) {
        while (dc && dc->type != XML_ELEMENT_NODE)
            dc = dc->next;
        while (tc && tc->type != CCDA_ELEMENT)
            tc = tc->next;
        if (dc == NULL || tc == NULL)
            break;
        diffs += same(dc, tc, depth + 1);
        dc = dc->next;
        tc = tc->next;
    }
    if (dc || tc) {
        cr_log_error("%s: child element count differs", path);
        diffs++;
    }
    return diffs;
}

/* Both parses of one document; 0 when they agree (or both refuse it). */
static int compare(const char *p, size_t len, const char *name)
{
    struct arena xa;
    struct ccda_tree t;
    struct hub_err err;
    int rc, diffs = 0;

    ccda_global_init();
    xmlDocPtr doc = dom_parse(p, len);
    arena_init(&xa, 16 * 1024);
    rc = ccda_xml_parse(&xa, p, len, &t, &err);
    if (doc == NULL || rc != HUB_OK) {
        /* refused by both, or a refusal of ours past the parse (limits) */
        if (doc && rc != HUB_ELIMIT) {
            cr_log_error("%s: libxml2 read it, the tree refused it", name);
            diffs = 1;
        } else if (doc == NULL && rc == HUB_OK) {
            cr_log_error("%s: libxml2 refused it, the tree read it", name);
            diffs = 1;
        }
    } else {
        diffs = same(xmlDocGetRootElement(doc), t.root, 0);
        if (diffs)
            cr_log_error("%s: %d differences", name, diffs);
        ccda_tree_free(&t);
    }
    if (doc)
        xmlFreeDoc(doc);
    arena_release(&xa);
    return diffs;
}

/* ccda_xml_parse reads it (so that compare() compared trees). */
static bool reads(const char *p, size_t len)
{
    struct arena xa;
    struct ccda_tree t;
    struct hub_err err;
    int rc;

    arena_init(&xa, 16 * 1024);
    rc = ccda_xml_parse(&xa, p, len, &t, &err);
    if (rc == HUB_OK)
        ccda_tree_free(&t);
    arena_release(&xa);
    return rc == HUB_OK;
}

static int compare_str(const char *s)
{
    return compare(s, strlen(s), s);
}

Test(ccda_tree, every_test_document_reads_as_libxml2_reads_it)
{
    char dir[512], path[1024];
    struct dirent *de;
    int docs = 0, diffs = 0;

    snprintf(dir, sizeof(dir), "%s/tests/data/ccda", root_dir());
    DIR *dp = opendir(dir);
    cr_assert(dp, "cannot open %s", dir);
    while ((de = readdir(dp)) != NULL) {
        size_t n = strlen(de->d_name);
        if (!(n > 4 && strcmp(de->d_name + n - 4, ".xml") == 0) &&
            !(n > 5 && strcmp(de->d_name + n - 5, ".ccda") == 0))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *p = malloc((size_t)len + 1);
        cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        diffs += compare(p, (size_t)len, de->d_name);
        free(p);
        docs++;
    }
    closedir(dp);
    cr_assert_geq(docs, 12);
    cr_assert_eq(diffs, 0, "%d documents differ", diffs);
}

Test(ccda_tree, blank_runs_are_dropped_or_kept_as_libxml2_does)
{
    static const char *const docs[] = {
        /* whole content; before an element; between elements; after */
        "<r><a> </a><b>  <c/>  </b><c>\n\t<d/>\n</c></r>",
        /* text first, then blanks between elements: kept */
        "<r><d>x <e/> <f/> y</d></r>",
        /* text from a reference or CDATA, not the input: kept */
        "<r><f><g/>&amp;<h/> <i/>z</f><o><![CDATA[  ]]><p/> <q/></o>"
        "<s>&#32;<t/> </s><u><v/>&#32;<w/> <x/>y</u></r>",
        /* xml:space preserve and default, inherited */
        "<r><j xml:space=\"preserve\"> <k> <l/> </k> </j>"
        "<l xml:space=\"default\"><m/> <n/>t<o/> </l></r>",
        /* CR before '<', CRLF, blanks before an end tag after children */
        "<r><u>\r\n<v/>\r\n</u><w>\r<x/>\r</w><y><z/> </y></r>",
        /* non-ASCII after blanks (libxml2's slow path) */
        "<r><w>\xc3\xa9 <x/> </w><v> \xc3\xa9<x/> <y/></v></r>",
        /* comments and processing instructions leave no node */
        "<r><a><!-- c --> <b/> <?p x?> <c/></a><d>t<!-- c -->u</d></r>",
    };
    int diffs = 0;

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        cr_assert(reads(docs[i], strlen(docs[i])), "%zu", i);
        diffs += compare_str(docs[i]);
    }
    cr_assert_eq(diffs, 0);
}

Test(ccda_tree, text_past_the_parser_buffer_reads_as_libxml2_reads_it)
{
    /* libxml2 hands long or non-ASCII text over in 300-byte pieces */
    char doc[4096];
    size_t n = 0;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                          "<r><a xml:space=\"default\"><b/>\xc3\xa9");
    for (int i = 0; i < 700; i++)
        doc[n++] = i % 50 == 0 ? '\n' : ' ';
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<c/>");
    for (int i = 0; i < 600; i++)
        doc[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "  <d/>   </a></r>");
    cr_assert(reads(doc, n));
    cr_assert_eq(compare(doc, n, "long text"), 0);
}

Test(ccda_tree, attributes_and_namespaces_read_as_libxml2_reads_them)
{
    static const char *const docs[] = {
        /* references, white space normalization, non-ASCII */
        "<r a=\"x&amp;y\" b=\"&#38;\" c=\"t&#9;ab&#10;nl\" d=\"l\nb\tt\""
        " e=\"\xc3\xa9\" f=\"\" g=\"&#38;#38;\" h=\"&lt;&gt;&quot;&apos;\"/>",
        /* a declared prefix; an undeclared one (a namespace error that the
         * adapter tolerates: the name keeps its prefix, no namespace) */
        "<r xmlns:x=\"urn:x\"><a x:k=\"1\" p:u=\"2\" k=\"3\"/></r>",
        "<r><p:q>t</p:q><q:r xmlns:q=\"urn:q\"/></r>",
        /* default namespace set and unset */
        "<r xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\">"
        "<a xmlns=\"\">t</a><sdtc:b/><b xml:lang=\"en\"/></r>",
    };
    int diffs = 0;

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        cr_assert(reads(docs[i], strlen(docs[i])), "%zu", i);
        diffs += compare_str(docs[i]);
    }
    cr_assert_eq(diffs, 0);
}

Test(ccda_tree, other_encodings_read_as_libxml2_reads_them)
{
    static const char latin1[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
        "<r a=\"\xe9\"><b> <c/> \xe9t\xe9 </b></r>";
    static const char utf8_bom[] = "\xef\xbb\xbf<r a=\"1\"><b> <c/> x</b></r>";
    /* UTF-16LE with its byte order mark: each ASCII byte, then a 0 */
    static const char ascii[] = "<r a=\"1\"><b> <c/> \x01t</b></r>";
    char utf16[2 + 2 * sizeof(ascii)];
    size_t n = 0;

    utf16[n++] = (char)0xff;
    utf16[n++] = (char)0xfe;
    for (size_t i = 0; i + 1 < sizeof(ascii); i++) {
        utf16[n++] = ascii[i] == '\x01' ? (char)0xe9 : ascii[i];
        utf16[n++] = 0;
    }
    cr_assert(reads(latin1, sizeof(latin1) - 1));
    cr_assert(reads(utf8_bom, sizeof(utf8_bom) - 1));
    cr_assert(reads(utf16, n));
    cr_expect_eq(compare(latin1, sizeof(latin1) - 1, "latin-1"), 0);
    cr_expect_eq(compare(utf8_bom, sizeof(utf8_bom) - 1, "utf-8 bom"), 0);
    cr_expect_eq(compare(utf16, n, "utf-16le"), 0);
}

/*
 * ccda_tree_test.c - the C-CDA adapter's compact tree (built from libxml2's
 * SAX2 events, ccda_xml.c) against the tree libxml2 itself builds from the
 * same bytes with the options the adapter used before (NOBLANKS, NOCDATA,
 * no comments or processing instructions): the same elements, names,
 * namespaces, attribute values and text, on every test document and on
 * snippets made to hit libxml2's edge cases (which blank runs NOBLANKS
 * drops, xml:space, CDATA, character and entity references in text and in
 * attributes, undeclared prefixes, text past libxml2's 300-byte buffer).
 * Then the one-pass reader of ccda_fast.c against the libxml2 route
 * (ccda_xml_parse_libxml): on every test, corpus and fuzz seed document and
 * on plain edge cases (blank runs, CRLF, references at the limits of XML
 * Char, attribute white space, CDATA, comments, PIs, xml:space, default and
 * prefixed namespaces, undeclared prefixes, depth at the limit) it builds
 * the tree libxml2 builds; on what is not plain (DOCTYPE, other encodings,
 * invalid UTF-8, non-Chars, unknown entities, mismatched tags, duplicate
 * attributes, ...) it gives up, so that libxml2 decides.
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
    rc = ccda_xml_parse(&xa, NULL, p, len, &t, &err);
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
    rc = ccda_xml_parse(&xa, NULL, p, len, &t, &err);
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

/* ---- the one-pass reader (ccda_fast.c) against the libxml2 route -------- */

/* The text of an element as the adapter reads it: its text children run
 * together (the reader makes one node where libxml2 may hand over several
 * pieces). */
static size_t run_text(const struct ccda_node *e, char *out, size_t cap)
{
    size_t n = 0;
    for (const struct ccda_node *c = e->children; c; c = c->next)
        if (c->type == CCDA_TEXT) {
            if (n + c->len + 1 > cap)
                return (size_t)-1;
            memcpy(out + n, c->content, c->len);
            n += c->len;
        }
    out[n] = '\0';
    return n;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

/* Two trees of ours, element by element; the number of differences. */
static int same_tree(const struct ccda_node *x, const struct ccda_node *y)
{
    static char tx[1 << 16], ty[1 << 16];
    char path[256];
    int diffs = 0;

    ccda_xpath(x, path, sizeof(path));
    if (strcmp(x->name, y->name) != 0 || !same_str(x->ns, y->ns) ||
        x->v3 != y->v3) {
        cr_log_error("%s: element name or namespace differs", path);
        return 1;
    }
    const struct ccda_attr *a = x->attrs, *b = y->attrs;
    for (; a && b; a = a->next, b = b->next)
        if (strcmp(a->name, b->name) || !same_str(a->ns, b->ns) ||
            strcmp(a->value, b->value)) {
            cr_log_error("%s: attribute %s differs", path, a->name);
            diffs++;
        }
    if (a || b) {
        cr_log_error("%s: attribute count differs", path);
        diffs++;
    }
    size_t lx = run_text(x, tx, sizeof(tx)), ly = run_text(y, ty, sizeof(ty));
    if (lx != ly || memcmp(tx, ty, lx == (size_t)-1 ? 0 : lx) != 0) {
        cr_log_error("%s: text differs (%zu vs %zu bytes)", path, lx, ly);
        diffs++;
    }
    const struct ccda_node *cx = x->children, *cy = y->children;
    for (;;) {
        while (cx && cx->type != CCDA_ELEMENT)
            cx = cx->next;
        while (cy && cy->type != CCDA_ELEMENT)
            cy = cy->next;
        if (cx == NULL || cy == NULL)
            break;
        diffs += same_tree(cx, cy);
        cx = cx->next;
        cy = cy->next;
    }
    if (cx || cy) {
        cr_log_error("%s: child element count differs", path);
        diffs++;
    }
    return diffs;
}

/* 1: the reader took it and libxml2 made the same tree; 0: the reader
 * gave up; -1: they differ (or libxml2 refused what the reader took). */
static int fast_vs_libxml(const char *p, size_t len, const char *name)
{
    struct arena fa, la;
    struct ccda_tree ft, lt;
    struct hub_err err;
    int r;

    ccda_global_init();
    arena_init(&fa, 16 * 1024);
    arena_init(&la, 16 * 1024);
    if (!ccda_xml_parse_fast(&fa, p, len, &ft)) {
        r = 0;
    } else if (ccda_xml_parse_libxml(&la, NULL, p, len, &lt, &err) != HUB_OK) {
        cr_log_error("%s: the reader took what libxml2 refused", name);
        r = -1;
    } else {
        r = same_tree(ft.root, lt.root) == 0 ? 1 : -1;
        if (r < 0)
            cr_log_error("%s: trees differ", name);
        ccda_tree_free(&lt);
    }
    arena_release(&fa);
    arena_release(&la);
    return r;
}

static int fast_str(const char *s)
{
    return fast_vs_libxml(s, strlen(s), s);
}

/* Every .xml/.ccda file of dir through both; counts into *taken. */
static int fast_dir(const char *dir, int *files, int *taken)
{
    char path[1024];
    struct dirent *de;
    int bad = 0;
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
        int r = fast_vs_libxml(p, (size_t)len, de->d_name);
        bad += r < 0;
        *taken += r > 0;
        (*files)++;
        free(p);
    }
    closedir(dp);
    return bad;
}

Test(ccda_fast, every_test_and_corpus_document_reads_as_libxml2_reads_it)
{
    char dir[512];
    int files = 0, taken = 0, bad;

    snprintf(dir, sizeof(dir), "%s/tests/data/ccda", root_dir());
    bad = fast_dir(dir, &files, &taken);
    cr_assert_geq(files, 12);
    /* the reader exists for these: every one of them is plain */
    cr_expect_eq(taken, files, "%d of %d taken", taken, files);
    /* the shared corpus, when this tree sits next to it */
    snprintf(dir, sizeof(dir), "%s/../shared/corpus/ccda", root_dir());
    DIR *shared = opendir(dir);
    if (shared == NULL) {
        snprintf(dir, sizeof(dir), "%s/../../shared/corpus/ccda", root_dir());
        shared = opendir(dir);
    }
    if (shared) {
        closedir(shared);
        bad += fast_dir(dir, &files, &taken);
    }
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/ccda", root_dir());
    bad += fast_dir(dir, &files, &taken);
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/ccda_tree", root_dir());
    bad += fast_dir(dir, &files, &taken);
    cr_assert_eq(bad, 0, "%d documents differ", bad);
}

Test(ccda_fast, plain_edge_cases_read_as_libxml2_reads_them)
{
    static const char *const docs[] = {
        /* blank runs: whole content, before/between/after elements */
        "<r><a> </a><b>  <c/>  </b><c>\n\t<d/>\n</c></r>",
        "<r><d>x <e/> <f/> y</d><g><h/>t<i/> <j/></g></r>",
        "<r><f><g/>&amp;<h/> <i/>z</f><o><![CDATA[  ]]><p/> <q/></o>"
        "<s>&#32;<t/> </s><u><v/>&#32;<w/> <x/>y</u></r>",
        "<r><j xml:space=\"preserve\"> <k> <l/> </k> </j>"
        "<l xml:space=\"default\"><m/> <n/>t<o/> </l></r>",
        /* CRLF between elements, in text, blank lines, before end tags */
        "<r>\r\n<a>\r\n<v/>\r\n</a>\r\n<b>  \r\n  </b><c>x\r\ny\r\n</c>"
        "<d>\r\n\r\n  <e/>\r\n\r\n</d><f> \r\n<g/></f></r>\r\n",
        /* non-ASCII after blanks, before blanks, alone */
        "<r><w>\xc3\xa9 <x/> </w><v> \xc3\xa9<x/> <y/></v>"
        "<z>\xe2\x80\x93</z><q>a\r\n\xc3\xa9\r\nb</q></r>",
        /* comments and PIs leave no node, but cut text */
        "<r><a><!-- c --> <b/> <?p x?> <c/></a><d>t<!-- c -->u</d>"
        "<e> <!----> </e><f><?p?></f></r>",
        /* references at the limits */
        "<r><a>&lt;&gt;&amp;&quot;&apos;&#9;&#xA;&#13;&#x20;&#xD7FF;"
        "&#xE000;&#xFFFD;&#x10000;&#x10FFFF;&#1114111;&#0065;</a>"
        "<b>x&amp; <c/> </b><d> &amp; </d></r>",
        /* attributes: references, tab/newline normalization, quotes */
        "<r a=\"x&amp;y\" b=\"&#38;\" c=\"t&#9;ab&#10;nl\" d=\"l\nb\tt\""
        " e=\"\xc3\xa9\" f=\"\" g=\"&#38;#38;\" h=\"&lt;&gt;&quot;&apos;\""
        " i='q\"q' j=\"a>b\" k = \"sp\"/>",
        /* namespaces: default set and unset, prefixed, undeclared
         * attribute and element prefixes, xml: attributes */
        "<r xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\""
        " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<a xmlns=\"\">t</a><sdtc:b/><b xml:lang=\"en\" xsi:type=\"CD\"/>"
        "<c p:u=\"2\" k=\"3\"/><p:q>t</p:q><q:r xmlns:q=\"urn:q\"/>"
        "<s xmlns:x=\"urn:x\" x:a=\"1\" a=\"2\"/></r>",
        /* declaration forms, BOM, epilog */
        "<?xml version=\"1.0\"?><r/>",
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\r\n"
        "<?xml-stylesheet type=\"text/xsl\" href=\"CDA.xsl\"?>\n"
        "<!-- c --><r>t</r>\n<!-- e --><?p?>\n",
        "\xef\xbb\xbf<r a=\"1\"><b> <c/> x</b></r>",
        /* ']' in text, '>' in text; a lone CR (read as LF); an
         * undeclared element prefix (named "x:r", no namespace) */
        "<r><a>x]y]]z > w</a></r>", "<r>\r</r>", "<r> \r <a/>a\rb\r</r>",
        "<x:r><x:a/></x:r>",
    };
    int bad = 0;

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        int r = fast_str(docs[i]);
        cr_expect_eq(r, 1, "doc %zu: %d", i, r);
        bad += r != 1;
    }
    cr_assert_eq(bad, 0);
}

Test(ccda_fast, gives_up_on_what_is_not_plain)
{
    static const char *const docs[] = {
        "<!DOCTYPE r [<!ENTITY a \"b\">]><r>&a;</r>",
        "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>\xe9</r>",
        "<?xml version=\"1.1\"?><r/>",
        "<r>\xc3</r>", "<r>\xed\xa0\x80</r>", "<r>\xef\xbf\xbe</r>",
        "<r>\xc0\xaf</r>", "<r a=\"\xff\"/>",
        "<r>\x01</r>", "<r>&#0;</r>", "<r>&#xD800;</r>", "<r>&#x110000;</r>",
        "<r>&#xFFFE;</r>", "<r>&nbsp;</r>", "<r>&#X41;</r>", "<r>&#;</r>",
        "<r><a></b></r>", "<r><a></r>", "<r>", "<r/><s/>", "<r/>x",
        "<r a=\"1\" a=\"2\"/>",
        "<r xmlns:x=\"urn:x\" xmlns:y=\"urn:x\" x:a=\"1\" y:a=\"2\"/>",
        "<r xmlns=\"urn:a\" xmlns=\"urn:b\"/>", "<r xmlns:x=\"\"/>",
        "<r a=\"<\"/>", "<r a=\"1\"b=\"2\"/>", "<r a=\"x\ry\"/>",
        "<r>a]]>b</r>", "<r><!-- a -- b --></r>",
        "<r><?xml version=\"1.0\"?></r>", "<r>\x7f</r>",
        "<r><![CDATA[a\rb]]></r>", "<r>&amp</r>", "<xml:r/>", "<xmlns:r/>",
        "<r xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"/>",
        "<r xml:space=\"other\"/>", "<r a=\"&#65\"/>",
        "<1r/>", "<r:a:b/>", "<r\xc3\xa9/>", "",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        cr_expect_eq(fast_str(docs[i]), 0, "doc %zu", i);
}

Test(ccda_fast, long_and_deep_documents_read_as_libxml2_reads_them)
{
    /* 300-byte pieces of non-ASCII text, long blank runs, the depth and
     * its limit */
    static char doc[1 << 16];
    size_t n = 0;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<r><a><b/>\xc3\xa9");
    for (int i = 0; i < 700; i++)
        doc[n++] = i % 50 == 0 ? '\n' : (i % 7 ? ' ' : 'x');
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<c/>");
    for (int i = 0; i < 1000; i++)
        doc[n++] = i % 40 == 0 ? '\n' : ' ';
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<d/>");
    for (int i = 0; i < 600; i++)
        doc[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "  <d/>   </a></r>");
    cr_expect_eq(fast_vs_libxml(doc, n, "long text"), 1);

    for (int depth = CCDA_MAX_DEPTH; depth <= CCDA_MAX_DEPTH + 1; depth++) {
        n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<e>");
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</e>");
        /* at the limit the reader takes it; past it libxml2 decides */
        cr_expect_eq(fast_vs_libxml(doc, n, "deep"),
                     depth <= CCDA_MAX_DEPTH ? 1 : 0, "depth %d", depth);
    }
}

/* F92: a path longer than the buffer is cut after the last element that
 * fits and says so, so that no caller gives it a leaf of another element. */
Test(ccda_tree, a_cut_xpath_says_it_was_cut)
{
    static const char doc[] =
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><component><structuredBody>"
        "<component><section><entry><observation><entryRelationship>"
        "<observation><code code=\"1\"/></observation></entryRelationship>"
        "</observation></entry></section></component></structuredBody>"
        "</component></ClinicalDocument>";
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct ccda_tree t;
    struct hub_err err = { 0 };
    ccda_global_init();
    cr_assert_eq(ccda_xml_parse(&a, NULL, doc, sizeof(doc) - 1, &t, &err),
                 HUB_OK);
    const struct ccda_node *n = t.root;
    while (ccda_first_elem(n))
        n = ccda_first_elem(n);         /* the code element */
    char path[256];
    cr_expect(ccda_xpath(n, path, sizeof(path)));
    cr_expect_str_eq(path, "/ClinicalDocument/component/structuredBody/"
                     "component/section/entry/observation/entryRelationship/"
                     "observation/code");
    cr_expect_not(ccda_xpath(n, path, 60));
    cr_expect_str_eq(path, "/ClinicalDocument/component/structuredBody/"
                     "component");
    ccda_tree_free(&t);
    arena_release(&a);
}

/*
 * ccda_xml.c - the guarded libxml2 parse and the HL7 v3 helpers of the C-CDA
 * adapter. ccda_xml_parse first offers the document to the one-pass reader
 * of ccda_fast.c, which builds the same tree for plain documents (the ones
 * the hub gets) at a fraction of libxml2's cost and gives up on anything
 * else; libxml2 (ccda_xml_parse_libxml, below) reads everything the reader
 * gives up on and stays the authority on refusals, their offsets and every
 * security property. Every document libxml2 reads gets a fresh parser
 * context whose SAX handler
 * stops at a DOCTYPE (before its internal subset, where entities are
 * declared), resolves no external entity, and records libxml2's first error
 * instead of printing it (libxml2's messages quote the input, which is
 * personal data). The tree is then walked once, without recursion, to bound
 * depth and element count before anything else looks at it.
 *
 * The tree: libxml2 reads the bytes, checks well-formedness and namespaces
 * and interns names; our SAX2 handlers (on_start, on_end, on_text) build
 * the compact tree of ccda_int.h from its events, one arena block per
 * element (with its attributes) and per text. libxml2's own tree cost a
 * malloc per element, attribute and text, lookups to link namespaces, and a
 * walk to free it all (xmlFreeDoc): 22% of the adapter's instructions.
 *
 * Memory: ccda_global_init() gives libxml2 allocation functions
 * (xmlMemSetup, before xmlInitParser) that take memory from the arena of
 * the ccda_xml_parse() running on the calling thread, and from malloc
 * otherwise. Each block carries a 16-byte header that says which, so that
 * xmlFree, wherever it is called, frees heap blocks and leaves arena blocks
 * to their arena. Everything libxml2 makes during a parse (context,
 * dictionary, input copy) is in the arena with the tree; the caller calls
 * ccda_tree_free (it frees the context, whose dictionary holds the tree's
 * names and a mutex libxml2 takes from the C library), then releases the
 * arena.
 */
#include "ccda/ccda_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "ccda/ccda.h"
#include "common/digits.h"
#include "common/idsys.h"

/* ---- libxml2's memory ------------------------------------------------------- */

struct xml_block {
    size_t size;                /* bytes asked for */
    size_t in_arena;            /* 1: freed with its arena */
};

static _Thread_local struct arena *xml_arena;
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void *x_malloc(size_t n)
{
    struct arena *a = xml_arena;
    struct xml_block *b;

    if (n > SIZE_MAX - sizeof(*b))
        return NULL;
    if (a) {
        b = arena_alloc(a, n + sizeof(*b));
        b->in_arena = 1;
    } else {
        b = malloc(n + sizeof(*b));
        if (b == NULL)
            return NULL;
        b->in_arena = 0;
    }
    b->size = n;
    return b + 1;
}

static void x_free(void *p)
{
    struct xml_block *b = p ? (struct xml_block *)p - 1 : NULL;
    if (b && !b->in_arena)
        free(b);
}

/* A heap block stays on the heap; an arena block moves to where new ones go
 * (libxml2 grows buffers with xmlRealloc). */
static void *x_realloc(void *p, size_t n)
{
    struct xml_block *b = p ? (struct xml_block *)p - 1 : NULL;
    if (b == NULL)
        return x_malloc(n);
    if (!b->in_arena) {
        if (n > SIZE_MAX - sizeof(*b))
            return NULL;
        b = realloc(b, n + sizeof(*b));
        if (b == NULL)
            return NULL;
        b->size = n;
        return b + 1;
    }
    void *q = x_malloc(n);
    if (q)
        memcpy(q, p, b->size < n ? b->size : n);
    return q;
}

static char *x_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = x_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void xml_init_once(void)
{
    /* before xmlInitParser: no block may predate the headers */
    if (xmlMemSetup(x_free, x_malloc, x_realloc, x_strdup) != 0)
        abort();
    xmlInitParser();
    /* libxml2 obeys an <?oasis-xml-catalog?> before the root and makes its
     * process-wide catalog on first use: inside a parse that would be in
     * the document's arena and dangle after it. Untrusted documents name
     * no catalogs, and the global one is made here, on the heap. */
    xmlCatalogSetDefaults(XML_CATA_ALLOW_NONE);
    xmlInitializeCatalog();
}

void ccda_xml_init(void)
{
    pthread_once(&xml_once, xml_init_once);
}

/* ---- the guarded parse ------------------------------------------------------ */

struct parse_state {
    bool doctype;           /* a DOCTYPE was seen: refused */
    bool err_placed;        /* err_offset is a byte libxml2 gave (0 too) */
    bool unreadable;        /* a character conversion failed (on_stray) */
    int xml_err;            /* first libxml2 error code, 0 if none */
    int xml_level;
    size_t err_offset;
    xmlParserCtxtPtr ctxt;
    struct arena *a;        /* the tree's */
    struct ccda_node *root;
    struct ccda_node *cur;  /* the open element */
    const xmlChar *ns_seen; /* last namespace URI classified, and its class */
    bool ns_seen_v3;
    xmlNode probe;          /* the open element as areBlanks sees it */
    xmlNode probe_text;     /* what its first and last children are */
    xmlNode probe_elem;
};

/* SAX internalSubset: called for "<!DOCTYPE name ...", before "[". */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                       const xmlChar *sys_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    (void)name;
    (void)ext_id;
    (void)sys_id;
    long off = xmlByteConsumed(ctxt);
    st->doctype = true;
    st->err_placed = off >= 0;          /* -1: libxml2 could not say */
    st->err_offset = off > 0 ? (size_t)off : 0;
    xmlStopParser(ctxt);
}

/* Never resolve an external entity or DTD, whatever the options say. */
static xmlParserInputPtr on_resolve(void *ctx, const xmlChar *pub,
                                    const xmlChar *sys)
{
    (void)pub;
    (void)sys;
    xmlStopParser((xmlParserCtxtPtr)ctx);
    return NULL;
}

static void on_external_subset(void *ctx, const xmlChar *name,
                               const xmlChar *ext_id, const xmlChar *sys_id)
{
    (void)ctx;
    (void)name;
    (void)ext_id;
    (void)sys_id;
}

/* Structured error handler: keep the first error, print nothing. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt ? ctxt->_private : NULL;

    /* An undeclared prefix (xsi:type without xmlns:xsi, common in HL7's own
     * examples) is a namespace error, not a well-formedness one: tolerated;
     * the attribute then simply does not match. */
    if (st == NULL || e == NULL || e->level < XML_ERR_ERROR ||
        e->domain == XML_FROM_NAMESPACE)
        return;
    if (st->xml_err == 0) {
        long off = xmlByteConsumed(ctxt);
        st->xml_err = e->code ? e->code : -1;
        st->xml_level = e->level;
        st->err_placed = off >= 0;
        st->err_offset = off > 0 ? (size_t)off : 0;
    }
}

/* What libxml2 raises with no parser context, to the thread's structured
 * handler, else printed on stderr whatever the parse's options: a failed
 * character conversion (UTF-32, a lone UTF-16 surrogate, a byte the
 * declared encoding has not) as "input conversion failed ..., bytes 0x..",
 * the document's own bytes in hubd's log (F3421). Printed nowhere; the
 * parse is marked as one of unreadable characters, which libxml2 then
 * refuses as internal, as it does its limits (F3422). */
static void on_stray_error(void *ctx, xmlErrorPtr e)
{
    struct parse_state *st = ctx;
    if (e && (e->domain == XML_FROM_I18N || e->domain == XML_FROM_IO))
        st->unreadable = true;
}

/*
 * XML_PARSE_NOBLANKS: libxml2 (parser.c areBlanks) drops a run of blanks
 * between elements by looking at the node it is building into: whether it
 * has children yet, and whether the first and the last are text. Ours is
 * not a libxml2 node, so ctxt->node is a probe that says just that about
 * the open element, kept current after each event that changes it. With no
 * document (myDoc NULL) areBlanks reads nothing else of it, and the runs it
 * drops go to on_ignorable: the tree gets the text libxml2's tree got.
 */
static void sync_probe(struct parse_state *st)
{
    const struct ccda_node *e = st->cur;

    if (e == NULL) {
        st->ctxt->node = NULL;
        return;
    }
    st->probe.children = e->children == NULL ? NULL
                         : e->children->type == CCDA_TEXT ? &st->probe_text
                                                          : &st->probe_elem;
    st->probe.last = e->last == NULL ? NULL
                     : e->last->type == CCDA_TEXT ? &st->probe_text
                                                  : &st->probe_elem;
    st->ctxt->node = &st->probe;
}

static void add_child(struct ccda_node *parent, struct ccda_node *n)
{
    n->parent = parent;
    if (parent->last)
        parent->last->next = n;
    else
        parent->children = n;
    parent->last = n;
}

/* "prefix:local", as libxml2's tree names an element or attribute whose
 * prefix no xmlns declares (it then has no namespace). */
static const char *qname(struct arena *a, const xmlChar *prefix,
                         const xmlChar *local)
{
    size_t p = strlen((const char *)prefix), l = strlen((const char *)local);
    char *q = arena_alloc(a, p + l + 2);

    memcpy(q, prefix, p);
    q[p] = ':';
    memcpy(q + p + 1, local, l + 1);
    return q;
}

/* An attribute value as libxml2's tree holds it, copied to `q` (room for
 * end - v + 1 bytes). A value the parser had to rewrite (references, white
 * space, non-ASCII) comes NUL-terminated, with each '&' it stands for
 * written "&#38;" (xmlParseAttValueComplex, when entities are not
 * substituted); the tree decodes that again. */
static const char *attr_copy(char *q, const xmlChar *v, const xmlChar *end)
{
    size_t n = (size_t)(end - v);
    char *o = q;

    if (*end != '\0' || memchr(v, '&', n) == NULL) {
        memcpy(q, v, n);
        q[n] = '\0';
        return q;
    }
    for (size_t i = 0; i < n;) {
        if (v[i] == '&' && n - i >= 5 && memcmp(v + i, "&#38;", 5) == 0) {
            *o++ = '&';
            i += 5;
        } else {
            *o++ = (char)v[i++];
        }
    }
    *o = '\0';
    return q;
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
                     const xmlChar *uri, int nb_ns, const xmlChar **nss,
                     int nb_attrs, int nb_defaulted, const xmlChar **attrs)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;
    size_t size = sizeof(struct ccda_node) +
                  (size_t)nb_attrs * sizeof(struct ccda_attr);
    struct ccda_node *n;
    struct ccda_attr *at;
    char *vals;

    (void)nb_ns;
    (void)nss;
    (void)nb_defaulted;
    /* one block: the element, its attributes, their values
     * (attrs: local, prefix, URI, value, end per attribute) */
    for (int i = 0; i < nb_attrs; i++)
        size += (size_t)(attrs[5 * i + 4] - attrs[5 * i + 3]) + 1;
    n = arena_alloc(st->a, size);
    at = (struct ccda_attr *)(n + 1);
    vals = (char *)(at + nb_attrs);
    n->parent = st->cur;
    n->children = NULL;
    n->last = NULL;
    n->next = NULL;
    n->type = CCDA_ELEMENT;
    n->name = (const char *)local;
    n->ns = (const char *)uri;
    n->attrs = nb_attrs > 0 ? at : NULL;
    n->content = NULL;
    n->len = 0;
    if (prefix && uri == NULL)
        n->name = qname(st->a, prefix, local);
    if (uri == NULL) {
        n->v3 = true;
    } else {
        /* one URI pointer per namespace (libxml2's dictionary) */
        if (uri != st->ns_seen) {
            st->ns_seen = uri;
            st->ns_seen_v3 = strcmp((const char *)uri, CCDA_NS_V3) == 0;
        }
        n->v3 = st->ns_seen_v3;
    }
    for (int i = 0; i < nb_attrs; i++, attrs += 5) {
        at[i].next = i + 1 < nb_attrs ? &at[i + 1] : NULL;
        at[i].name = (const char *)attrs[0];
        at[i].ns = (const char *)attrs[2];
        if (attrs[1] && attrs[2] == NULL)
            at[i].name = qname(st->a, attrs[1], attrs[0]);
        at[i].value = attr_copy(vals, attrs[3], attrs[4]);
        vals += attrs[4] - attrs[3] + 1;
    }
    if (st->cur)
        add_child(st->cur, n);
    else if (st->root == NULL)
        st->root = n;
    st->cur = n;
    sync_probe(st);
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
                   const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    (void)local;
    (void)prefix;
    (void)uri;
    if (st->cur)
        st->cur = st->cur->parent;
    sync_probe(st);
}

static void on_text(void *ctx, const xmlChar *s, int len)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = ctxt->_private;
    struct ccda_node *n;
    char *c;

    if (st->cur == NULL || len <= 0)
        return;
    /* one block: the node and its characters */
    n = arena_alloc(st->a, sizeof(*n) + (size_t)len + 1);
    c = (char *)(n + 1);
    memcpy(c, s, (size_t)len);
    c[len] = '\0';
    memset(n, 0, sizeof(*n));
    n->type = CCDA_TEXT;
    n->content = c;
    n->len = (size_t)len;
    add_child(st->cur, n);
    sync_probe(st);
}

/* A run of blanks that NOBLANKS drops. */
static void on_ignorable(void *ctx, const xmlChar *s, int len)
{
    (void)ctx;
    (void)s;
    (void)len;
}

/* Iterative walk: depth and element count, without recursion. */
static int check_shape(struct ccda_node *root, struct arena *a,
                       struct hub_err *err)
{
    size_t count = 0;
    int depth = 1;
    struct ccda_node *n = root;

    while (n) {
        if (n->type == CCDA_ELEMENT) {
            if (++count > CCDA_MAX_ELEMENTS)
                return ccda_err_at(err, a, HUB_ELIMIT, n, NULL,
                                   "document has too many elements");
            if (depth > CCDA_MAX_DEPTH)
                return ccda_err_at(err, a, HUB_ELIMIT, n->parent, NULL,
                                   "elements nested too deep");
            if (n->children) {
                n = n->children;
                depth++;
                continue;
            }
        }
        while (n && n->next == NULL) {
            n = n->parent;
            depth--;
            if (n == root || depth <= 0)
                return HUB_OK;
        }
        if (n == NULL || n == root)
            break;
        n = n->next;
    }
    return HUB_OK;
}

int ccda_xml_parse(struct arena *xa, struct arena *a, const char *p,
                   size_t len, struct ccda_tree *t, struct hub_err *err)
{
    /* plain documents: the one-pass reader of ccda_fast.c; anything it
     * does not take goes to libxml2, which decides alone */
    if (len > 0 && len <= CCDA_MAX_DOCUMENT &&
        ccda_xml_parse_fast(xa, p, len, t))
        return HUB_OK;
    return ccda_xml_parse_libxml(xa, a, p, len, t, err);
}

int ccda_xml_parse_libxml(struct arena *xa, struct arena *a, const char *p,
                          size_t len, struct ccda_tree *t,
                          struct hub_err *err)
{
    struct parse_state st = { 0 };
    xmlParserCtxtPtr ctxt;
    xmlSAXHandler *sax;
    xmlDocPtr doc;
    int rc;

    t->root = NULL;
    t->ctxt = NULL;
    ccda_xml_init();
    if (len > CCDA_MAX_DOCUMENT)
        return hub_err_set_at(err, HUB_ELIMIT, "/", CCDA_MAX_DOCUMENT,
                              "document larger than the limit");
    if (len == 0)
        return hub_err_set(err, HUB_ESYNTAX, "/", 0, "document is empty");
    xml_arena = xa;
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        abort();                /* out of memory: see STYLE.md section 4 */
    st.ctxt = ctxt;
    st.a = xa;
    st.probe.type = XML_ELEMENT_NODE;
    st.probe_text.type = XML_TEXT_NODE;
    st.probe_elem.type = XML_ELEMENT_NODE;
    ctxt->_private = &st;
    /* our own SAX2 handlers build the tree; libxml2 still reads, checks
     * well-formedness and namespaces, and interns names */
    sax = ctxt->sax;
    memset(sax, 0, sizeof(*sax));
    sax->initialized = XML_SAX2_MAGIC;
    sax->internalSubset = on_doctype;
    sax->externalSubset = on_external_subset;
    sax->resolveEntity = on_resolve;
    sax->startElementNs = on_start;
    sax->endElementNs = on_end;
    sax->characters = on_text;
    sax->ignorableWhitespace = on_ignorable;
    sax->serror = on_error;
    /* comments, processing instructions: nothing reads them (no handler);
     * CDATA: as text (no cdataBlock handler, and XML_PARSE_NOCDATA) */
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    /* NONET: no network; no NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or
     * HUGE. NOERROR/NOWARNING: libxml2 prints nothing of its own. NOBLANKS:
     * see sync_probe. */
    xmlSetStructuredErrorFunc(&st, on_stray_error);   /* this thread's */
    doc = xmlCtxtReadMemory(ctxt, p, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                XML_PARSE_NOBLANKS | XML_PARSE_COMPACT);
    xmlSetStructuredErrorFunc(NULL, NULL);      /* st dies with this frame */
    /* libxml2 keeps a copy of the last error per thread: made in the arena,
     * it must not outlive it (nor a failure outlive its document) */
    xmlResetLastError();
    xml_arena = NULL;
    ctxt->node = NULL;          /* the probe dies with this frame */
    if (doc)                    /* no startDocument handler: never made */
        xmlFreeDoc(doc);
    /* the parser's refusals are at a byte, the first one included (a
     * body that is no XML at all); a refusal whose byte libxml2 could not
     * say, and the checks below, are at no place: "offset" given only for
     * a place, 0 told apart from none (F1828) */
    int (*set)(struct hub_err *, int, const char *, size_t, const char *) =
        st.err_placed ? hub_err_set_at : hub_err_set;
    if (st.doctype) {
        rc = set(err, HUB_EUNSUPPORTED, "/", st.err_offset,
                 "document has a DOCTYPE: DTDs and entities are not "
                 "accepted");
        goto fail;
    }
    if (st.xml_err != 0 || !ctxt->wellFormed) {
        /* libxml2 2.9 reports its depth and size limits as internal, and
         * an encoding it could not read too (F3422: a UTF-32 document was
         * 413, "exceeds a parser limit") */
        int limit = st.xml_err == XML_ERR_INTERNAL_ERROR && !st.unreadable;
        rc = set(err, limit ? HUB_ELIMIT : HUB_ESYNTAX, "/", st.err_offset,
                 limit ? "document exceeds a parser limit"
                       : "document is not well-formed XML");
        goto fail;
    }
    if (ctxt->hasExternalSubset) {
        rc = hub_err_set(err, HUB_EUNSUPPORTED, "/", 0,
                         "document has a DOCTYPE: DTDs and entities are "
                         "not accepted");
        goto fail;
    }
    if (st.root == NULL) {
        rc = hub_err_set(err, HUB_ESYNTAX, "/", 0, "document has no root");
        goto fail;
    }
    rc = check_shape(st.root, a, err);
    if (rc != HUB_OK)
        goto fail;
    t->root = st.root;
    t->ctxt = ctxt;
    return HUB_OK;
fail:
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void ccda_tree_free(struct ccda_tree *t)
{
    if (t && t->ctxt) {
        xmlFreeParserCtxt(t->ctxt);
        t->ctxt = NULL;
        t->root = NULL;
    }
}

/* Names are compared first byte first: most differ there, and the walk
 * asks of every child whether it is the element it looks for. */
bool ccda_is(const struct ccda_node *n, const char *name)
{
    return n && n->type == CCDA_ELEMENT && n->name[0] == name[0] &&
           strcmp(n->name, name) == 0 && n->v3;
}

bool ccda_is_ns(const struct ccda_node *n, const char *ns, const char *name)
{
    return n && n->type == CCDA_ELEMENT && strcmp(n->name, name) == 0 &&
           n->ns && strcmp(n->ns, ns) == 0;
}

struct ccda_node *ccda_child(const struct ccda_node *n, const char *name)
{
    if (n == NULL)
        return NULL;
    for (struct ccda_node *c = n->children; c; c = c->next)
        if (ccda_is(c, name))
            return c;
    return NULL;
}

struct ccda_node *ccda_next(const struct ccda_node *n, const char *name)
{
    for (struct ccda_node *c = n ? n->next : NULL; c; c = c->next)
        if (ccda_is(c, name))
            return c;
    return NULL;
}

struct ccda_node *ccda_first_elem(const struct ccda_node *n)
{
    for (struct ccda_node *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == CCDA_ELEMENT)
            return c;
    return NULL;
}

struct ccda_node *ccda_path(const struct ccda_node *n, const char *path)
{
    char name[64];
    const char *s = path;
    struct ccda_node *cur = (struct ccda_node *)n;

    while (cur && *s) {
        const char *e = strchr(s, '/');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (k == 0 || k >= sizeof(name))
            return NULL;
        memcpy(name, s, k);
        name[k] = '\0';
        cur = ccda_child(cur, name);
        s += k + (e ? 1 : 0);
    }
    return cur;
}

const char *ccda_attr(const struct ccda_node *n, const char *name)
{
    if (n == NULL || n->type != CCDA_ELEMENT)
        return NULL;
    for (const struct ccda_attr *a = n->attrs; a; a = a->next)
        if (a->ns == NULL && a->name[0] == name[0] &&
            strcmp(a->name, name) == 0)
            return a->value;
    return NULL;
}

const char *ccda_attr_ns(const struct ccda_node *n, const char *ns,
                         const char *name)
{
    if (n == NULL || n->type != CCDA_ELEMENT)
        return NULL;
    for (const struct ccda_attr *a = n->attrs; a; a = a->next)
        if (a->ns && strcmp(a->ns, ns) == 0 && strcmp(a->name, name) == 0)
            return a->value;
    return NULL;
}

bool ccda_attr_eq(const struct ccda_node *n, const char *name,
                  const char *lit)
{
    const char *v = ccda_attr(n, name);
    return v && strcmp(v, lit) == 0;
}

bool ccda_null(const struct ccda_node *n)
{
    return n == NULL || ccda_attr(n, "nullFlavor") != NULL;
}

bool ccda_has_template(const struct ccda_node *n, const char *root)
{
    CCDA_FOREACH(t, n, "templateId")
        if (ccda_attr_eq(t, "root", root))
            return true;
    return false;
}

struct slice ccda_text(struct arena *a, const struct ccda_node *n)
{
    const struct ccda_node *one = NULL;
    size_t total = 0, texts = 0;
    const char *s;

    if (n == NULL)
        return SLICE_NULL;
    for (const struct ccda_node *c = n->children; c; c = c->next)
        if (c->type == CCDA_TEXT) {
            one = c;
            total += c->len;
            texts++;
        }
    if (total == 0)
        return SLICE_NULL;
    if (texts == 1) {
        s = one->content;       /* the tree's copy: lives as long as it */
    } else {
        char *out = arena_alloc(a, total + 1), *q = out;
        for (const struct ccda_node *c = n->children; c; c = c->next)
            if (c->type == CCDA_TEXT) {
                memcpy(q, c->content, c->len);
                q += c->len;
            }
        *q = '\0';
        s = out;
    }
    /* trim XML white space (space, tab, CR, LF) */
    size_t k = total;
    while (k && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        k--;
    }
    while (k && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' ||
                 s[k - 1] == '\r'))
        k--;
    return (struct slice){ s, k };
}

const char *ccda_code_of(const struct ccda_node *n)
{
    return ccda_attr(ccda_child(n, "code"), "code");
}

bool ccda_xpath(const struct ccda_node *n, char *buf, size_t cap)
{
    const struct ccda_node *chain[CCDA_MAX_DEPTH + 2];
    int k = 0;
    size_t len = 0;

    if (cap == 0)
        return false;
    buf[0] = '\0';
    for (const struct ccda_node *c = n;
         c && c->type == CCDA_ELEMENT &&
         k < (int)(sizeof(chain) / sizeof(chain[0]));
         c = c->parent)
        chain[k++] = c;
    if (k == 0) {
        if (cap > 1) {
            buf[0] = '/';
            buf[1] = '\0';
        }
        return cap > 1;
    }
    while (k-- > 0) {
        const struct ccda_node *c = chain[k];
        const char *prefix = "";
        int pos = 0, same = 0;
        char piece[96];

        if (c->ns && strcmp(c->ns, CCDA_NS_V3) != 0)
            prefix = strcmp(c->ns, CCDA_NS_SDTC) == 0 ? "sdtc:" : "*:";
        if (c->parent && c->parent->type == CCDA_ELEMENT) {
            for (const struct ccda_node *s = c->parent->children; s;
                 s = s->next) {
                if (s->type != CCDA_ELEMENT || strcmp(s->name, c->name))
                    continue;
                same++;
                if (s == c)
                    pos = same;
            }
        }
        int m;
        if (same > 1)
            m = snprintf(piece, sizeof(piece), "/%s%.48s[%d]", prefix,
                         c->name, pos);
        else
            m = snprintf(piece, sizeof(piece), "/%s%.48s", prefix,
                         c->name);
        if (m < 0 || len + (size_t)m >= cap)
            return false;       /* cut: keep the head of the path */
        memcpy(buf + len, piece, (size_t)m + 1);
        len += (size_t)m;
    }
    return true;
}

const char *ccda_xpath_in(struct arena *a, const struct ccda_node *n,
                          const char *leaf)
{
    char path[CCDA_XPATH_MAX];
    size_t l, k = leaf ? strlen(leaf) : 0;

    (void)ccda_xpath(n, path, sizeof(path));   /* never cut: ccda_int.h */
    l = strlen(path);
    char *out = arena_alloc(a, l + (leaf ? 1 + k : 0) + 1);
    memcpy(out, path, l);
    if (leaf) {
        out[l++] = '/';
        memcpy(out + l, leaf, k);
        l += k;
    }
    out[l] = '\0';
    return out;
}

int ccda_err_at(struct hub_err *err, struct arena *a, int code,
                const struct ccda_node *n, const char *leaf,
                const char *what)
{
    char path[sizeof(err->field)];

    if (a)
        return hub_err_set_in(err, a, code, ccda_xpath_in(a, n, leaf), 0,
                              what);
    if (ccda_xpath(n, path, sizeof(path)) && leaf) {
        size_t l = strlen(path);
        int m = snprintf(path + l, sizeof(path) - l, "/%s", leaf);
        (void)m;
    }
    return hub_err_set(err, code, path, 0, what);
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool ccda_ts_iso(const char *ts, char *out, size_t cap)
{
    size_t n, body;
    const char *tz = NULL;

    if (ts == NULL || cap < 40)
        return false;
    n = strlen(ts);
    body = strcspn(ts, "+-");
    if (body < n) {
        tz = ts + body;
        if (strlen(tz) != 5 || !ascii_digits(tz + 1, 4) ||
            num(tz + 1, 2) > 14 || num(tz + 3, 2) > 59)
            return false;
    }
    /* fraction: digits after '.', only after seconds */
    size_t dot = strcspn(ts, ".");
    size_t whole = dot < body ? dot : body;
    if (!ascii_digits(ts, whole))
        return false;
    if (!(whole == 4 || whole == 6 || whole == 8 || whole == 10 ||
          whole == 12 || whole == 14))
        return false;
    if (dot < body && (whole != 14 || body - dot < 2 || body - dot > 5 ||
                       !ascii_digits(ts + dot + 1, body - dot - 1)))
        return false;
    int y = num(ts, 4);
    int mo = whole >= 6 ? num(ts + 4, 2) : 1;
    int d = whole >= 8 ? num(ts + 6, 2) : 1;
    int h = whole >= 10 ? num(ts + 8, 2) : 0;
    int mi = whole >= 12 ? num(ts + 10, 2) : 0;
    int se = whole >= 14 ? num(ts + 12, 2) : 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return false;
    /* The digits are checked: copy them ("%04d-%02d..." of their values
     * writes the same characters, at ten times the cost). Longest:
     * 19 + ".ffff" + "+hh:mm" = 30 bytes, and cap >= 40. */
    char *o = out;
    memcpy(o, ts, 4);
    o += 4;
    if (whole >= 6) {
        *o++ = '-';
        *o++ = ts[4];
        *o++ = ts[5];
    }
    if (whole >= 8) {
        *o++ = '-';
        *o++ = ts[6];
        *o++ = ts[7];
    }
    if (whole >= 10) {
        *o++ = 'T';
        *o++ = ts[8];
        *o++ = ts[9];
        *o++ = ':';
        *o++ = whole >= 12 ? ts[10] : '0';
        *o++ = whole >= 12 ? ts[11] : '0';
        *o++ = ':';
        *o++ = whole >= 14 ? ts[12] : '0';
        *o++ = whole >= 14 ? ts[13] : '0';
        if (dot < body) {       /* '.' and 1-4 digits */
            memcpy(o, ts + dot, body - dot);
            o += body - dot;
        }
        if (tz) {
            *o++ = tz[0];
            *o++ = tz[1];
            *o++ = tz[2];
            *o++ = ':';
            *o++ = tz[3];
            *o++ = tz[4];
        }
    }
    *o = '\0';
    return true;
}

bool ccda_ts_date(const char *ts, char *out, size_t cap)
{
    char full[48];

    if (!ccda_ts_iso(ts, full, sizeof(full)))
        return false;
    size_t k = strcspn(full, "T");
    if (k + 1 > cap)
        return false;
    memcpy(out, full, k);
    out[k] = '\0';
    return true;
}

static const struct {
    const char *oid, *uri;
} systems[] = {
    { OID_LOINC, "http://loinc.org" },
    { OID_SNOMED, "http://snomed.info/sct" },
    { OID_ICD10CM, "http://hl7.org/fhir/sid/icd-10-cm" },
    { "2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10" },
    { "2.16.840.1.113883.6.103", "http://hl7.org/fhir/sid/icd-9-cm" },
    { "2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm" },
    { "2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt" },
    { "2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx" },
    { "2.16.840.1.113883.6.285", "urn:oid:2.16.840.1.113883.6.285" },
    { "2.16.840.1.113883.6.101", "http://nucc.org/provider-taxonomy" },
    { "2.16.840.1.113883.5.4", "http://terminology.hl7.org/CodeSystem/v3-ActCode" },
    { "2.16.840.1.113883.5.83",
      "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation" },
};

static bool is_oid(const char *s)
{
    if (*s < '0' || *s > '9')
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            return false;
    return true;
}

/* An II root or code system as a URI, as HL7 (THO NamingSystem "uri") and
 * the hub's HL7 v2 adapter write one: an OID urn:oid:, a UUID urn:uuid: in
 * lower case; anything else (a HealthShare facility code "FHCN-PV", a bare
 * "MRN") as sent, never urn:oid: (F620): a name that is no URI is the
 * sender's own, which identity scopes by the sending organization, where
 * "urn:oid:MRN" would be one authority for everyone and join two senders'
 * patient 1234. */
const char *ccda_system_uri(const char *oid, char *buf, size_t cap)
{
    if (oid == NULL || *oid == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]); i++)
        if (strcmp(systems[i].oid, oid) == 0)
            return systems[i].uri;
    size_t n = strlen(oid);
    if (idsys_is_uuid((struct slice){ oid, n })) {
        if (cap < 9 + n + 1)
            return NULL;
        memcpy(buf, "urn:uuid:", 9);
        for (size_t i = 0; i < n; i++)
            buf[9 + i] = (oid[i] >= 'A' && oid[i] <= 'F') ? (char)(oid[i] + 32)
                                                          : oid[i];
        buf[9 + n] = '\0';
        return buf;
    }
    if (!is_oid(oid))
        return n < cap ? oid : NULL;
    int m = snprintf(buf, cap, "urn:oid:%.200s", oid);
    return m > 0 && (size_t)m < cap ? buf : NULL;
}

const char *ccda_ii_string(struct arena *a, const struct ccda_node *id)
{
    const char *root = ccda_attr(id, "root");
    const char *ext = ccda_attr(id, "extension");
    struct buf b;

    if (id == NULL || ccda_null(id) || root == NULL || *root == '\0' ||
        strlen(root) > 256 || (ext && strlen(ext) > 1024))
        return NULL;
    buf_init(&b, a, 2048);
    if (ext && *ext)
        buf_printf(&b, "urn:hl7ii:%s:%s", root, ext);
    else if (idsys_is_uuid(slice_from_cstr(root))) {
        buf_puts(&b, "urn:uuid:");
        for (const char *s = root; *s; s++)
            buf_putc(&b, (*s >= 'A' && *s <= 'F') ? (char)(*s + 32) : *s);
    } else if (is_oid(root))
        buf_printf(&b, "urn:oid:%s", root);
    else
        buf_puts(&b, root);
    return b.err ? NULL : b.p;
}

struct slice ccda_token(const char *v)
{
    struct slice s = slice_from_cstr(v);
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\n' ||
                     s.p[0] == '\r')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
                     s.p[s.len - 1] == '\n' || s.p[s.len - 1] == '\r'))
        s.len--;
    return s;
}

/* A CD as {"code", "system", "display"}; its code without the white space
 * around it (F145: "422650009 " is SNOMED CT 422650009, XML Schema's
 * token; an event's code is FHIR's, which has none). */
bool ccda_write_cd(struct jw *w, const char *key, const struct ccda_node *cd)
{
    struct slice code = ccda_token(ccda_attr(cd, "code"));
    char sysbuf[280];

    if (code.len == 0)
        return false;
    if (key)
        jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_str(w, "code", code);
    jw_kv_cstr(w, "system",
               ccda_system_uri(ccda_attr(cd, "codeSystem"), sysbuf,
                               sizeof(sysbuf)));
    jw_kv_cstr(w, "display", ccda_attr(cd, "displayName"));
    jw_obj_end(w);
    return true;
}

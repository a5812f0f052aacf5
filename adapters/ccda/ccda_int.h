/*
 * ccda_int.h - what the C-CDA adapter's files share: the guarded libxml2
 * parse, tree navigation by HL7 v3 element name and template id, XPaths for
 * errors, and the HL7 v3 data types (TS, II, CD) turned into canonical JSON.
 * Not a public API: callers use ccda.h.
 */
#ifndef HUB_CCDA_INT_H
#define HUB_CCDA_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "common/jw.h"
#include "common/slice.h"

#define CCDA_NS_V3 "urn:hl7-org:v3"
#define CCDA_NS_SDTC "urn:hl7-org:sdtc"
#define CCDA_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

#define OID_LOINC "2.16.840.1.113883.6.1"
#define OID_SNOMED "2.16.840.1.113883.6.96"
#define OID_ICD10CM "2.16.840.1.113883.6.90"

/*
 * The document as a compact read-only tree, built from libxml2's SAX2
 * events in the tree arena of ccda_xml_parse(): no per-node malloc, no
 * xmlFreeDoc walk. It holds what the adapter reads: elements (name,
 * namespace, attributes) and their text; no comments, processing
 * instructions or xmlns declarations. Blank text between elements is left
 * out by the rule libxml2's XML_PARSE_NOBLANKS applies (see ccda_xml.c).
 */
enum ccda_node_type { CCDA_ELEMENT = 1, CCDA_TEXT = 3 };

struct ccda_attr {
    const struct ccda_attr *next;
    const char *name;           /* local name; "p:name" if p is undeclared */
    const char *ns;             /* namespace URI, NULL for none */
    const char *value;          /* NUL-terminated, references decoded */
};

struct ccda_node {
    struct ccda_node *parent;   /* NULL for the root element */
    struct ccda_node *children; /* first child (element or text) */
    struct ccda_node *last;
    struct ccda_node *next;     /* next sibling */
    const char *name;           /* element: local name; text: NULL */
    const char *ns;             /* element: namespace URI or NULL */
    const struct ccda_attr *attrs;
    const char *content;        /* text: its characters (NUL-terminated) */
    size_t len;                 /* text: bytes of content */
    unsigned char type;         /* enum ccda_node_type */
    bool v3;                    /* element in urn:hl7-org:v3 or no ns */
};

/* What ccda_xml_parse() made: the root element and libxml2's parser
 * context, which owns the names the tree points to (NULL when the one-pass
 * reader of ccda_fast.c made the tree: its names are in the arena). */
struct ccda_tree {
    struct ccda_node *root;
    void *ctxt;                 /* xmlParserCtxtPtr */
};

/*
 * Parse `p` with the guards of ccda.h into a tree in `xa`, libxml2's memory
 * taken from `xa` too. Returns HUB_OK and *t (call ccda_tree_free, then
 * release `xa`; never the other way round), or an error with *err filled
 * (offset = byte where libxml2 stopped; a place too long for err->field
 * whole in `a`, the caller's arena, which outlives `xa`: ccda_err_at) and
 * nothing to free. Checks size, DOCTYPE, well-formedness, depth and
 * element count.
 */
int ccda_xml_parse(struct arena *xa, struct arena *a, const char *p,
                   size_t len, struct ccda_tree *t, struct hub_err *err);
/* The two ways ccda_xml_parse takes (exposed for the tests that compare
 * them): libxml2's, with the guards and errors above; and the one-pass
 * reader of ccda_fast.c for plain documents, which returns false (having
 * made nothing to free) on anything else. Its tree has no ctxt. */
int ccda_xml_parse_libxml(struct arena *xa, struct arena *a, const char *p,
                          size_t len, struct ccda_tree *t,
                          struct hub_err *err);
bool ccda_xml_parse_fast(struct arena *xa, const char *p, size_t len,
                         struct ccda_tree *t);
/* Free what libxml2 holds for the tree (its names); NULL-safe. */
void ccda_tree_free(struct ccda_tree *t);
/* libxml2's allocation functions and globals, once (ccda_global_init). */
void ccda_xml_init(void);

/* Element `n` is the HL7 v3 element `name` (urn:hl7-org:v3 or no ns). */
bool ccda_is(const struct ccda_node *n, const char *name);
/* Element `n` is `name` in namespace `ns`. */
bool ccda_is_ns(const struct ccda_node *n, const char *ns, const char *name);
/* First HL7 v3 child element called `name`, or NULL. */
struct ccda_node *ccda_child(const struct ccda_node *n, const char *name);
/* Next HL7 v3 sibling element called `name` after `n`, or NULL. */
struct ccda_node *ccda_next(const struct ccda_node *n, const char *name);
/* First child element of any name (the clinical statement of an entry). */
struct ccda_node *ccda_first_elem(const struct ccda_node *n);
/* Path of HL7 v3 child names ("patientRole/patient/name"), or NULL. */
struct ccda_node *ccda_path(const struct ccda_node *n, const char *path);

#define CCDA_FOREACH(c, parent, name)                                      \
    for (struct ccda_node *c = ccda_child((parent), (name)); c;            \
         c = ccda_next(c, (name)))

/* Unprefixed attribute value (borrowed from the tree) or NULL. */
const char *ccda_attr(const struct ccda_node *n, const char *name);
/* A token-typed attribute value (a code: CDA's cs, xs:token, whose white
 * space XML Schema collapses) without the XML white space around it;
 * empty for NULL. Borrows `v`. */
struct slice ccda_token(const char *v);
/* Namespaced attribute (xsi:type) or NULL. */
const char *ccda_attr_ns(const struct ccda_node *n, const char *ns,
                         const char *name);
/* True when the element has a nullFlavor (and so no value). */
bool ccda_null(const struct ccda_node *n);
/* True when `n` has <templateId root="root"/> (any extension). */
bool ccda_has_template(const struct ccda_node *n, const char *root);
/* The element's own text (text and CDATA children), trimmed, in `a`. */
struct slice ccda_text(struct arena *a, const struct ccda_node *n);
/* The code attribute of child <code>, or NULL. */
const char *ccda_code_of(const struct ccda_node *n);
/* attribute equals literal */
bool ccda_attr_eq(const struct ccda_node *n, const char *name, const char *lit);

/* XPath of `n` ("/ClinicalDocument/component/structuredBody/component[3]
 * /section"), positions only where siblings share the name, into `buf`;
 * a path longer than `cap` is cut after the last element that fits, and
 * false returned (the path then names an ancestor of `n`). Never holds a
 * value. */
bool ccda_xpath(const struct ccda_node *n, char *buf, size_t cap);
/* The XPath of `n` whole (+ "/" `leaf` when not NULL), in `a`: never cut,
 * at most CCDA_XPATH_MAX bytes and the leaf's, as a tree is at most
 * CCDA_MAX_DEPTH deep (ccda_xml_parse checks) and each of its pieces at
 * most 66 bytes ("/sdtc:", a name cut at 48, "[n]" of up to ten digits). */
#define CCDA_XPATH_MAX ((CCDA_MAX_DEPTH + 2) * 68)
const char *ccda_xpath_in(struct arena *a, const struct ccda_node *n,
                          const char *leaf);
/* Fill *err with the XPath of `n` (+ "/" `leaf` when not NULL): whole,
 * from `a` (hub_err_set_in), or cut to err->field when `a` is NULL. */
int ccda_err_at(struct hub_err *err, struct arena *a, int code,
                const struct ccda_node *n, const char *leaf,
                const char *what);

/*
 * HL7 v3 TS "YYYY[MM[DD[HH[MM[SS[.f]]]]]][+-ZZZZ]" to ISO 8601: "2013",
 * "2013-08", "2013-08-20", "2013-08-20T11:20:00-08:00" (the offset kept when
 * sent; a date drops it). Returns false when malformed. `out` >= 40 bytes.
 */
bool ccda_ts_iso(const char *ts, char *out, size_t cap);
/* Same, date part only ("1975-05-01"), for birth dates. */
bool ccda_ts_date(const char *ts, char *out, size_t cap);

/* FHIR system URI for a code system or II root: a known one's
 * ("http://loinc.org"), else "urn:oid:<oid>" or "urn:uuid:<uuid>" written
 * into `buf`, else `oid` itself, as sent (no URI: the sender's own name);
 * NULL when empty or longer than `buf` holds. */
const char *ccda_system_uri(const char *oid, char *buf, size_t cap);
/* II as a string: "urn:hl7ii:root:ext", "urn:oid:root", "urn:uuid:root";
 * NULL when the id has no usable root. In `a`. */
const char *ccda_ii_string(struct arena *a, const struct ccda_node *id);
/* Write {"code","system","display"} of a CD element; false (nothing
 * written) when it has no code. `key` may be NULL inside an array. */
bool ccda_write_cd(struct jw *w, const char *key, const struct ccda_node *cd);

#endif

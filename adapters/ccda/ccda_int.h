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

#include <libxml/tree.h>

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
 * Parse `p` with the guards of ccda.h, libxml2's memory taken from `xa`.
 * Returns HUB_OK and *doc (call xmlFreeDoc, then release `xa`; never the
 * other way round), or an error with *err filled (offset = byte where
 * libxml2 stopped). Checks size, DOCTYPE, well-formedness, depth and
 * element count.
 */
int ccda_xml_parse(struct arena *xa, const char *p, size_t len,
                   xmlDocPtr *doc, struct hub_err *err);
/* libxml2's allocation functions and globals, once (ccda_global_init). */
void ccda_xml_init(void);

/* Element `n` is the HL7 v3 element `name` (urn:hl7-org:v3 or no ns). */
bool ccda_is(const xmlNode *n, const char *name);
/* Element `n` is `name` in namespace `ns`. */
bool ccda_is_ns(const xmlNode *n, const char *ns, const char *name);
/* First HL7 v3 child element called `name`, or NULL. */
xmlNode *ccda_child(const xmlNode *n, const char *name);
/* Next HL7 v3 sibling element called `name` after `n`, or NULL. */
xmlNode *ccda_next(const xmlNode *n, const char *name);
/* First child element of any name (the clinical statement of an entry). */
xmlNode *ccda_first_elem(const xmlNode *n);
/* Path of HL7 v3 child names ("patientRole/patient/name"), or NULL. */
xmlNode *ccda_path(const xmlNode *n, const char *path);

#define CCDA_FOREACH(c, parent, name)                                      \
    for (xmlNode *c = ccda_child((parent), (name)); c; c = ccda_next(c, (name)))

/* Unprefixed attribute value (borrowed from the tree) or NULL. */
const char *ccda_attr(const xmlNode *n, const char *name);
/* Namespaced attribute (xsi:type) or NULL. */
const char *ccda_attr_ns(const xmlNode *n, const char *ns, const char *name);
/* True when the element has a nullFlavor (and so no value). */
bool ccda_null(const xmlNode *n);
/* True when `n` has <templateId root="root"/> (any extension). */
bool ccda_has_template(const xmlNode *n, const char *root);
/* The element's own text (text and CDATA children), trimmed, in `a`. */
struct slice ccda_text(struct arena *a, const xmlNode *n);
/* The code attribute of child <code>, or NULL. */
const char *ccda_code_of(const xmlNode *n);
/* attribute equals literal */
bool ccda_attr_eq(const xmlNode *n, const char *name, const char *lit);

/* XPath of `n` ("/ClinicalDocument/component/structuredBody/component[3]
 * /section"), positions only where siblings share the name, into `buf`;
 * a path longer than `cap` is cut. Never holds a value. */
void ccda_xpath(const xmlNode *n, char *buf, size_t cap);
/* Fill *err with the XPath of `n` (+ "/" `leaf` when not NULL). */
int ccda_err_at(struct hub_err *err, int code, const xmlNode *n,
                const char *leaf, const char *what);

/*
 * HL7 v3 TS "YYYY[MM[DD[HH[MM[SS[.f]]]]]][+-ZZZZ]" to ISO 8601: "2013",
 * "2013-08", "2013-08-20", "2013-08-20T11:20:00-08:00" (the offset kept when
 * sent; a date drops it). Returns false when malformed. `out` >= 40 bytes.
 */
bool ccda_ts_iso(const char *ts, char *out, size_t cap);
/* Same, date part only ("1975-05-01"), for birth dates. */
bool ccda_ts_date(const char *ts, char *out, size_t cap);

/* FHIR system URI for a code system OID ("http://loinc.org"), or
 * "urn:oid:<oid>" written into `buf`. */
const char *ccda_system_uri(const char *oid, char *buf, size_t cap);
/* II as a string: "urn:hl7ii:root:ext", "urn:oid:root", "urn:uuid:root";
 * NULL when the id has no usable root. In `a`. */
const char *ccda_ii_string(struct arena *a, const xmlNode *id);
/* Write {"code","system","display"} of a CD element; false (nothing
 * written) when it has no code. `key` may be NULL inside an array. */
bool ccda_write_cd(struct jw *w, const char *key, const xmlNode *cd);

#endif

/*
 * canary.c - see canary.h.
 */
#define _GNU_SOURCE             /* memmem */
#include "canary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testfile.h"

const char *const canary_values[] = {
    CANARY_FAMILY, CANARY_GIVEN, CANARY_MRN, CANARY_STREET, CANARY_CITY,
    CANARY_DOB, CANARY_DOB_ISO, CANARY_PHONE, CANARY_PHONE_HL7, CANARY_SSN,
    CANARY_SSN_DIGITS, CANARY_MEDICAID,
    /* tests/data/fhir/bundle-*.json: the patient's names, birth date, MRN */
    "ABBAS", "BAXTER", "1987-02-20", "19870220", "1032702",
    /* tests/data/ccda/synthetic-*.xml: given names, families, birth time */
    "Testa", "Sixer", "Heartly", "19800131", "1980-01-31", "MRN-000123",
    "10 Example Way", "518-555-0100",
    /* tests/data/csv/shinny-1115-lakeside-set1: MRNs, Medicaid ids,
     * streets, phones, birth dates */
    "LK-100234", "LK-100877", "ZZ11111A", "ZZ22222B", "Bridge Street",
    "The Lofts", "3155550100", "3155550199", "1979-03-08",
    NULL,
};

const char *canary_find(const char *text, size_t n)
{
    for (size_t i = 0; canary_values[i]; i++)
        if (memmem(text, n, canary_values[i], strlen(canary_values[i])))
            return canary_values[i];
    return NULL;
}

const char *canary_find_file(const char *path, char *line, size_t size)
{
    size_t n;
    char *text = testfile_read(path, &n);
    if (text == NULL)
        return NULL;
    const char *c = canary_find(text, n);
    if (c && line && size) {
        const char *at = memmem(text, n, c, strlen(c));
        const char *b = at, *e = at;
        while (b > text && b[-1] != '\n')
            b--;
        while (e < text + n && *e != '\n')
            e++;
        snprintf(line, size, "%.*s", (int)(e - b), b);
    }
    free(text);
    return c;
}

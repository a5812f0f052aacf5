/*
 * adt_v3.c - adt.c and its parts (adt_int.h) compiled a second time, in
 * one unit, for x86-64-v3 CPUs (AVX2, BMI1, BMI2, LZCNT, MOVBE: Intel from
 * 2013, AMD from 2015), as hl7_to_events_v3(); hl7_to_events() hands
 * over to it where the CPU has them (see HL7_HAVE_V3 in hl7v2_int.h).
 * Same source, so the same behaviour: only the instructions differ
 * (three-operand VEX forms, tzcnt, blsr, shlx), and about 2% fewer of
 * them run per message (callgrind over the bench corpus). GCC only:
 * elsewhere this file is empty and hl7_to_events() does the work
 * itself. In this unit ADT_FN is static: the parts' functions are this
 * build's own, and GCC inlines across the parts as it did when they were
 * one file.
 */
#include "hl7v2/hl7v2_int.h"

#if HL7_HAVE_V3
#pragma GCC target("avx2,bmi,bmi2,lzcnt,popcnt,movbe,fma,f16c")
#define ADT_V3 1
#include "adt.c"
#include "adt_time.c"
#include "adt_codes.c"
#include "adt_patient.c"
#include "adt_protect.c"
#include "adt_visit.c"
#endif

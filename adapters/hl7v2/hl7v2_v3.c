/*
 * hl7v2_v3.c - the parser of hl7v2.c compiled a second time, for x86-64-v3
 * CPUs, as hl7_parse_v3(); hl7_parse() hands over to it where the CPU has
 * AVX2 and BMI2. Why, and what it takes: see adt_v3.c.
 */
#include "hl7v2/hl7v2_int.h"

#if HL7_HAVE_V3
#pragma GCC target("avx2,bmi,bmi2,lzcnt,popcnt,movbe,fma,f16c")
#define HL7_V3 1
#include "hl7v2.c"
#endif

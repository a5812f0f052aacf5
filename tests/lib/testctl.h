/*
 * testctl.h - the hubctl binary of this build, run from a test.
 */
#ifndef HUB_TEST_TESTCTL_H
#define HUB_TEST_TESTCTL_H

#include <stddef.h>

/*
 * Run "hubctl ARGS" (a shell fragment, quoted by the caller), the binary
 * of $HUB_BUILD (absolute, or relative to the repository root; default
 * build), with `env` before it (variable settings such as
 * "DATABASE_URL='...'", or NULL) and its stderr sent to `err` ("&1" or
 * "/dev/null"). Its stdout goes into out (NUL-terminated, cut to size;
 * out NULL: dropped); all of it is read, so that hubctl never dies of a
 * closed pipe. Returns the exit status, -1 when it did not exit.
 */
int testctl_run(const char *env, const char *args, const char *err,
                char *out, size_t size);

#endif

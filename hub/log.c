/*
 * log.c - structured, single-line, thread-safe logging to stderr.
 * One fprintf per line under the stdio lock keeps lines whole across threads.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

void log_write(enum log_level lvl, const char *event, const char *fmt, ...)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    char msg[1024];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (lvl < min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ldZ %s %s %s\n", ts, now.tv_nsec / 1000000,
            names[lvl], event, msg);
}

/*
 * log.h - one line per event on stderr: time, level, a stable dotted name,
 * then key=value pairs. Ids, hashes, counts and error codes only: never a
 * name, birth date, identifier, address or a dump of input (STYLE.md 7).
 * Personal data should travel as `struct phi`, which printf refuses.
 */
#ifndef HUB_LOG_H
#define HUB_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* personal data: a distinct type so that "%s" with it does not compile */
struct phi {
    const char *p;
    size_t len;
};

void log_set_level(enum log_level lvl);
void log_write(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_write(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_write(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_write(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_write(LOG_ERROR, ev, __VA_ARGS__)

#endif

/*
 * accept_guard.h - what a listener does when accept() fails for want of a
 * resource: out of file descriptors (EMFILE, ENFILE) or kernel memory
 * (ENOBUFS, ENOMEM). The waiting connection stays in the listen queue, so
 * the socket stays readable, and libevent 2.1 (no error callback) would
 * call accept() again at once, for ever: a core at 100% and a libevent
 * warning a try, taken from the connections already open. The guard stops
 * the listener for a quarter of a second instead, says so once a run of
 * failures (listen.accept_failed, then listen.accept_resumed), and tries
 * again; the senders wait in the kernel's queue meanwhile.
 */
#ifndef HUB_ACCEPT_GUARD_H
#define HUB_ACCEPT_GUARD_H

#include <stdbool.h>

struct evconnlistener;
struct accept_guard;

/*
 * Guard `l` (named `name` in the log: "mllp", "https", ...). `may_enable`
 * (may be NULL) is asked before the listener is enabled again, for an
 * owner that also pauses it (the HTTPS connection limit): false leaves it
 * to the owner. Returns NULL only when out of memory.
 */
struct accept_guard *accept_guard_new(struct evconnlistener *l,
                                      const char *name,
                                      bool (*may_enable)(void *arg),
                                      void *arg);
/* Whether the guard holds the listener stopped now (its owner must not
 * enable it then). */
bool accept_guard_holding(const struct accept_guard *g);
/* Before the listener is freed. */
void accept_guard_free(struct accept_guard *g);

#endif

/*
 * peer_gone.h - has the peer of a connected socket closed it?
 *
 * evhttp 2.1 does not read a connection whose request is in our hands
 * (listen_http.c's header), so it never sees a client that leaves before
 * its answer; a long route asks the socket itself (F1100).
 */
#ifndef HUB_PEER_GONE_H
#define HUB_PEER_GONE_H

#include <stdbool.h>

/*
 * True when the peer of socket fd has closed its side (its FIN or a reset
 * arrived, whatever bytes it sent before are still unread) or the socket
 * failed; false while it is open, or when fd is -1. Does not wait, reads
 * nothing. A client that half-closes after its request (shutdown SHUT_WR)
 * and still waits for the answer counts as gone: HTTP clients do not.
 */
bool peer_gone(int fd);

#endif

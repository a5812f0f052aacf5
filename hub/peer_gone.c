/*
 * peer_gone.c - has the peer of a connected socket closed it (peer_gone.h)?
 */
#define _GNU_SOURCE                 /* POLLRDHUP */
#include <poll.h>

#include "peer_gone.h"

bool peer_gone(int fd)
{
    /* POLLRDHUP: the peer's FIN, even with its bytes before it unread
     * (a TLS close_notify, a pipelined request) */
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };

    if (fd < 0)
        return false;
    if (poll(&p, 1, 0) != 1)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/*
 * mhd.h - what weir's two libmicrohttpd daemons (the front and the admin
 * listener) do alike: both run in external epoll mode inside the one loop.
 */
#ifndef WEIR_MHD_H
#define WEIR_MHD_H

#include <sys/socket.h>

#include <stddef.h>

#include <microhttpd.h>

/*
 * A non-blocking listening socket bound to sa (backlog SOMAXCONN), for
 * MHD_OPTION_LISTEN_SOCKET: SO_REUSEADDR always, SO_REUSEPORT only when
 * reuse_port is set, so that a port another process holds is an error.
 * Returns the socket (the daemon closes it), or -1 with errno set.
 */
int	mhd_listen(const struct sockaddr *sa, socklen_t len, int reuse_port);
/* strerror(err) as it reads mid-sentence ("address already in use"), in
 * out; returns out. */
const char *mhd_strerror(int err, char *out, size_t outlen);

/* The address d is bound to, "127.0.0.1:41234" or "[::1]:41234", into
 * out; "?" if it cannot be read. */
void	mhd_address(struct MHD_Daemon *d, char *out, size_t outlen);
/* The daemon's epoll fd, for the loop to poll for reading, or -1. */
int	mhd_epoll_fd(struct MHD_Daemon *d);
/* Most milliseconds the loop may sleep for d's sake, or -1: no limit. */
long	mhd_timeout(struct MHD_Daemon *d);

#endif

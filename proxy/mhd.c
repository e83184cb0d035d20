/*
 * mhd.c - helpers the front and admin daemons share; see mhd.h.  Reads
 * the daemons' sockets' addresses, nothing else.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "mhd.h"

void
mhd_address(struct MHD_Daemon *d, char *out, size_t outlen)
{
	const union MHD_DaemonInfo	*info;
	struct sockaddr_storage		 ss;
	socklen_t			 len = sizeof(ss);
	char				 host[INET6_ADDRSTRLEN];

	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL ||
	    getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(out, outlen, "?");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host,
		    (unsigned)ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host,
		    (unsigned)ntohs(s4->sin_port));
	}
}

int
mhd_epoll_fd(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo	*info;

	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	return info != NULL ? info->epoll_fd : -1;
}

long
mhd_timeout(struct MHD_Daemon *d)
{
	MHD_UNSIGNED_LONG_LONG	 t;

	if (MHD_get_timeout(d, &t) == MHD_YES)
		return t > 1000000 ? 1000000 : (long)t;
	return -1;
}

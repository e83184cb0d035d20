/*
 * mhd.c - helpers the front and admin daemons share; see mhd.h.  Makes
 * their listening sockets and reads their addresses, nothing else.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mhd.h"

int
mhd_listen(const struct sockaddr *sa, socklen_t len, int reuse_port)
{
	int	 fd, on = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	/* SO_REUSEADDR only lets a restart bind past TIME_WAIT; it never lets
	 * two listeners share the port.  SO_REUSEPORT does, which is why it
	 * takes reuse_port: by accident it splits the clients (and the
	 * /metrics scrapes) between two processes without a word. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (reuse_port &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	/* As libmicrohttpd binds without MHD_USE_DUAL_STACK. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, sa, len) == -1 || listen(fd, SOMAXCONN) == -1)
		goto fail;
	return fd;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

const char *
mhd_strerror(int err, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", strerror(err));
	/* "address already in use", as the rest of the line reads */
	if (out[0] != '\0' && isupper((unsigned char)out[0]) &&
	    islower((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
	return out;
}

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

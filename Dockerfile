# weir in a container: a sidecar beside an app that calls the Genesys Cloud
# API, configured entirely through WEIR_* variables (see weir.conf(5) and
# docs/operations.md).
#
#	docker build -t weir .
#	docker run --rm -p 8080:8080 -p 9090:9090 -e WEIR_REGION=mypurecloud.ie weir
#
# Two stages: the first builds from source exactly as a developer does
# (autoreconf, configure, make); the second holds the binary and the
# runtime libraries only, and runs as an unprivileged user.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
	autoconf automake build-essential pkg-config \
	libcurl4-openssl-dev libhiredis-dev libjsmn-dev libmicrohttpd-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi \
 && ./configure --prefix=/usr/local --sysconfdir=/usr/local/etc \
 && make -j"$(nproc)" \
 && make install-strip DESTDIR=/out \
 && /out/usr/local/sbin/weir -V \
 && /out/usr/local/sbin/weir -t -c /out/usr/local/etc/weir.conf

FROM debian:bookworm-slim
# curl is for HEALTHCHECK (and for a person debugging inside the
# container): weir links libcurl4 anyway, so the curl program adds a few
# hundred kilobytes, and it checks the HTTP status properly, with a
# timeout, where a bash /dev/tcp probe would only see an open port or
# need a hand-written HTTP client.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
	ca-certificates curl libcurl4 libhiredis0.14 libmicrohttpd12 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 weir \
 && useradd --system --uid 10001 --gid weir --no-create-home \
	--home-dir /nonexistent --shell /usr/sbin/nologin weir
COPY --from=build /out/usr/local/sbin/weir /usr/local/sbin/weir
# The annotated reference configuration; weir reads it only when told to
# (-c /usr/local/etc/weir.conf, or WEIR_CONFIG).  WEIR_* variables beat it.
COPY --from=build /out/usr/local/etc/weir.conf /usr/local/etc/weir.conf

# Inside a container 127.0.0.1 is the container's own loopback, which
# nothing outside it reaches: listen on every address.  (In a Kubernetes
# pod the app shares weir's loopback, so 127.0.0.1 would work there too.)
ENV WEIR_LISTEN=0.0.0.0:8080 \
    WEIR_ADMIN_LISTEN=0.0.0.0:9090
EXPOSE 8080 9090

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001

# /healthz answers 503 while weir drains after SIGTERM.  The port follows
# WEIR_ADMIN_LISTEN if it is changed at run time (an IPv4 or 0.0.0.0
# address is assumed; with WEIR_ADMIN_LISTEN=off, disable the check).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
	CMD curl -fsS --max-time 2 -o /dev/null \
	    "http://127.0.0.1:${WEIR_ADMIN_LISTEN##*:}/healthz" || exit 1

# SIGTERM drains for drain_timeout (10 s by default): give docker stop,
# compose (stop_grace_period) or Kubernetes (terminationGracePeriodSeconds)
# more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/sbin/weir"]

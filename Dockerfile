# zk_monitor container image, built like Prometheus's own: the binary is
# built outside Docker and copied from .build/<os>-<arch>/, e.g.
#   CGO_ENABLED=0 GOOS=linux GOARCH=amd64 make build
#   docker build -t zk_monitor .
# (for arm64: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 make build and
#  docker build --build-arg ARCH=arm64 -t zk_monitor .)
ARG ARCH="amd64"
ARG OS="linux"
FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest
LABEL maintainer="The zk_monitor authors"
LABEL org.opencontainers.image.title="zk_monitor"
LABEL org.opencontainers.image.description="Watches ZooKeeper znodes, exports their compliance to Prometheus and sends alerts to Alertmanager."
LABEL org.opencontainers.image.source="https://github.com/zk-monitor/zk_monitor"

ARG ARCH="amd64"
ARG OS="linux"
COPY .build/${OS}-${ARCH}/zk_monitor             /bin/zk_monitor
COPY deploy/docker-compose/zk_monitor.yml        /etc/zk_monitor/zk_monitor.yml

EXPOSE     8080
USER       nobody
ENTRYPOINT [ "/bin/zk_monitor" ]
CMD        [ "--zookeeper=localhost:2181", \
             "--config.file=/etc/zk_monitor/zk_monitor.yml", \
             "--web.listen-address=:8080" ]

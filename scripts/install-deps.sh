#!/usr/bin/env bash
# Installs what zk_monitor's tests and demo need on a fresh Debian machine:
# Go modules, and the real ZooKeeper, Alertmanager and Prometheus (promtool,
# amtool) from Debian's packages. Does nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  # The packages ship services; never let them start on the machine's
  # public ports: tests and the demo start their own on loopback.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    zookeeper prometheus-alertmanager prometheus "${missing[@]}" >/dev/null
fi
go mod download

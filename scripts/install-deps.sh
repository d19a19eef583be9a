#!/bin/sh
# Installs every build and test dependency from Debian packages (apt-get only).
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  clang libclang-rt-dev \
  libssl-dev openssl libp11-kit-dev libtss2-dev \
  libgtest-dev googletest \
  opensc softhsm2 swtpm swtpm-tools libnss3-tools \
  util-linux passwd >/dev/null

#!/bin/sh
# Builds the Debian packages cng-pkcs11 and libcng-ncrypt-dev from this tree into
# ${PKG_OUT:-$BUILD_DIR} (prints their paths last). Extra arguments go to cmake's configure step.
#
# Why CPack's DEB generator and not a debian/ directory with debhelper: the packages are exactly
# the two install components of dist/CMakeLists.txt, so the install rules stay the one list of
# what is shipped (cmake --install from source and the package cannot drift apart), and CPack
# comes with cmake: nothing beyond the build dependencies is needed except dpkg-dev's
# dpkg-shlibdeps, which computes the Depends (libssl3, libtss2-*, libc6, libstdc++6...).
# The machine key store directory is a package-owned directory, not a maintainer script:
# dpkg creates it root:root 0700 and removes it on remove/purge only when it is empty.
#
# BUILD_DIR (default build-pkg): a new build directory is configured with Debian's own build
# flags (dpkg-buildflags: -O2, _FORTIFY_SOURCE, stack protector, relro); an existing one (for
# example CI's main build) is reused as it is, only re-pointed at the /usr prefix, so nothing
# is compiled twice.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-pkg}
command -v dpkg-shlibdeps >/dev/null || { echo "dpkg-shlibdeps missing: apt-get install dpkg-dev" >&2; exit 1; }

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  export DEB_BUILD_MAINT_OPTIONS="${DEB_BUILD_MAINT_OPTIONS:-hardening=+all}"
  CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
  CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
  LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
  export CFLAGS CXXFLAGS LDFLAGS
  set -- -DCMAKE_BUILD_TYPE=None -DCNG_BUILD_TESTS=OFF "$@"
fi
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
  "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target cng_pkcs11 cngkey cng_ncrypt man_pages
rm -f "$BUILD_DIR"/cng-pkcs11_*.deb "$BUILD_DIR"/libcng-ncrypt-dev_*.deb
(cd "$BUILD_DIR" && cpack -G DEB -D CPACK_STRIP_FILES=ON >cpack.log 2>&1) || {
  cat "$BUILD_DIR/cpack.log" >&2
  exit 1
}
ls "$BUILD_DIR"/cng-pkcs11_*.deb "$BUILD_DIR"/libcng-ncrypt-dev_*.deb

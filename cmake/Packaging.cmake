# Debian packages with CPack's DEB generator (scripts/package.sh builds them): one package per
# install component of dist/CMakeLists.txt.
#   cng-pkcs11         the module, its p11-kit module file, cngkey, man pages, /var/lib/cng-pkcs11
#   libcng-ncrypt-dev  libcng-ncrypt.so.0 (NCrypt API), headers, cng-ncrypt.pc
# Depends come from dpkg-shlibdeps (package dpkg-dev). Configure with
# -DCMAKE_INSTALL_PREFIX=/usr so that GNUInstallDirs gives the multiarch libdir and /var.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cng-pkcs11)
set(CPACK_PACKAGE_VENDOR "cng-pkcs11 project")
set(CPACK_PACKAGE_CONTACT "cng-pkcs11 maintainers <cng-pkcs11@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# Absolute destinations (the machine store under /var) go into the package, never the host.
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cng-pkcs11 libcng-ncrypt-dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_CNG-PKCS11_PACKAGE_NAME cng-pkcs11)
set(CPACK_DEBIAN_CNG-PKCS11_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_CNG-PKCS11_PACKAGE_RECOMMENDS "p11-kit-modules")
set(CPACK_COMPONENT_CNG-PKCS11_DESCRIPTION
  "PKCS#11 module over the Windows CNG key model
libcng_pkcs11.so gives PKCS#11 applications (Firefox/NSS, pkcs11-tool, OpenSSL,
Java, GnuTLS through p11-kit) persisted named CNG keys in a user and a machine
scope, from a software key storage provider and, with a TPM 2.0, from a
TPM-backed one. Includes the p11-kit module file, the cngkey tool and the man
pages cngkey(1) and cng-pkcs11(7).")

set(CPACK_DEBIAN_LIBCNG-NCRYPT-DEV_PACKAGE_NAME libcng-ncrypt-dev)
set(CPACK_DEBIAN_LIBCNG-NCRYPT-DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_LIBCNG-NCRYPT-DEV_DESCRIPTION
  "NCrypt key storage API of cng-pkcs11 (library and headers)
libcng-ncrypt.so implements the Windows NCrypt functions (NCryptOpenStorageProvider,
NCryptCreatePersistedKey, NCryptFinalizeKey, ...) over the same key stores as the
cng-pkcs11 PKCS#11 module. Headers <ncrypt.h> and <bcrypt.h> and the pkg-config
file cng-ncrypt.pc.")

include(CPack)

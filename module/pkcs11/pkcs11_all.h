// The PKCS#11 definitions the module uses: p11-kit's pkcs11.h (Debian libp11-kit-dev) plus
// our own header for the PKCS#11 3.0 additions p11-kit 0.24 lacks (pkcs11_v30.h).
#pragma once

#include <p11-kit/pkcs11.h>

#include "pkcs11/pkcs11_v30.h"

// PKCS#11 3.0 additions that p11-kit 0.24's pkcs11.h lacks, written from the OASIS PKCS#11 3.0
// specification. Included after <p11-kit/pkcs11.h> (see pkcs11_all.h).
#pragma once

#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID (0x4UL)
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED (0x202UL)
#endif

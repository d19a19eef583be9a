// SECURITY_STATUS → CK_RV: the one table for the NCrypt error space (reference/cng-model.md §5.3).
// Some statuses mean different things depending on the call, so the caller names its context:
// the NCrypt operation (NcryptContext, passed along) and the C_* function being served
// (EntryPointScope, set once per call by the dispatcher).
#pragma once

#include "core/p11_error.h"
#include "ncrypt.h"

namespace p11 {

enum class NcryptContext {
  kGeneral,      // anything not listed below
  kKeyGen,       // create/set property/finalize during C_GenerateKeyPair
  kOpenKey,      // NCryptOpenKey of a key behind an object
  kSign,         // NCryptSignHash
  kVerify,       // NCryptVerifySignature
  kDecrypt,      // NCryptDecrypt
  kEncrypt,      // NCryptEncrypt
  kImport,       // NCryptImportKey (C_CreateObject, C_CopyObject)
  kWrap,         // NCryptExportKey under a key-encryption key (C_WrapKey)
  kUnwrap,       // NCryptImportKey under a key-encryption key (C_UnwrapKey)
  kExport,       // NCryptExportKey of private parts
  kProperty,     // NCryptGet/SetProperty for attributes
  kPersist,      // NCryptSetProperty(NCRYPT_PERSIST_FLAG) on a token key, NCryptDeleteKey: the
                 // key store is written
  kDerive,       // NCryptSecretAgreement / NCryptDeriveKey
  kObjectStore,  // the scope's data or certificate store (cng_data_store.h, cng_cert_store.h):
                 // read, written or listed for a CKO_DATA or CKO_CERTIFICATE token object
};

// Names the C_* function this thread serves while it lives (abi/dispatch.h sets it around
// every call); rv_from_status consults the per-function rows for it first.
class EntryPointScope {
 public:
  explicit EntryPointScope(const char* function) noexcept;
  EntryPointScope(const EntryPointScope&) = delete;
  EntryPointScope& operator=(const EntryPointScope&) = delete;
  ~EntryPointScope();

 private:
  const char* previous_;
};

CK_RV rv_from_status(SECURITY_STATUS status, NcryptContext context) noexcept;

// Throws P11Error(rv_from_status(status, context), "<what> failed: NTE_…") unless status is 0.
void check_status(SECURITY_STATUS status, NcryptContext context, const char* what);

}  // namespace p11

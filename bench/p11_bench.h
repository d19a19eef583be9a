// What the stress programs of bench/ (soak, kill_loop) share: the module loaded with dlopen()
// through C_GetFunctionList, key-pair generation, the public half read back as an OpenSSL key,
// and signing through the module checked by OpenSSL. Only the module's PKCS#11 ABI is used.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cng_common/ossl_ptr.h"
#include "pkcs11/pkcs11_all.h"

namespace bench {

// The OpenSSL objects of bench/ are owned by the project's owners: Owned<EVP_PKEY>.
using cng::ossl::Owned;
using Pkey = Owned<EVP_PKEY>;

// dlopen()s the module (path, else $CNG_PKCS11_MODULE, else the built one) and returns its
// function list; exits the process with a message on failure.
CK_FUNCTION_LIST* load_module(const std::string& path);

// C_Initialize with CKF_OS_LOCKING_OK (threads of this process share the module).
CK_RV initialize(CK_FUNCTION_LIST* f);

// The name of a CK_RV for reports ("CKR_OK"), or its value in hex.
std::string rv_name(CK_RV rv);

enum class KeyKind { kP256, kRsa2048 };

struct KeyPair {
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  KeyKind kind = KeyKind::kP256;
};

// C_GenerateKeyPair with both halves labelled `label` and identified by `id`.
CK_RV generate_pair(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, KeyKind kind, bool token,
                    const std::string& label, const std::vector<std::uint8_t>& id, KeyPair& out);

// The public key of a public-key object (CKA_EC_POINT, or CKA_MODULUS + CKA_PUBLIC_EXPONENT),
// as an OpenSSL key. rv carries the module's error; a null key with CKR_OK means the value
// did not parse.
Pkey read_public(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, KeyKind kind,
                 CK_RV& rv);

// C_SignInit + C_Sign of `data` (CKM_ECDSA_SHA256 or CKM_SHA256_RSA_PKCS); the signature is
// returned in the form EVP_DigestVerify takes (DER for ECDSA).
CK_RV sign(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, KeyKind kind,
           const std::vector<std::uint8_t>& data, std::vector<std::uint8_t>& signature);

// OpenSSL's verdict on a SHA-256 signature (ECDSA DER or RSA PKCS #1 v1.5).
bool verify(EVP_PKEY* key, const std::vector<std::uint8_t>& data,
            const std::vector<std::uint8_t>& signature);

// One attribute's value (two-call protocol); rv as the module returned it.
CK_RV get_bytes(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                CK_ATTRIBUTE_TYPE type, std::vector<std::uint8_t>& value);
CK_RV get_ulong(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                CK_ATTRIBUTE_TYPE type, CK_ULONG& value);

// C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal over a template; rv of the first failure.
CK_RV find(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, std::vector<CK_ATTRIBUTE> tmpl,
           std::vector<CK_OBJECT_HANDLE>& found);

// C_SetAttributeValue(CKA_LABEL).
CK_RV set_label(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                const std::string& label);

}  // namespace bench

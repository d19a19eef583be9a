/* ncrypt.h: the NCrypt key storage API, written for the cng-pkcs11 project from the documented
 * Windows API. Function signatures, type names, constant names and numeric values follow the
 * Windows SDK; WCHAR is char16_t, so Windows code compiles unchanged once L"..." is u"...".
 * On Linux this is implemented by the cng_model library (software and platform providers). */
#ifndef CNG_MODEL_NCRYPT_H
#define CNG_MODEL_NCRYPT_H

#include "bcrypt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Handles ---- */
typedef ULONG_PTR NCRYPT_HANDLE;
typedef ULONG_PTR NCRYPT_PROV_HANDLE;
typedef ULONG_PTR NCRYPT_KEY_HANDLE;
typedef ULONG_PTR NCRYPT_HASH_HANDLE;
typedef ULONG_PTR NCRYPT_SECRET_HANDLE;

/* ---- SECURITY_STATUS codes (winerror.h) ---- */
#define NTE_BAD_UID ((SECURITY_STATUS)0x80090001L)
#define NTE_BAD_HASH ((SECURITY_STATUS)0x80090002L)
#define NTE_BAD_KEY ((SECURITY_STATUS)0x80090003L)
#define NTE_BAD_LEN ((SECURITY_STATUS)0x80090004L)
#define NTE_BAD_DATA ((SECURITY_STATUS)0x80090005L)
#define NTE_BAD_SIGNATURE ((SECURITY_STATUS)0x80090006L)
#define NTE_BAD_VER ((SECURITY_STATUS)0x80090007L)
#define NTE_BAD_ALGID ((SECURITY_STATUS)0x80090008L)
#define NTE_BAD_FLAGS ((SECURITY_STATUS)0x80090009L)
#define NTE_BAD_TYPE ((SECURITY_STATUS)0x8009000AL)
#define NTE_BAD_KEY_STATE ((SECURITY_STATUS)0x8009000BL)
#define NTE_BAD_HASH_STATE ((SECURITY_STATUS)0x8009000CL)
#define NTE_NO_KEY ((SECURITY_STATUS)0x8009000DL)
#define NTE_NO_MEMORY ((SECURITY_STATUS)0x8009000EL)
#define NTE_EXISTS ((SECURITY_STATUS)0x8009000FL)
#define NTE_PERM ((SECURITY_STATUS)0x80090010L)
#define NTE_NOT_FOUND ((SECURITY_STATUS)0x80090011L)
#define NTE_DOUBLE_ENCRYPT ((SECURITY_STATUS)0x80090012L)
#define NTE_BAD_PROVIDER ((SECURITY_STATUS)0x80090013L)
#define NTE_BAD_PROV_TYPE ((SECURITY_STATUS)0x80090014L)
#define NTE_BAD_PUBLIC_KEY ((SECURITY_STATUS)0x80090015L)
#define NTE_BAD_KEYSET ((SECURITY_STATUS)0x80090016L)
#define NTE_PROV_TYPE_NOT_DEF ((SECURITY_STATUS)0x80090017L)
#define NTE_PROV_TYPE_ENTRY_BAD ((SECURITY_STATUS)0x80090018L)
#define NTE_KEYSET_NOT_DEF ((SECURITY_STATUS)0x80090019L)
#define NTE_KEYSET_ENTRY_BAD ((SECURITY_STATUS)0x8009001AL)
#define NTE_PROV_TYPE_NO_MATCH ((SECURITY_STATUS)0x8009001BL)
#define NTE_SIGNATURE_FILE_BAD ((SECURITY_STATUS)0x8009001CL)
#define NTE_PROVIDER_DLL_FAIL ((SECURITY_STATUS)0x8009001DL)
#define NTE_PROV_DLL_NOT_FOUND ((SECURITY_STATUS)0x8009001EL)
#define NTE_BAD_KEYSET_PARAM ((SECURITY_STATUS)0x8009001FL)
#define NTE_FAIL ((SECURITY_STATUS)0x80090020L)
#define NTE_SYS_ERR ((SECURITY_STATUS)0x80090021L)
#define NTE_SILENT_CONTEXT ((SECURITY_STATUS)0x80090022L)
#define NTE_TOKEN_KEYSET_STORAGE_FULL ((SECURITY_STATUS)0x80090023L)
#define NTE_TEMPORARY_PROFILE ((SECURITY_STATUS)0x80090024L)
#define NTE_FIXEDPARAMETER ((SECURITY_STATUS)0x80090025L)
#define NTE_INVALID_HANDLE ((SECURITY_STATUS)0x80090026L)
#define NTE_INVALID_PARAMETER ((SECURITY_STATUS)0x80090027L)
#define NTE_BUFFER_TOO_SMALL ((SECURITY_STATUS)0x80090028L)
#define NTE_NOT_SUPPORTED ((SECURITY_STATUS)0x80090029L)
#define NTE_NO_MORE_ITEMS ((SECURITY_STATUS)0x8009002AL)
#define NTE_BUFFERS_OVERLAP ((SECURITY_STATUS)0x8009002BL)
#define NTE_DECRYPTION_FAILURE ((SECURITY_STATUS)0x8009002CL)
#define NTE_INTERNAL_ERROR ((SECURITY_STATUS)0x8009002DL)
#define NTE_UI_REQUIRED ((SECURITY_STATUS)0x8009002EL)
#define NTE_HMAC_NOT_SUPPORTED ((SECURITY_STATUS)0x8009002FL)
#define NTE_DEVICE_NOT_READY ((SECURITY_STATUS)0x80090030L)
#define NTE_AUTHENTICATION_IGNORED ((SECURITY_STATUS)0x80090031L)
#define NTE_VALIDATION_FAILED ((SECURITY_STATUS)0x80090032L)
#define NTE_INCORRECT_PASSWORD ((SECURITY_STATUS)0x80090033L)
#define NTE_ENCRYPTION_FAILURE ((SECURITY_STATUS)0x80090034L)
#define NTE_DEVICE_NOT_FOUND ((SECURITY_STATUS)0x80090035L)
#define NTE_USER_CANCELLED ((SECURITY_STATUS)0x80090036L)
#define NTE_PASSWORD_CHANGE_REQUIRED ((SECURITY_STATUS)0x80090037L)
#define NTE_NOT_ACTIVE_CONSOLE ((SECURITY_STATUS)0x80090038L)
#define NTE_VBS_UNAVAILABLE ((SECURITY_STATUS)0x80090039L)
#define NTE_VBS_CANNOT_DECRYPT_KEY ((SECURITY_STATUS)0x8009003AL)

/* Smart-card statuses (winerror.h on Windows) that the smart-card KSP returns for a PIN given
 * through NCRYPT_PIN_PROPERTY: wrong PIN, and PIN blocked after too many wrong ones. This
 * library's optional scope PIN (cng_scope_pin.h) answers with the same two. */
#ifndef SCARD_W_WRONG_CHV
#define SCARD_W_WRONG_CHV ((SECURITY_STATUS)0x8010006BL)
#endif
#ifndef SCARD_W_CHV_BLOCKED
#define SCARD_W_CHV_BLOCKED ((SECURITY_STATUS)0x8010006CL)
#endif

/* ---- Provider names ---- */
#define MS_KEY_STORAGE_PROVIDER u"Microsoft Software Key Storage Provider"
#define MS_SMART_CARD_KEY_STORAGE_PROVIDER u"Microsoft Smart Card Key Storage Provider"
#define MS_PLATFORM_KEY_STORAGE_PROVIDER u"Microsoft Platform Crypto Provider"
#define MS_PLATFORM_CRYPTO_PROVIDER u"Microsoft Platform Crypto Provider"
#define MS_NGC_KEY_STORAGE_PROVIDER u"Microsoft Passport Key Storage Provider"

/* ---- Algorithm identifiers (same strings as bcrypt.h) ---- */
#define NCRYPT_RSA_ALGORITHM BCRYPT_RSA_ALGORITHM
#define NCRYPT_RSA_SIGN_ALGORITHM BCRYPT_RSA_SIGN_ALGORITHM
#define NCRYPT_DH_ALGORITHM BCRYPT_DH_ALGORITHM
#define NCRYPT_DSA_ALGORITHM BCRYPT_DSA_ALGORITHM
#define NCRYPT_ECDSA_P256_ALGORITHM BCRYPT_ECDSA_P256_ALGORITHM
#define NCRYPT_ECDSA_P384_ALGORITHM BCRYPT_ECDSA_P384_ALGORITHM
#define NCRYPT_ECDSA_P521_ALGORITHM BCRYPT_ECDSA_P521_ALGORITHM
#define NCRYPT_ECDH_P256_ALGORITHM BCRYPT_ECDH_P256_ALGORITHM
#define NCRYPT_ECDH_P384_ALGORITHM BCRYPT_ECDH_P384_ALGORITHM
#define NCRYPT_ECDH_P521_ALGORITHM BCRYPT_ECDH_P521_ALGORITHM
#define NCRYPT_ECDSA_ALGORITHM BCRYPT_ECDSA_ALGORITHM
#define NCRYPT_ECDH_ALGORITHM BCRYPT_ECDH_ALGORITHM
#define NCRYPT_AES_ALGORITHM BCRYPT_AES_ALGORITHM
#define NCRYPT_SHA1_ALGORITHM BCRYPT_SHA1_ALGORITHM
#define NCRYPT_SHA256_ALGORITHM BCRYPT_SHA256_ALGORITHM
#define NCRYPT_SHA384_ALGORITHM BCRYPT_SHA384_ALGORITHM
#define NCRYPT_SHA512_ALGORITHM BCRYPT_SHA512_ALGORITHM

/* Algorithm groups */
#define NCRYPT_RSA_ALGORITHM_GROUP NCRYPT_RSA_ALGORITHM
#define NCRYPT_DH_ALGORITHM_GROUP NCRYPT_DH_ALGORITHM
#define NCRYPT_DSA_ALGORITHM_GROUP NCRYPT_DSA_ALGORITHM
#define NCRYPT_ECDSA_ALGORITHM_GROUP u"ECDSA"
#define NCRYPT_ECDH_ALGORITHM_GROUP u"ECDH"
#define NCRYPT_AES_ALGORITHM_GROUP NCRYPT_AES_ALGORITHM

/* Algorithm classes and operations (NCryptAlgorithmName) */
#define NCRYPT_CIPHER_INTERFACE 0x00000001
#define NCRYPT_HASH_INTERFACE 0x00000002
#define NCRYPT_ASYMMETRIC_ENCRYPTION_INTERFACE 0x00000003
#define NCRYPT_SECRET_AGREEMENT_INTERFACE 0x00000004
#define NCRYPT_SIGNATURE_INTERFACE 0x00000005
#define NCRYPT_KEY_STORAGE_INTERFACE 0x00010001
#define NCRYPT_SCHANNEL_INTERFACE 0x00010002
#define NCRYPT_CIPHER_OPERATION BCRYPT_CIPHER_OPERATION
#define NCRYPT_HASH_OPERATION BCRYPT_HASH_OPERATION
#define NCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION BCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION
#define NCRYPT_SECRET_AGREEMENT_OPERATION BCRYPT_SECRET_AGREEMENT_OPERATION
#define NCRYPT_SIGNATURE_OPERATION BCRYPT_SIGNATURE_OPERATION
#define NCRYPT_RNG_OPERATION BCRYPT_RNG_OPERATION
#define NCRYPT_KEY_DERIVATION_OPERATION BCRYPT_KEY_DERIVATION_OPERATION

/* ---- Flags (values reused across functions; each function checks its own set) ---- */
#define NCRYPT_NO_PADDING_FLAG 0x00000001
#define NCRYPT_PAD_PKCS1_FLAG 0x00000002
#define NCRYPT_PAD_OAEP_FLAG 0x00000004
#define NCRYPT_PAD_PSS_FLAG 0x00000008
#define NCRYPT_PAD_CIPHER_FLAG 0x00000010
#define NCRYPT_NO_KEY_VALIDATION BCRYPT_NO_KEY_VALIDATION
#define NCRYPT_MACHINE_KEY_FLAG 0x00000020
#define NCRYPT_ATTESTATION_FLAG 0x00000020
#define NCRYPT_SILENT_FLAG 0x00000040
#define NCRYPT_OVERWRITE_KEY_FLAG 0x00000080
#define NCRYPT_AUTHORITY_KEY_FLAG 0x00000100
#define NCRYPT_SEALING_FLAG 0x00000100
#define NCRYPT_WRITE_KEY_TO_LEGACY_STORE_FLAG 0x00000200
#define NCRYPT_DO_NOT_FINALIZE_FLAG 0x00000400
#define NCRYPT_EXPORT_LEGACY_FLAG 0x00000800
#define NCRYPT_IGNORE_DEVICE_STATE_FLAG 0x00001000
#define NCRYPT_TREAT_NIST_AS_GENERIC_ECC_FLAG 0x00002000
#define NCRYPT_NO_CACHED_PASSWORD 0x00004000
#define NCRYPT_PROTECT_TO_LOCAL_SYSTEM 0x00008000
#define NCRYPT_PREFER_VIRTUAL_ISOLATION_FLAG 0x00010000
#define NCRYPT_USE_VIRTUAL_ISOLATION_FLAG 0x00020000
#define NCRYPT_USE_PER_BOOT_KEY_FLAG 0x00040000
#define NCRYPT_PREFER_VBS_FLAG NCRYPT_PREFER_VIRTUAL_ISOLATION_FLAG
#define NCRYPT_REQUIRE_VBS_FLAG NCRYPT_USE_VIRTUAL_ISOLATION_FLAG
#define NCRYPT_USE_VBS_PER_BOOT_KEY_FLAG NCRYPT_USE_PER_BOOT_KEY_FLAG
#define NCRYPT_EXTENDED_ERRORS_FLAG 0x10000000
#define NCRYPT_PERSIST_ONLY_FLAG 0x40000000
#define NCRYPT_PERSIST_FLAG 0x80000000

/* Legacy key specs (wincrypt.h) */
#ifndef AT_KEYEXCHANGE
#define AT_KEYEXCHANGE 1
#define AT_SIGNATURE 2
#endif

/* ---- Limits ---- */
#define NCRYPT_MAX_KEY_NAME_LENGTH 512
#define NCRYPT_MAX_ALG_ID_LENGTH 512
#define NCRYPT_MAX_PROPERTY_NAME 64
#define NCRYPT_MAX_PROPERTY_DATA 0x100000

/* ---- Property names ---- */
#define NCRYPT_NAME_PROPERTY u"Name"
#define NCRYPT_UNIQUE_NAME_PROPERTY u"Unique Name"
#define NCRYPT_ALGORITHM_PROPERTY u"Algorithm Name"
#define NCRYPT_LENGTH_PROPERTY u"Length"
#define NCRYPT_LENGTHS_PROPERTY u"Lengths"
#define NCRYPT_BLOCK_LENGTH_PROPERTY u"Block Length"
#define NCRYPT_PUBLIC_LENGTH_PROPERTY u"PublicKeyLength"
#define NCRYPT_SIGNATURE_LENGTH_PROPERTY u"SignatureLength"
#define NCRYPT_CHAINING_MODE_PROPERTY u"Chaining Mode"
#define NCRYPT_AUTH_TAG_LENGTH u"AuthTagLength"
#define NCRYPT_UI_POLICY_PROPERTY u"UI Policy"
#define NCRYPT_EXPORT_POLICY_PROPERTY u"Export Policy"
#define NCRYPT_WINDOW_HANDLE_PROPERTY u"HWND Handle"
#define NCRYPT_USE_CONTEXT_PROPERTY u"Use Context"
#define NCRYPT_IMPL_TYPE_PROPERTY u"Impl Type"
#define NCRYPT_KEY_USAGE_PROPERTY u"Key Usage"
#define NCRYPT_KEY_TYPE_PROPERTY u"Key Type"
#define NCRYPT_VERSION_PROPERTY u"Version"
#define NCRYPT_SECURITY_DESCR_SUPPORT_PROPERTY u"Security Descr Support"
#define NCRYPT_SECURITY_DESCR_PROPERTY u"Security Descr"
#define NCRYPT_USE_COUNT_ENABLED_PROPERTY u"Enabled Use Count"
#define NCRYPT_USE_COUNT_PROPERTY u"Use Count"
#define NCRYPT_LAST_MODIFIED_PROPERTY u"Modified"
#define NCRYPT_MAX_NAME_LENGTH_PROPERTY u"Max Name Length"
#define NCRYPT_ALGORITHM_GROUP_PROPERTY u"Algorithm Group"
#define NCRYPT_DH_PARAMETERS_PROPERTY u"DHParameters"
#define NCRYPT_ECC_CURVE_NAME_PROPERTY u"ECCCurveName"
#define NCRYPT_ECC_PARAMETERS_PROPERTY u"ECCParameters"
#define NCRYPT_PROVIDER_HANDLE_PROPERTY u"Provider Handle"
#define NCRYPT_PIN_PROPERTY u"SmartCardPin"
#define NCRYPT_READER_PROPERTY u"SmartCardReader"
#define NCRYPT_CERTIFICATE_PROPERTY u"SmartCardKeyCertificate"
#define NCRYPT_EPHEMERAL_NAME_PROPERTY u"Ephemeral Name"
#define NCRYPT_USE_VIRTUAL_ISOLATION_PROPERTY u"Virtual Iso"
#define NCRYPT_USE_PER_BOOT_KEY_PROPERTY u"Per Boot Key"

/* Platform Crypto Provider properties */
#define NCRYPT_PCP_PLATFORM_TYPE_PROPERTY u"PCP_PLATFORM_TYPE"
#define NCRYPT_PCP_PROVIDER_VERSION_PROPERTY u"PCP_PROVIDER_VERSION"
#define NCRYPT_PCP_EKPUB_PROPERTY u"PCP_EKPUB"
#define NCRYPT_PCP_SRKPUB_PROPERTY u"PCP_SRKPUB"
#define NCRYPT_PCP_KEY_USAGE_POLICY_PROPERTY u"PCP_KEY_USAGE_POLICY"
#define NCRYPT_PCP_TPM_VERSION_PROPERTY u"PCP_TPM_VERSION"
#define NCRYPT_PCP_TPM_MANUFACTURER_ID_PROPERTY u"PCP_TPM_MANUFACTURER_ID"
#define NCRYPT_PCP_TPM_FW_VERSION_PROPERTY u"PCP_TPM_FW_VERSION"
#define NCRYPT_PCP_PASSWORD_REQUIRED_PROPERTY u"PCP_PASSWORD_REQUIRED"
#define NCRYPT_PCP_USAGEAUTH_PROPERTY u"PCP_USAGEAUTH"
#define NCRYPT_PCP_EXPORT_ALLOWED_PROPERTY u"PCP_EXPORT_ALLOWED"
#define NCRYPT_PCP_STORAGEPARENT_PROPERTY u"PCP_STORAGEPARENT"
#define NCRYPT_PCP_TPM2BNAME_PROPERTY u"PCP_TPM2BNAME"
#define NCRYPT_PCP_PSS_SALT_SIZE_PROPERTY u"PSS Salt Size"
#define NCRYPT_TPM_PSS_SALT_SIZE_UNKNOWN 0x00000000
#define NCRYPT_TPM_PSS_SALT_SIZE_MAXIMUM 0x00000001
#define NCRYPT_TPM_PSS_SALT_SIZE_HASHSIZE 0x00000002
#define NCRYPT_TPM_PAD_PSS_IGNORE_SALT 0x00000020
#define NCRYPT_PCP_SIGNATURE_KEY 0x00000001
#define NCRYPT_PCP_ENCRYPTION_KEY 0x00000002
#define NCRYPT_PCP_GENERIC_KEY (NCRYPT_PCP_SIGNATURE_KEY | NCRYPT_PCP_ENCRYPTION_KEY)
#define NCRYPT_PCP_STORAGE_KEY 0x00000004
#define NCRYPT_PCP_IDENTITY_KEY 0x00000008

/* Export Policy values */
#define NCRYPT_ALLOW_EXPORT_FLAG 0x00000001
#define NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG 0x00000002
#define NCRYPT_ALLOW_ARCHIVING_FLAG 0x00000004
#define NCRYPT_ALLOW_PLAINTEXT_ARCHIVING_FLAG 0x00000008

/* Impl Type values */
#define NCRYPT_IMPL_HARDWARE_FLAG 0x00000001
#define NCRYPT_IMPL_SOFTWARE_FLAG 0x00000002
#define NCRYPT_IMPL_REMOVABLE_FLAG 0x00000008
#define NCRYPT_IMPL_HARDWARE_RNG_FLAG 0x00000010
#define NCRYPT_IMPL_VIRTUAL_ISOLATION_FLAG 0x00000020

/* Key Usage values */
#define NCRYPT_ALLOW_DECRYPT_FLAG 0x00000001
#define NCRYPT_ALLOW_SIGNING_FLAG 0x00000002
#define NCRYPT_ALLOW_KEY_AGREEMENT_FLAG 0x00000004
#define NCRYPT_ALLOW_KEY_IMPORT_FLAG 0x00000008
#define NCRYPT_ALLOW_KEY_ATTESTATION_FLAG 0x00000010
#define NCRYPT_ALLOW_ALL_USAGES 0x00ffffff

/* UI Policy values */
#define NCRYPT_UI_PROTECT_KEY_FLAG 0x00000001
#define NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG 0x00000002

/* ---- Blob types ---- */
#define NCRYPT_CIPHER_KEY_BLOB u"CipherKeyBlob"
#define NCRYPT_PKCS7_ENVELOPE_BLOB u"PKCS7_ENVELOPE"
#define NCRYPT_PKCS8_PRIVATE_KEY_BLOB u"PKCS8_PRIVATEKEY"
#define NCRYPT_OPAQUETRANSPORT_BLOB u"OpaqueTransport"

/* NCRYPT_CIPHER_KEY_BLOB ("CipherKeyBlob"), export and import of symmetric keys:
 *   NCRYPT_KEY_BLOB_HEADER {cbSize = sizeof header (16), dwMagic = NCRYPT_CIPHER_KEY_BLOB_MAGIC,
 *                           cbAlgName = bytes of the name incl. its NUL, cbKeyData}
 *   the algorithm id, UTF-16LE, NUL-terminated (cbAlgName bytes): u"AES" or u"GENERIC_SECRET"
 *   a BCRYPT_KEY_DATA_BLOB (cbKeyData bytes): BCRYPT_KEY_DATA_BLOB_HEADER {dwMagic =
 *     BCRYPT_KEY_DATA_BLOB_MAGIC, dwVersion = BCRYPT_KEY_DATA_BLOB_VERSION1, cbKeyData = n},
 *     then the n key bytes.
 * Export needs NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG in the key's Export Policy (else
 * NTE_NOT_SUPPORTED). Import: a bad header, magic, version or size is NTE_BAD_DATA (a bad
 * outer magic NTE_INVALID_PARAMETER), a key length the algorithm does not support
 * NTE_NOT_SUPPORTED; NCRYPTBUFFER_PKCS_KEY_NAME names a persisted key and
 * NCRYPT_DO_NOT_FINALIZE_FLAG leaves it open for Export Policy / Key Usage, as for RSA/EC. */
#define NCRYPT_CIPHER_KEY_BLOB_MAGIC 0x52485043UL /* CPHR */
typedef struct _NCRYPT_KEY_BLOB_HEADER {
  ULONG cbSize;
  ULONG dwMagic;
  ULONG cbAlgName;
  ULONG cbKeyData;
} NCRYPT_KEY_BLOB_HEADER, *PNCRYPT_KEY_BLOB_HEADER;

/* ---- Symmetric encryption (NCryptEncrypt / NCryptDecrypt on an AES key) ----
 * dwFlags = NCRYPT_PAD_CIPHER_FLAG (required for AES keys; any other padding flag is
 * NTE_INVALID_PARAMETER) and pPaddingInfo = NCRYPT_CIPHER_PADDING_INFO (cbSize = its size).
 * The mode is the handle's NCRYPT_CHAINING_MODE_PROPERTY (BCRYPT_CHAIN_MODE_CBC by default,
 * ECB, GCM; a per-handle setting, not persisted):
 *   ECB: dwFlags NCRYPT_CIPHER_NO_PADDING_FLAG or NCRYPT_CIPHER_BLOCK_PADDING_FLAG (PKCS#7);
 *        cbIV must be 0.
 *   CBC: as ECB, and pbIV/cbIV = the 16-byte IV. On success pbIV holds the chaining value
 *        (the last ciphertext block), so a caller continues a multi-part CBC operation with
 *        the same info; on failure or a size query pbIV is left untouched.
 *   GCM: dwFlags NCRYPT_CIPHER_OTHER_PADDING_FLAG, cbIV 0, pbOtherInfo =
 *        BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO (cbOtherInfo = its size; cbSize likewise,
 *        dwInfoVersion 1, dwFlags 0 — BCRYPT_AUTH_MODE_CHAIN_CALLS_FLAG is NTE_NOT_SUPPORTED):
 *        pbNonce/cbNonce (1..256 bytes; 12 recommended), pbAuthData/cbAuthData (optional AAD),
 *        pbTag/cbTag (4..16 bytes, see NCRYPT_AUTH_TAG_LENGTH): written on encrypt, checked on
 *        decrypt. A wrong tag is STATUS_AUTH_TAG_MISMATCH and no plaintext is written.
 * Output sizes (two-call protocol, pbOutput NULL → size only, nothing computed): ECB/CBC
 * without padding = cbInput; encrypt with padding = cbInput rounded up to the next multiple of
 * 16 (a full block added when already a multiple); decrypt with padding: the query answers
 * cbInput, the call the exact plaintext size (NTE_BUFFER_TOO_SMALL with that size in
 * *pcbResult if cbOutput is shorter); GCM = cbInput. In-place (pbOutput == pbInput) is allowed.
 * pbOutput NULL is always a size query: to run a call whose output is empty (GCM over an empty
 * message, for its tag) pass any non-NULL pbOutput with cbOutput 0.
 * Errors: cbInput not a multiple of 16 where one is needed → NTE_BAD_LEN; bad PKCS#7 padding
 * → NTE_BAD_DATA; wrong IV/nonce/tag length, NULL info, wrong cbSize, mode/flag mismatch →
 * NTE_INVALID_PARAMETER; unknown NCRYPT_CIPHER_PADDING_INFO.dwFlags → NTE_BAD_FLAGS; Key Usage
 * without NCRYPT_ALLOW_DECRYPT_FLAG (needed for both directions) → NTE_PERM.
 * AES key properties: Algorithm Group NCRYPT_AES_ALGORITHM_GROUP; Length 128/192/256 (default
 * 256, settable before finalize); Lengths {128, 256, 64, 256}; Block Length 16;
 * NCRYPT_AUTH_TAG_LENGTH = BCRYPT_AUTH_TAG_LENGTHS_STRUCT {4, 16, 1} in GCM mode only
 * (NTE_NOT_SUPPORTED in ECB/CBC); no PublicKeyLength/SignatureLength (NTE_NOT_SUPPORTED). */
#define NCRYPT_CIPHER_NO_PADDING_FLAG 0x00000000
#define NCRYPT_CIPHER_BLOCK_PADDING_FLAG 0x00000001
#define NCRYPT_CIPHER_OTHER_PADDING_FLAG 0x00000002
typedef struct _NCRYPT_CIPHER_PADDING_INFO {
  ULONG cbSize;
  DWORD dwFlags;
  PUCHAR pbIV;
  ULONG cbIV;
  PUCHAR pbOtherInfo;
  ULONG cbOtherInfo;
} NCRYPT_CIPHER_PADDING_INFO, *PNCRYPT_CIPHER_PADDING_INFO;

/* ---- cng_model extension: generic secret keys and HMAC ----
 * CNG has no generic-secret KSP key; the model adds one so PKCS#11 CKK_GENERIC_SECRET token
 * keys are CNG keys like the others (persisted, Export Policy, Key Usage, CipherKeyBlob).
 * NCryptCreatePersistedKey(..., NCRYPT_GENERIC_SECRET_ALGORITHM, ...); Length 8..4096 bits in
 * steps of 8 (default 256); Algorithm Group NCRYPT_GENERIC_SECRET_ALGORITHM_GROUP.
 * HMAC: NCryptSignHash / NCryptVerifySignature with dwFlags 0 or NCRYPT_SILENT_FLAG
 * (NCRYPT_PAD_PKCS1/PSS_FLAG → NTE_INVALID_PARAMETER, other bits NTE_BAD_FLAGS), pbHashValue = the
 * whole message (any length, also 0 with a non-NULL pointer), pPaddingInfo =
 * NCRYPT_HMAC_PADDING_INFO naming the hash. Like ECDSA, the key type implies the form of its
 * padding information; its first member has the place and meaning of
 * BCRYPT_PKCS1_PADDING_INFO.pszAlgId. cbMac asks for a truncated MAC (PKCS#11 *_HMAC_GENERAL):
 * sign writes the first cbMac bytes; verify needs cbSignature == cbMac (else NTE_BAD_SIGNATURE)
 * and compares in constant time. Key Usage needs NCRYPT_ALLOW_SIGNING_FLAG (NTE_PERM).
 * Hash "MD5" or unknown → NTE_NOT_SUPPORTED / NTE_INVALID_PARAMETER; cbMac > hash size →
 * NTE_INVALID_PARAMETER; a MAC that does not match → NTE_BAD_SIGNATURE. */
#define NCRYPT_GENERIC_SECRET_ALGORITHM u"GENERIC_SECRET"
#define NCRYPT_GENERIC_SECRET_ALGORITHM_GROUP NCRYPT_GENERIC_SECRET_ALGORITHM
#define NCRYPT_GENERIC_SECRET_MIN_LENGTH 8
#define NCRYPT_GENERIC_SECRET_MAX_LENGTH 4096
#define NCRYPT_SHA224_ALGORITHM u"SHA224" /* HMAC and RSA key-wrap OAEP only; CNG has none */
typedef struct _NCRYPT_HMAC_PADDING_INFO {
  LPCWSTR pszAlgId; /* "SHA1", "SHA224", "SHA256", "SHA384", "SHA512" */
  ULONG cbMac;      /* 0: the full hash size; else 1..hash size bytes (truncated MAC) */
} NCRYPT_HMAC_PADDING_INFO;

/* ---- Key wrapping: NCryptExportKey with hExportKey / NCryptImportKey with hImportKey ----
 * The wrapping key is a finalized AES key (else NTE_BAD_KEY; not finalized NTE_BAD_KEY_STATE)
 * whose Key Usage has NCRYPT_ALLOW_KEY_IMPORT_FLAG, for wrapping and unwrapping alike (else
 * NTE_PERM). Blob types:
 *   BCRYPT_AES_WRAP_KEY_BLOB (u"Rfc3565KeyWrapBlob"): RFC 3394 AES key wrap; the input must be
 *     a multiple of 8 bytes, at least 16 (else NTE_BAD_LEN).
 *   NCRYPT_AES_WRAP_PAD_KEY_BLOB (model extension): RFC 5649 key wrap with padding, any length.
 *   NCRYPT_AES_WRAP_PKCS7_KEY_BLOB (model extension): RFC 3394 over the input padded with
 *     PKCS#7 to a multiple of 8 bytes (1..8 pad bytes); inputs of 8 bytes or more.
 * What is wrapped: a symmetric key's bytes (AES, GENERIC_SECRET); an RSA or EC private key's
 * PKCS#8 PrivateKeyInfo DER. The plaintext never leaves cng_model. Export needs
 * NCRYPT_ALLOW_EXPORT_FLAG in the exported key's Export Policy (else NTE_NOT_SUPPORTED); a
 * public-only key is NTE_BAD_TYPE. Other blob types with hExportKey/hImportKey, and these
 * blob types without one, are NTE_NOT_SUPPORTED / NTE_INVALID_PARAMETER.
 * Import: pParameterList must carry NCRYPTBUFFER_PKCS_ALG_ID, the UTF-16 algorithm id of the
 * unwrapped key (u"AES", u"GENERIC_SECRET", u"RSA", or an EC id: an EC PKCS#8 key becomes an
 * "ECDH_<curve>" key, which signs and agrees, as for a PKCS#8 import on Windows; a named curve
 * in the id must match) — missing: NTE_INVALID_PARAMETER; not matching the unwrapped key:
 * NTE_BAD_DATA; an id the model does not know: NTE_NOT_SUPPORTED. NCRYPTBUFFER_PKCS_KEY_NAME,
 * NCRYPT_DO_NOT_FINALIZE_FLAG, NCRYPT_MACHINE_KEY_FLAG and NCRYPT_OVERWRITE_KEY_FLAG work as for a
 * plaintext import. A wrapped length that cannot be is NTE_BAD_LEN; an integrity (or padding)
 * failure on unwrap is NTE_BAD_DATA. */
#define NCRYPT_AES_WRAP_PAD_KEY_BLOB u"Rfc5649KeyWrapPadBlob"
#define NCRYPT_AES_WRAP_PKCS7_KEY_BLOB u"Rfc3394Pkcs7KeyWrapBlob"

/* ---- cng_model extension: RSA-encrypted key blobs (NCRYPT_RSA_WRAP_KEY_BLOB) ----
 * A symmetric key (AES, GENERIC_SECRET) encrypted to an RSA key, RFC 8017 RSAES-PKCS1-v1_5 or
 * RSAES-OAEP over the key's bytes (what PKCS#11 CKM_RSA_PKCS / CKM_RSA_PKCS_OAEP key wrapping
 * makes). CNG has no such blob: its RSA keys wrap nothing inside the provider.
 *   NCryptExportKey(hKey = the symmetric key, hExportKey = a finalized RSA key, public-only or
 *     with its private part; no Key Usage needed, as for NCryptEncrypt): the output is the
 *     RSA ciphertext, as long as the modulus. Export Policy as for the AES wrap blobs.
 *   NCryptImportKey(hImportKey = a finalized RSA key with its private part and Key Usage
 *     NCRYPT_ALLOW_DECRYPT_FLAG (else NTE_PERM), as for NCryptDecrypt): decrypts and imports
 *     the bytes as a key of NCRYPTBUFFER_PKCS_ALG_ID (u"AES" or u"GENERIC_SECRET"; a known
 *     asymmetric id is NTE_NOT_SUPPORTED). NCRYPTBUFFER_PKCS_KEY_NAME and the flags work as
 *     for the AES wrap blobs.
 * pParameterList, in both calls, names the padding as NCryptEncrypt's arguments would:
 *   NCRYPTBUFFER_RSA_PADDING_FLAG  a DWORD: NCRYPT_PAD_PKCS1_FLAG or NCRYPT_PAD_OAEP_FLAG
 *                                  (required).
 *   NCRYPTBUFFER_RSA_OAEP_HASH     OAEP (required): the UTF-16 hash id (u"SHA1", u"SHA256",
 *                                  u"SHA384", u"SHA512", or the model's u"SHA224"), used for
 *                                  the OAEP digest and for MGF1 alike.
 *   NCRYPTBUFFER_RSA_OAEP_LABEL    OAEP (optional): the label bytes (none: the empty label).
 * Errors: the wrapping key not finalized NTE_BAD_KEY_STATE; not RSA, or (import) without its
 * private part NTE_BAD_KEY; a missing, malformed or repeated padding buffer, another padding
 * flag, an OAEP buffer with PKCS1, an unknown hash → NTE_INVALID_PARAMETER (MD5:
 * NTE_NOT_SUPPORTED); hKey an RSA or EC key NTE_BAD_TYPE; the key too long for the modulus
 * (more than k - 11 bytes for PKCS1, k - 2 * hash size - 2 for OAEP, k the modulus length)
 * NTE_BAD_LEN; on import a cbData other than k NTE_BAD_LEN, a ciphertext that does not
 * decrypt under the padding NTE_BAD_DATA (with PKCS1 and OpenSSL >= 3.2 implicit rejection
 * gives a pseudo-random plaintext instead, which then fails or imports as some other key),
 * bytes that are no key of the algorithm NTE_BAD_DATA / NTE_NOT_SUPPORTED. */
#define NCRYPT_RSA_WRAP_KEY_BLOB u"RsaEncryptedKeyBlob"
#define NCRYPTBUFFER_RSA_PADDING_FLAG 0x00008001 /* model extension (Windows uses < 0x100) */
#define NCRYPTBUFFER_RSA_OAEP_HASH 0x00008002    /* model extension */
#define NCRYPTBUFFER_RSA_OAEP_LABEL 0x00008003   /* model extension */

/* NCryptBuffer types */
#define NCRYPTBUFFER_VERSION 0
#define NCRYPTBUFFER_EMPTY 0
#define NCRYPTBUFFER_DATA 1
#define NCRYPTBUFFER_PROTECTION_DESCRIPTOR_STRING 3
#define NCRYPTBUFFER_PROTECTION_FLAGS 4
#define NCRYPTBUFFER_SSL_CLIENT_RANDOM 20
#define NCRYPTBUFFER_SSL_SERVER_RANDOM 21
#define NCRYPTBUFFER_SSL_HIGHEST_VERSION 22
#define NCRYPTBUFFER_SSL_CLEAR_KEY 23
#define NCRYPTBUFFER_SSL_KEY_ARG_DATA 24
#define NCRYPTBUFFER_PKCS_OID 40
#define NCRYPTBUFFER_PKCS_ALG_OID 41
#define NCRYPTBUFFER_PKCS_ALG_PARAM 42
#define NCRYPTBUFFER_PKCS_ALG_ID 43
#define NCRYPTBUFFER_PKCS_ATTRS 44
#define NCRYPTBUFFER_PKCS_KEY_NAME 45
#define NCRYPTBUFFER_PKCS_SECRET 46
#define NCRYPTBUFFER_CERT_BLOB 47

typedef BCryptBuffer NCryptBuffer;
typedef BCryptBuffer *PNCryptBuffer;
typedef BCryptBufferDesc NCryptBufferDesc;
typedef BCryptBufferDesc *PNCryptBufferDesc;

/* ---- Structures ---- */
typedef struct _NCryptProviderName {
  LPWSTR pszName;
  LPWSTR pszComment;
} NCryptProviderName;

typedef struct _NCryptAlgorithmName {
  LPWSTR pszName;
  DWORD dwClass;
  DWORD dwAlgOperations;
  DWORD dwFlags;
} NCryptAlgorithmName;

typedef struct NCryptKeyName {
  LPWSTR pszName;
  LPWSTR pszAlgid;
  DWORD dwLegacyKeySpec;
  DWORD dwFlags;
} NCryptKeyName;

typedef struct __NCRYPT_SUPPORTED_LENGTHS {
  DWORD dwMinLength;
  DWORD dwMaxLength;
  DWORD dwIncrement;
  DWORD dwDefaultLength;
} NCRYPT_SUPPORTED_LENGTHS;

typedef struct __NCRYPT_UI_POLICY {
  DWORD dwVersion;
  DWORD dwFlags;
  LPCWSTR pszCreationTitle;
  LPCWSTR pszFriendlyName;
  LPCWSTR pszDescription;
} NCRYPT_UI_POLICY;

/* ---- Functions ----
 * Exported from the shared library libcng-ncrypt.so even though cng_model compiles with
 * -fvisibility=hidden (the PKCS#11 module's version script keeps them private there). */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(default)
#endif
SECURITY_STATUS WINAPI NCryptOpenStorageProvider(NCRYPT_PROV_HANDLE *phProvider,
                                                 LPCWSTR pszProviderName, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptEnumStorageProviders(DWORD *pdwProviderCount,
                                                  NCryptProviderName **ppProviderList,
                                                  DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptEnumAlgorithms(NCRYPT_PROV_HANDLE hProvider, DWORD dwAlgOperations,
                                            DWORD *pdwAlgCount, NCryptAlgorithmName **ppAlgList,
                                            DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptIsAlgSupported(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszAlgId,
                                            DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptEnumKeys(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszScope,
                                      NCryptKeyName **ppKeyName, PVOID *ppEnumState, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptFreeBuffer(PVOID pvInput);
SECURITY_STATUS WINAPI NCryptOpenKey(NCRYPT_PROV_HANDLE hProvider, NCRYPT_KEY_HANDLE *phKey,
                                     LPCWSTR pszKeyName, DWORD dwLegacyKeySpec, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptCreatePersistedKey(NCRYPT_PROV_HANDLE hProvider,
                                                NCRYPT_KEY_HANDLE *phKey, LPCWSTR pszAlgId,
                                                LPCWSTR pszKeyName, DWORD dwLegacyKeySpec,
                                                DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptGetProperty(NCRYPT_HANDLE hObject, LPCWSTR pszProperty, PBYTE pbOutput,
                                         DWORD cbOutput, DWORD *pcbResult, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptSetProperty(NCRYPT_HANDLE hObject, LPCWSTR pszProperty, PBYTE pbInput,
                                         DWORD cbInput, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptFinalizeKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptEncrypt(NCRYPT_KEY_HANDLE hKey, PBYTE pbInput, DWORD cbInput,
                                     void *pPaddingInfo, PBYTE pbOutput, DWORD cbOutput,
                                     DWORD *pcbResult, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptDecrypt(NCRYPT_KEY_HANDLE hKey, PBYTE pbInput, DWORD cbInput,
                                     void *pPaddingInfo, PBYTE pbOutput, DWORD cbOutput,
                                     DWORD *pcbResult, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptImportKey(NCRYPT_PROV_HANDLE hProvider, NCRYPT_KEY_HANDLE hImportKey,
                                       LPCWSTR pszBlobType, NCryptBufferDesc *pParameterList,
                                       NCRYPT_KEY_HANDLE *phKey, PBYTE pbData, DWORD cbData,
                                       DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptExportKey(NCRYPT_KEY_HANDLE hKey, NCRYPT_KEY_HANDLE hExportKey,
                                       LPCWSTR pszBlobType, NCryptBufferDesc *pParameterList,
                                       PBYTE pbOutput, DWORD cbOutput, DWORD *pcbResult,
                                       DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptSignHash(NCRYPT_KEY_HANDLE hKey, void *pPaddingInfo, PBYTE pbHashValue,
                                      DWORD cbHashValue, PBYTE pbSignature, DWORD cbSignature,
                                      DWORD *pcbResult, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptVerifySignature(NCRYPT_KEY_HANDLE hKey, void *pPaddingInfo,
                                             PBYTE pbHashValue, DWORD cbHashValue,
                                             PBYTE pbSignature, DWORD cbSignature, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptDeleteKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptFreeObject(NCRYPT_HANDLE hObject);
BOOL WINAPI NCryptIsKeyHandle(NCRYPT_KEY_HANDLE hKey);
SECURITY_STATUS WINAPI NCryptSecretAgreement(NCRYPT_KEY_HANDLE hPrivKey, NCRYPT_KEY_HANDLE hPubKey,
                                             NCRYPT_SECRET_HANDLE *phAgreedSecret, DWORD dwFlags);
SECURITY_STATUS WINAPI NCryptDeriveKey(NCRYPT_SECRET_HANDLE hSharedSecret, LPCWSTR pwszKDF,
                                       NCryptBufferDesc *pParameterList, PBYTE pbDerivedKey,
                                       DWORD cbDerivedKey, DWORD *pcbResult, ULONG dwFlags);
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* CNG_MODEL_NCRYPT_H */

/* bcrypt.h: the subset of the Windows CNG primitives header that the NCrypt key model uses,
 * written for the cng-pkcs11 project from the documented Windows API. Names and numeric values
 * follow the Windows SDK so that code written against Windows compiles unchanged, apart from
 * string literals: WCHAR is char16_t here, so L"..." becomes u"...". */
#ifndef CNG_MODEL_BCRYPT_H
#define CNG_MODEL_BCRYPT_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <uchar.h> /* char16_t in C11 */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Windows base types (LP64: LONG and ULONG are 32 bits, as on Windows) ---- */
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef uint8_t BYTE;
typedef uint8_t UCHAR;
typedef int32_t BOOL;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR;
typedef BYTE *PBYTE;
typedef UCHAR *PUCHAR;
typedef ULONG *PULONG;
typedef DWORD *PDWORD;
typedef void *PVOID;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef char16_t WCHAR;
typedef WCHAR *LPWSTR;
typedef WCHAR *PWSTR;
typedef const WCHAR *LPCWSTR;
typedef const WCHAR *PCWSTR;
typedef const char *LPCSTR;
typedef LONG NTSTATUS;
typedef LONG HRESULT;
typedef LONG SECURITY_STATUS;

#ifndef ERROR_SUCCESS
#define ERROR_SUCCESS 0L
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef WINAPI
#define WINAPI
#endif

typedef struct _FILETIME {
  DWORD dwLowDateTime;
  DWORD dwHighDateTime;
} FILETIME;

/* ---- Algorithm identifiers ---- */
#define BCRYPT_RSA_ALGORITHM u"RSA"
#define BCRYPT_RSA_SIGN_ALGORITHM u"RSA_SIGN"
#define BCRYPT_DH_ALGORITHM u"DH"
#define BCRYPT_DSA_ALGORITHM u"DSA"
#define BCRYPT_ECDSA_P256_ALGORITHM u"ECDSA_P256"
#define BCRYPT_ECDSA_P384_ALGORITHM u"ECDSA_P384"
#define BCRYPT_ECDSA_P521_ALGORITHM u"ECDSA_P521"
#define BCRYPT_ECDH_P256_ALGORITHM u"ECDH_P256"
#define BCRYPT_ECDH_P384_ALGORITHM u"ECDH_P384"
#define BCRYPT_ECDH_P521_ALGORITHM u"ECDH_P521"
#define BCRYPT_ECDSA_ALGORITHM u"ECDSA"
#define BCRYPT_ECDH_ALGORITHM u"ECDH"
#define BCRYPT_MD5_ALGORITHM u"MD5"
#define BCRYPT_SHA1_ALGORITHM u"SHA1"
#define BCRYPT_SHA256_ALGORITHM u"SHA256"
#define BCRYPT_SHA384_ALGORITHM u"SHA384"
#define BCRYPT_SHA512_ALGORITHM u"SHA512"
#define BCRYPT_AES_ALGORITHM u"AES"
#define BCRYPT_3DES_ALGORITHM u"3DES"
#define BCRYPT_RNG_ALGORITHM u"RNG"

/* ---- Symmetric cipher properties and values ---- */
#define BCRYPT_CHAINING_MODE u"ChainingMode"
#define BCRYPT_AUTH_TAG_LENGTH u"AuthTagLength"
#define BCRYPT_BLOCK_LENGTH u"BlockLength"
#define BCRYPT_CHAIN_MODE_NA u"ChainingModeN/A"
#define BCRYPT_CHAIN_MODE_CBC u"ChainingModeCBC"
#define BCRYPT_CHAIN_MODE_ECB u"ChainingModeECB"
#define BCRYPT_CHAIN_MODE_CFB u"ChainingModeCFB"
#define BCRYPT_CHAIN_MODE_CCM u"ChainingModeCCM"
#define BCRYPT_CHAIN_MODE_GCM u"ChainingModeGCM"

typedef struct __BCRYPT_KEY_LENGTHS_STRUCT {
  ULONG dwMinLength;
  ULONG dwMaxLength;
  ULONG dwIncrement;
} BCRYPT_KEY_LENGTHS_STRUCT;
typedef BCRYPT_KEY_LENGTHS_STRUCT BCRYPT_AUTH_TAG_LENGTHS_STRUCT;

/* Authenticated cipher modes (GCM): passed to NCryptEncrypt/NCryptDecrypt through
 * NCRYPT_CIPHER_PADDING_INFO.pbOtherInfo (see ncrypt.h). */
#define BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO_VERSION 1
#define BCRYPT_AUTH_MODE_CHAIN_CALLS_FLAG 0x00000001
#define BCRYPT_AUTH_MODE_IN_PROGRESS_FLAG 0x00000002
typedef struct _BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO {
  ULONG cbSize;
  ULONG dwInfoVersion;
  PUCHAR pbNonce;
  ULONG cbNonce;
  PUCHAR pbAuthData;
  ULONG cbAuthData;
  PUCHAR pbTag;
  ULONG cbTag;
  PUCHAR pbMacContext;
  ULONG cbMacContext;
  ULONG cbAAD;
  ULONGLONG cbData;
  ULONG dwFlags;
} BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO, *PBCRYPT_AUTHENTICATED_CIPHER_MODE_INFO;

/* ntstatus.h: the authentication tag of an authenticated cipher did not verify. NCryptDecrypt
 * returns it (as a SECURITY_STATUS) for a wrong GCM tag, as the software KSP passes BCrypt's
 * status through. */
#ifndef STATUS_AUTH_TAG_MISMATCH
#define STATUS_AUTH_TAG_MISMATCH ((NTSTATUS)0xC000A002L)
#endif

/* ---- Named curves (ECCCurveName values) ---- */
#define BCRYPT_ECC_CURVE_NISTP256 u"nistP256"
#define BCRYPT_ECC_CURVE_NISTP384 u"nistP384"
#define BCRYPT_ECC_CURVE_NISTP521 u"nistP521"
#define BCRYPT_ECC_CURVE_SECP256R1 u"secP256r1"
#define BCRYPT_ECC_CURVE_SECP384R1 u"secP384r1"
#define BCRYPT_ECC_CURVE_SECP521R1 u"secP521r1"

/* ---- Key blob types ---- */
#define BCRYPT_PUBLIC_KEY_BLOB u"PUBLICBLOB"
#define BCRYPT_PRIVATE_KEY_BLOB u"PRIVATEBLOB"
#define BCRYPT_RSAPUBLIC_BLOB u"RSAPUBLICBLOB"
#define BCRYPT_RSAPRIVATE_BLOB u"RSAPRIVATEBLOB"
#define BCRYPT_RSAFULLPRIVATE_BLOB u"RSAFULLPRIVATEBLOB"
#define LEGACY_RSAPUBLIC_BLOB u"CAPIPUBLICBLOB"
#define LEGACY_RSAPRIVATE_BLOB u"CAPIPRIVATEBLOB"
#define BCRYPT_ECCPUBLIC_BLOB u"ECCPUBLICBLOB"
#define BCRYPT_ECCPRIVATE_BLOB u"ECCPRIVATEBLOB"
#define BCRYPT_ECCFULLPUBLIC_BLOB u"ECCFULLPUBLICBLOB"
#define BCRYPT_ECCFULLPRIVATE_BLOB u"ECCFULLPRIVATEBLOB"

#define BCRYPT_KEY_DATA_BLOB u"KeyDataBlob"
#define BCRYPT_AES_WRAP_KEY_BLOB u"Rfc3565KeyWrapBlob"

/* ---- Blob magics ---- */
#define BCRYPT_KEY_DATA_BLOB_MAGIC 0x4d42444bUL /* KDBM */
#define BCRYPT_KEY_DATA_BLOB_VERSION1 0x1
typedef struct _BCRYPT_KEY_DATA_BLOB_HEADER {
  ULONG dwMagic;
  ULONG dwVersion;
  ULONG cbKeyData;
} BCRYPT_KEY_DATA_BLOB_HEADER, *PBCRYPT_KEY_DATA_BLOB_HEADER;

#define BCRYPT_RSAPUBLIC_MAGIC 0x31415352UL      /* RSA1 */
#define BCRYPT_RSAPRIVATE_MAGIC 0x32415352UL     /* RSA2 */
#define BCRYPT_RSAFULLPRIVATE_MAGIC 0x33415352UL /* RSA3 */
#define BCRYPT_ECDH_PUBLIC_P256_MAGIC 0x314B4345UL
#define BCRYPT_ECDH_PRIVATE_P256_MAGIC 0x324B4345UL
#define BCRYPT_ECDH_PUBLIC_P384_MAGIC 0x334B4345UL
#define BCRYPT_ECDH_PRIVATE_P384_MAGIC 0x344B4345UL
#define BCRYPT_ECDH_PUBLIC_P521_MAGIC 0x354B4345UL
#define BCRYPT_ECDH_PRIVATE_P521_MAGIC 0x364B4345UL
#define BCRYPT_ECDH_PUBLIC_GENERIC_MAGIC 0x504B4345UL
#define BCRYPT_ECDH_PRIVATE_GENERIC_MAGIC 0x564B4345UL
#define BCRYPT_ECDSA_PUBLIC_P256_MAGIC 0x31534345UL
#define BCRYPT_ECDSA_PRIVATE_P256_MAGIC 0x32534345UL
#define BCRYPT_ECDSA_PUBLIC_P384_MAGIC 0x33534345UL
#define BCRYPT_ECDSA_PRIVATE_P384_MAGIC 0x34534345UL
#define BCRYPT_ECDSA_PUBLIC_P521_MAGIC 0x35534345UL
#define BCRYPT_ECDSA_PRIVATE_P521_MAGIC 0x36534345UL
#define BCRYPT_ECDSA_PUBLIC_GENERIC_MAGIC 0x50444345UL
#define BCRYPT_ECDSA_PRIVATE_GENERIC_MAGIC 0x56444345UL

typedef struct _BCRYPT_RSAKEY_BLOB {
  ULONG Magic;
  ULONG BitLength;
  ULONG cbPublicExp;
  ULONG cbModulus;
  ULONG cbPrime1;
  ULONG cbPrime2;
} BCRYPT_RSAKEY_BLOB;

typedef struct _BCRYPT_ECCKEY_BLOB {
  ULONG dwMagic;
  ULONG cbKey;
} BCRYPT_ECCKEY_BLOB, *PBCRYPT_ECCKEY_BLOB;

/* ---- Padding information ---- */
#define BCRYPT_PAD_NONE 0x00000001
#define BCRYPT_PAD_PKCS1 0x00000002
#define BCRYPT_PAD_OAEP 0x00000004
#define BCRYPT_PAD_PSS 0x00000008
#define BCRYPT_NO_KEY_VALIDATION 0x00000008

typedef struct _BCRYPT_PKCS1_PADDING_INFO {
  LPCWSTR pszAlgId;
} BCRYPT_PKCS1_PADDING_INFO;

typedef struct _BCRYPT_PSS_PADDING_INFO {
  LPCWSTR pszAlgId;
  ULONG cbSalt;
} BCRYPT_PSS_PADDING_INFO;

typedef struct _BCRYPT_OAEP_PADDING_INFO {
  LPCWSTR pszAlgId;
  PUCHAR pbLabel;
  ULONG cbLabel;
} BCRYPT_OAEP_PADDING_INFO;

/* ---- Parameter buffers (NCryptBuffer is BCryptBuffer) ---- */
typedef struct _BCryptBuffer {
  ULONG cbBuffer;
  ULONG BufferType;
  PVOID pvBuffer;
} BCryptBuffer, *PBCryptBuffer;

#define BCRYPTBUFFER_VERSION 0
typedef struct _BCryptBufferDesc {
  ULONG ulVersion;
  ULONG cBuffers;
  PBCryptBuffer pBuffers;
} BCryptBufferDesc, *PBCryptBufferDesc;

/* KDF parameter buffer types */
#define KDF_HASH_ALGORITHM 0x0
#define KDF_SECRET_PREPEND 0x1
#define KDF_SECRET_APPEND 0x2
#define KDF_HMAC_KEY 0x3
#define KDF_TLS_PRF_LABEL 0x4
#define KDF_TLS_PRF_SEED 0x5
#define KDF_SECRET_HANDLE 0x6
#define KDF_TLS_PRF_PROTOCOL 0x7
#define KDF_ALGORITHMID 0x8
#define KDF_PARTYUINFO 0x9
#define KDF_PARTYVINFO 0xA
#define KDF_SUPPPUBINFO 0xB
#define KDF_SUPPPRIVINFO 0xC
#define KDF_LABEL 0xD
#define KDF_CONTEXT 0xE
#define KDF_SALT 0xF
#define KDF_ITERATION_COUNT 0x10
#define KDF_GENERIC_PARAMETER 0x11
#define KDF_KEYBITLENGTH 0x12
#define KDF_HKDF_SALT 0x13
#define KDF_HKDF_INFO 0x14

#define BCRYPT_KDF_HASH u"HASH"
#define BCRYPT_KDF_HMAC u"HMAC"
#define BCRYPT_KDF_TLS_PRF u"TLS_PRF"
#define BCRYPT_KDF_SP80056A_CONCAT u"SP800_56A_CONCAT"
#define BCRYPT_KDF_RAW_SECRET u"TRUNCATE"
#define BCRYPT_KDF_HKDF u"HKDF"
#define KDF_USE_SECRET_AS_HMAC_KEY_FLAG 0x1

/* Algorithm operation classes (NCryptEnumAlgorithms) */
#define BCRYPT_CIPHER_OPERATION 0x00000001
#define BCRYPT_HASH_OPERATION 0x00000002
#define BCRYPT_ASYMMETRIC_ENCRYPTION_OPERATION 0x00000004
#define BCRYPT_SECRET_AGREEMENT_OPERATION 0x00000008
#define BCRYPT_SIGNATURE_OPERATION 0x00000010
#define BCRYPT_RNG_OPERATION 0x00000020
#define BCRYPT_KEY_DERIVATION_OPERATION 0x00000040

#ifdef __cplusplus
}
#endif

#endif /* CNG_MODEL_BCRYPT_H */

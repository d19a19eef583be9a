// Data: the return values the PKCS#11 3.0 specification allows for each function (base
// specification, section 5 function descriptions, plus the classes of section 5.1 that apply to
// every function of a kind). The ABI fuzzer traps on any other CK_RV.
//   kAny:     CKR_OK, CKR_GENERAL_ERROR, CKR_HOST_MEMORY, CKR_FUNCTION_FAILED (5.1.1),
//             CKR_ARGUMENTS_BAD, CKR_FUNCTION_NOT_SUPPORTED (a stub) and, for every function
//             but C_Initialize, CKR_CRYPTOKI_NOT_INITIALIZED (5.1.6).
//   kToken:   CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT
//   (5.1.3). kSession: kToken plus CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED (5.1.2).
#pragma once

#include <initializer_list>
#include <string_view>

#include "pkcs11/pkcs11_all.h"

namespace fuzz::abi {

enum Scope : unsigned { kAny = 0, kToken = 1, kSession = 2 };

struct AllowedReturns {
  std::string_view function;
  Scope scope;
  std::initializer_list<CK_RV> codes;  // beyond the scope's classes
};

// Codes shared by many descriptions, spelled once.
#define CNG_FUZZ_INIT_ERRORS                                                     \
  CKR_FUNCTION_CANCELED, CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_KEY_HANDLE_INVALID, \
      CKR_KEY_SIZE_RANGE, CKR_KEY_TYPE_INCONSISTENT, CKR_MECHANISM_INVALID,      \
      CKR_MECHANISM_PARAM_INVALID, CKR_OPERATION_ACTIVE, CKR_PIN_EXPIRED, CKR_USER_NOT_LOGGED_IN
#define CNG_FUZZ_OBJECT_MAKING_ERRORS                                                             \
  CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID,               \
      CKR_CURVE_NOT_SUPPORTED, CKR_DOMAIN_PARAMS_INVALID, CKR_FUNCTION_CANCELED, CKR_PIN_EXPIRED, \
      CKR_SESSION_READ_ONLY, CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT,                  \
      CKR_TOKEN_WRITE_PROTECTED, CKR_USER_NOT_LOGGED_IN
#define CNG_FUZZ_CIPHER_ERRORS \
  CKR_BUFFER_TOO_SMALL, CKR_FUNCTION_CANCELED, CKR_OPERATION_NOT_INITIALIZED, CKR_USER_NOT_LOGGED_IN
#define CNG_FUZZ_LOGIN_ERRORS                                                                    \
  CKR_FUNCTION_CANCELED, CKR_OPERATION_NOT_INITIALIZED, CKR_PIN_INCORRECT, CKR_PIN_LOCKED,       \
      CKR_SESSION_READ_ONLY_EXISTS, CKR_USER_ALREADY_LOGGED_IN,                                  \
      CKR_USER_ANOTHER_ALREADY_LOGGED_IN, CKR_USER_PIN_NOT_INITIALIZED, CKR_USER_TOO_MANY_TYPES, \
      CKR_USER_TYPE_INVALID
#define CNG_FUZZ_MESSAGE_ERRORS                                                          \
  CKR_BUFFER_TOO_SMALL, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE, CKR_FUNCTION_CANCELED,     \
      CKR_OPERATION_NOT_INITIALIZED, CKR_USER_NOT_LOGGED_IN, CKR_ENCRYPTED_DATA_INVALID, \
      CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE,      \
      CKR_OPERATION_ACTIVE

inline constexpr AllowedReturns kAllowedReturns[] = {
    // 5.4 General-purpose functions
    {"C_Initialize",
     kAny,
     {CKR_CANT_LOCK, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_NEED_TO_CREATE_THREADS}},
    {"C_Finalize", kAny, {}},
    {"C_GetInfo", kAny, {}},
    {"C_GetInterfaceList", kAny, {CKR_BUFFER_TOO_SMALL}},
    // 5.5 Slot and token management
    {"C_GetSlotList", kAny, {CKR_BUFFER_TOO_SMALL}},
    {"C_GetSlotInfo", kAny, {CKR_DEVICE_ERROR, CKR_SLOT_ID_INVALID}},
    {"C_GetTokenInfo", kToken, {CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_RECOGNIZED}},
    {"C_WaitForSlotEvent", kAny, {CKR_NO_EVENT}},
    {"C_GetMechanismList",
     kToken,
     {CKR_BUFFER_TOO_SMALL, CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_RECOGNIZED}},
    {"C_GetMechanismInfo",
     kToken,
     {CKR_MECHANISM_INVALID, CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_RECOGNIZED}},
    {"C_InitToken",
     kToken,
     {CKR_FUNCTION_CANCELED, CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_SESSION_EXISTS,
      CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_RECOGNIZED, CKR_TOKEN_WRITE_PROTECTED}},
    {"C_InitPIN",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE, CKR_SESSION_READ_ONLY,
      CKR_TOKEN_WRITE_PROTECTED, CKR_USER_NOT_LOGGED_IN}},
    {"C_SetPIN",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE, CKR_PIN_LOCKED,
      CKR_SESSION_READ_ONLY, CKR_TOKEN_WRITE_PROTECTED}},
    // 5.6 Session management
    {"C_OpenSession",
     kToken,
     {CKR_SESSION_COUNT, CKR_SESSION_PARALLEL_NOT_SUPPORTED, CKR_SESSION_READ_WRITE_SO_EXISTS,
      CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_RECOGNIZED, CKR_TOKEN_WRITE_PROTECTED}},
    {"C_CloseSession", kSession, {}},
    {"C_CloseAllSessions", kToken, {CKR_SLOT_ID_INVALID}},
    {"C_GetSessionInfo", kSession, {}},
    {"C_SessionCancel", kSession, {CKR_OPERATION_CANCEL_FAILED, CKR_OPERATION_NOT_INITIALIZED}},
    {"C_GetOperationState",
     kSession,
     {CKR_BUFFER_TOO_SMALL, CKR_FUNCTION_CANCELED, CKR_OPERATION_NOT_INITIALIZED,
      CKR_STATE_UNSAVEABLE}},
    {"C_SetOperationState",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_KEY_CHANGED, CKR_KEY_NEEDED, CKR_KEY_NOT_NEEDED,
      CKR_SAVED_STATE_INVALID}},
    {"C_Login", kSession, {CNG_FUZZ_LOGIN_ERRORS}},
    {"C_LoginUser", kSession, {CNG_FUZZ_LOGIN_ERRORS}},
    {"C_Logout", kSession, {CKR_USER_NOT_LOGGED_IN}},
    // 5.7 Object management
    {"C_CreateObject", kSession, {CNG_FUZZ_OBJECT_MAKING_ERRORS}},
    {"C_CopyObject",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_ACTION_PROHIBITED, CKR_OBJECT_HANDLE_INVALID}},
    {"C_DestroyObject",
     kSession,
     {CKR_ACTION_PROHIBITED, CKR_FUNCTION_CANCELED, CKR_OBJECT_HANDLE_INVALID, CKR_PIN_EXPIRED,
      CKR_SESSION_READ_ONLY, CKR_TOKEN_WRITE_PROTECTED}},
    {"C_GetObjectSize",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_INFORMATION_SENSITIVE, CKR_OBJECT_HANDLE_INVALID}},
    {"C_GetAttributeValue",
     kSession,
     {CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL,
      CKR_FUNCTION_CANCELED, CKR_OBJECT_HANDLE_INVALID}},
    {"C_SetAttributeValue",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_ACTION_PROHIBITED, CKR_OBJECT_HANDLE_INVALID}},
    {"C_FindObjectsInit",
     kSession,
     {CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID, CKR_FUNCTION_CANCELED,
      CKR_OPERATION_ACTIVE, CKR_PIN_EXPIRED}},
    {"C_FindObjects", kSession, {CKR_FUNCTION_CANCELED, CKR_OPERATION_NOT_INITIALIZED}},
    {"C_FindObjectsFinal", kSession, {CKR_FUNCTION_CANCELED, CKR_OPERATION_NOT_INITIALIZED}},
    // 5.8-5.13 Encryption, decryption, digesting, signing, verifying
    {"C_EncryptInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_Encrypt", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE}},
    {"C_EncryptUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_EncryptFinal", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_DecryptInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_Decrypt",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE}},
    {"C_DecryptUpdate",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE}},
    {"C_DecryptFinal",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE}},
    {"C_DigestInit",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
      CKR_OPERATION_ACTIVE, CKR_PIN_EXPIRED, CKR_USER_NOT_LOGGED_IN}},
    {"C_Digest", kSession, {CNG_FUZZ_CIPHER_ERRORS}},
    {"C_DigestUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS}},
    {"C_DigestKey",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_KEY_HANDLE_INVALID, CKR_KEY_INDIGESTIBLE, CKR_KEY_SIZE_RANGE}},
    {"C_DigestFinal", kSession, {CNG_FUZZ_CIPHER_ERRORS}},
    {"C_SignInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_Sign",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE, CKR_FUNCTION_REJECTED}},
    {"C_SignUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_SignFinal", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE, CKR_FUNCTION_REJECTED}},
    {"C_SignRecoverInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_SignRecover", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE}},
    {"C_VerifyInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_Verify",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE, CKR_SIGNATURE_INVALID,
      CKR_SIGNATURE_LEN_RANGE}},
    {"C_VerifyUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_VerifyFinal",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE, CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE}},
    {"C_VerifyRecoverInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_VerifyRecover",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE, CKR_SIGNATURE_INVALID,
      CKR_SIGNATURE_LEN_RANGE}},
    // 5.14 Dual-function operations
    {"C_DigestEncryptUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_DecryptDigestUpdate",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE}},
    {"C_SignEncryptUpdate", kSession, {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE}},
    {"C_DecryptVerifyUpdate",
     kSession,
     {CNG_FUZZ_CIPHER_ERRORS, CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID,
      CKR_ENCRYPTED_DATA_LEN_RANGE}},
    // 5.15 Key management
    {"C_GenerateKey",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
      CKR_OPERATION_ACTIVE}},
    {"C_GenerateKeyPair",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
      CKR_OPERATION_ACTIVE}},
    {"C_WrapKey",
     kSession,
     {CKR_BUFFER_TOO_SMALL, CKR_FUNCTION_CANCELED, CKR_KEY_HANDLE_INVALID, CKR_KEY_NOT_WRAPPABLE,
      CKR_KEY_SIZE_RANGE, CKR_KEY_UNEXTRACTABLE, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
      CKR_OPERATION_ACTIVE, CKR_PIN_EXPIRED, CKR_USER_NOT_LOGGED_IN,
      CKR_WRAPPING_KEY_HANDLE_INVALID, CKR_WRAPPING_KEY_SIZE_RANGE,
      CKR_WRAPPING_KEY_TYPE_INCONSISTENT}},
    {"C_UnwrapKey",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_BUFFER_TOO_SMALL, CKR_MECHANISM_INVALID,
      CKR_MECHANISM_PARAM_INVALID, CKR_OPERATION_ACTIVE, CKR_UNWRAPPING_KEY_HANDLE_INVALID,
      CKR_UNWRAPPING_KEY_SIZE_RANGE, CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, CKR_WRAPPED_KEY_INVALID,
      CKR_WRAPPED_KEY_LEN_RANGE}},
    {"C_DeriveKey",
     kSession,
     {CNG_FUZZ_OBJECT_MAKING_ERRORS, CKR_KEY_HANDLE_INVALID, CKR_KEY_SIZE_RANGE,
      CKR_KEY_TYPE_INCONSISTENT, CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
      CKR_OPERATION_ACTIVE}},
    // 5.16 Random number generation
    {"C_SeedRandom",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_OPERATION_ACTIVE, CKR_RANDOM_SEED_NOT_SUPPORTED, CKR_RANDOM_NO_RNG,
      CKR_USER_NOT_LOGGED_IN}},
    {"C_GenerateRandom",
     kSession,
     {CKR_FUNCTION_CANCELED, CKR_OPERATION_ACTIVE, CKR_RANDOM_NO_RNG, CKR_USER_NOT_LOGGED_IN}},
    // 5.17 Parallel function management (legacy)
    {"C_GetFunctionStatus", kSession, {CKR_FUNCTION_NOT_PARALLEL}},
    {"C_CancelFunction", kSession, {CKR_FUNCTION_NOT_PARALLEL}},
    // 5.9-5.13 of 3.0: message-based encryption, decryption, signing and verifying
    {"C_MessageEncryptInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_EncryptMessage", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_EncryptMessageBegin", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_EncryptMessageNext", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageEncryptFinal", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageDecryptInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_DecryptMessage", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_DecryptMessageBegin", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_DecryptMessageNext", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageDecryptFinal", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageSignInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_SignMessage", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_SignMessageBegin", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_SignMessageNext", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageSignFinal", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageVerifyInit", kSession, {CNG_FUZZ_INIT_ERRORS}},
    {"C_VerifyMessage", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_VerifyMessageBegin", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_VerifyMessageNext", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
    {"C_MessageVerifyFinal", kSession, {CNG_FUZZ_MESSAGE_ERRORS}},
};

#undef CNG_FUZZ_INIT_ERRORS
#undef CNG_FUZZ_OBJECT_MAKING_ERRORS
#undef CNG_FUZZ_CIPHER_ERRORS
#undef CNG_FUZZ_LOGIN_ERRORS
#undef CNG_FUZZ_MESSAGE_ERRORS

}  // namespace fuzz::abi

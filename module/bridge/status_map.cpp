#include "bridge/status_map.h"

#include <array>
#include <cstdio>
#include <string>
#include <string_view>

namespace p11 {

namespace {

// The C_* function this thread is serving (EntryPointScope); nullptr outside a call.
thread_local const char* t_entry_point = nullptr;

// What a status means for one C_* function, whatever NCrypt call produced it. These rows win
// over the context rows below.
struct CallRow {
  SECURITY_STATUS status;
  std::string_view function;
  CK_RV rv;
};

constexpr std::array kCallRows = {
    // The store refused a write (EACCES, EPERM, EROFS surface as NTE_PERM): changing or
    // destroying a token object then meets a write-protected token (PKCS#11 3.0 §5.7 lists
    // CKR_TOKEN_WRITE_PROTECTED for both); the key's own functions are not in question.
    CallRow{NTE_PERM, "C_SetAttributeValue", CKR_TOKEN_WRITE_PROTECTED},
    CallRow{NTE_PERM, "C_DestroyObject", CKR_TOKEN_WRITE_PROTECTED},
    // The scope PIN (cng_scope_pin.h): the module checks lengths first, so a parameter
    // complaint is a PIN that is not UTF-8; the PIN vanished meanwhile (another process).
    CallRow{NTE_INVALID_PARAMETER, "C_InitPIN", CKR_PIN_INVALID},
    CallRow{NTE_INVALID_PARAMETER, "C_SetPIN", CKR_PIN_INVALID},
    CallRow{NTE_EXISTS, "C_InitPIN", CKR_ACTION_PROHIBITED},
    CallRow{NTE_NOT_FOUND, "C_SetPIN", CKR_PIN_INCORRECT},
};

struct Row {
  SECURITY_STATUS status;
  NcryptContext context;  // kGeneral rows apply when no context-specific row matches
  CK_RV rv;
};

using C = NcryptContext;

// Context-specific rows first; the first match wins.
constexpr std::array kRows = {
    // The mechanisms check the ciphertext length before NCryptDecrypt, so a data, length or
    // parameter complaint from it means a bad padding (Windows says NTE_INVALID_PARAMETER).
    Row{NTE_BAD_DATA, C::kDecrypt, CKR_ENCRYPTED_DATA_INVALID},
    Row{NTE_BAD_LEN, C::kDecrypt, CKR_ENCRYPTED_DATA_INVALID},
    Row{NTE_INVALID_PARAMETER, C::kDecrypt, CKR_ENCRYPTED_DATA_INVALID},
    Row{NTE_DECRYPTION_FAILURE, C::kDecrypt, CKR_ENCRYPTED_DATA_INVALID},
    Row{NTE_INVALID_PARAMETER, C::kSign, CKR_DATA_LEN_RANGE},
    Row{NTE_INVALID_PARAMETER, C::kEncrypt, CKR_DATA_LEN_RANGE},
    Row{NTE_INVALID_PARAMETER, C::kVerify, CKR_SIGNATURE_LEN_RANGE},
    Row{NTE_BAD_DATA, C::kImport, CKR_ATTRIBUTE_VALUE_INVALID},
    Row{NTE_INVALID_PARAMETER, C::kImport, CKR_ATTRIBUTE_VALUE_INVALID},
    Row{NTE_BAD_TYPE, C::kImport, CKR_ATTRIBUTE_VALUE_INVALID},
    Row{NTE_NOT_SUPPORTED, C::kKeyGen, CKR_KEY_SIZE_RANGE},
    // Writing the key store: NTE_PERM is the store's EACCES / EPERM / EROFS (errno table).
    Row{NTE_PERM, C::kKeyGen, CKR_TOKEN_WRITE_PROTECTED},
    Row{NTE_PERM, C::kImport, CKR_TOKEN_WRITE_PROTECTED},
    Row{NTE_PERM, C::kPersist, CKR_TOKEN_WRITE_PROTECTED},
    // Key wrapping (cng_model ncrypt.h, "Key wrapping"): the exported key's Export Policy
    // refuses, or its length does not fit the blob type (RFC 3394 needs multiples of 8).
    Row{NTE_NOT_SUPPORTED, C::kWrap, CKR_KEY_UNEXTRACTABLE},
    Row{NTE_BAD_LEN, C::kWrap, CKR_KEY_NOT_WRAPPABLE},
    Row{NTE_BAD_TYPE, C::kWrap, CKR_KEY_NOT_WRAPPABLE},
    // An integrity or padding failure, or a key that is not what the template says.
    Row{NTE_BAD_DATA, C::kUnwrap, CKR_WRAPPED_KEY_INVALID},
    Row{NTE_BAD_LEN, C::kUnwrap, CKR_WRAPPED_KEY_LEN_RANGE},
    Row{NTE_BAD_TYPE, C::kUnwrap, CKR_WRAPPED_KEY_INVALID},
    Row{NTE_INVALID_PARAMETER, C::kUnwrap, CKR_WRAPPED_KEY_INVALID},
    // The caller checked the slot keeps keys of the algorithm: a value that cannot be one
    // (an AES key of 20 bytes).
    Row{NTE_NOT_SUPPORTED, C::kUnwrap, CKR_WRAPPED_KEY_INVALID},
    Row{NTE_INVALID_PARAMETER, C::kKeyGen, CKR_TEMPLATE_INCONSISTENT},
    Row{NTE_NOT_SUPPORTED, C::kExport, CKR_KEY_UNEXTRACTABLE},
    Row{NTE_NOT_SUPPORTED, C::kProperty, CKR_ATTRIBUTE_TYPE_INVALID},
    Row{NTE_NOT_FOUND, C::kProperty, CKR_ATTRIBUTE_TYPE_INVALID},
    Row{NTE_BAD_KEYSET, C::kOpenKey, CKR_OBJECT_HANDLE_INVALID},
    Row{NTE_BAD_DATA, C::kOpenKey, CKR_DEVICE_ERROR},
    Row{NTE_INVALID_PARAMETER, C::kDerive, CKR_MECHANISM_PARAM_INVALID},
    // The data and certificate stores report the errno table's statuses for I/O and
    // NTE_INVALID_PARAMETER beyond the file format's limits: the token lacks room for it.
    // Anything else they report is a fault of the token (kContextDefaults).
    Row{NTE_PERM, C::kObjectStore, CKR_TOKEN_WRITE_PROTECTED},
    Row{NTE_INVALID_PARAMETER, C::kObjectStore, CKR_DEVICE_MEMORY},
    Row{NTE_NO_MEMORY, C::kObjectStore, CKR_DEVICE_MEMORY},
    Row{NTE_TOKEN_KEYSET_STORAGE_FULL, C::kObjectStore, CKR_DEVICE_MEMORY},  // ENOSPC
    // Everything else, whatever the context.
    Row{ERROR_SUCCESS, C::kGeneral, CKR_OK},
    Row{NTE_NO_MEMORY, C::kGeneral, CKR_HOST_MEMORY},
    Row{NTE_BUFFER_TOO_SMALL, C::kGeneral, CKR_GENERAL_ERROR},  // our buffers are sized first
    Row{NTE_INVALID_HANDLE, C::kGeneral, CKR_KEY_HANDLE_INVALID},
    Row{NTE_BAD_KEYSET, C::kGeneral, CKR_KEY_HANDLE_INVALID},
    Row{NTE_NOT_FOUND, C::kGeneral, CKR_FUNCTION_FAILED},
    Row{NTE_EXISTS, C::kGeneral, CKR_ATTRIBUTE_VALUE_INVALID},
    Row{NTE_BAD_FLAGS, C::kGeneral, CKR_GENERAL_ERROR},
    Row{NTE_INVALID_PARAMETER, C::kGeneral, CKR_ARGUMENTS_BAD},
    Row{NTE_BAD_DATA, C::kGeneral, CKR_DATA_INVALID},
    Row{NTE_BAD_LEN, C::kGeneral, CKR_DATA_LEN_RANGE},
    Row{NTE_BAD_SIGNATURE, C::kGeneral, CKR_SIGNATURE_INVALID},
    Row{NTE_BAD_ALGID, C::kGeneral, CKR_KEY_TYPE_INCONSISTENT},
    Row{NTE_NOT_SUPPORTED, C::kGeneral, CKR_MECHANISM_INVALID},
    Row{NTE_PERM, C::kGeneral, CKR_KEY_FUNCTION_NOT_PERMITTED},
    // A finalized key whose private material cannot be reached on this machine: the scope's
    // master key is unavailable here, e.g. sealed to another TPM (store/master_key.h).
    // Not CKR_GENERAL_ERROR (PKCS#11 3.0 §5.1.1: unrecoverable, give up the library) and not
    // CKR_KEY_FUNCTION_NOT_PERMITTED (the key's attributes allow the use; C_Sign may not even
    // return it): a problem of the token with this one key (§5.1.3), which every session
    // function may return, as reading a private data object sealed under the same master key
    // gives (kObjectStore). The session and the other keys stay usable.
    Row{NTE_BAD_KEY_STATE, C::kGeneral, CKR_DEVICE_ERROR},
    Row{NTE_BAD_KEY, C::kGeneral, CKR_KEY_HANDLE_INVALID},
    Row{NTE_BAD_PUBLIC_KEY, C::kGeneral, CKR_PUBLIC_KEY_INVALID},
    Row{NTE_BAD_TYPE, C::kGeneral, CKR_KEY_TYPE_INCONSISTENT},
    Row{NTE_DECRYPTION_FAILURE, C::kGeneral, CKR_ENCRYPTED_DATA_INVALID},
    Row{NTE_SILENT_CONTEXT, C::kGeneral, CKR_USER_NOT_LOGGED_IN},
    Row{NTE_UI_REQUIRED, C::kGeneral, CKR_USER_NOT_LOGGED_IN},
    Row{NTE_USER_CANCELLED, C::kGeneral, CKR_FUNCTION_CANCELED},
    Row{NTE_INCORRECT_PASSWORD, C::kGeneral, CKR_PIN_INCORRECT},
    // The smart-card KSP's PIN answers, which the scope PIN gives too (cng_scope_pin.h).
    Row{SCARD_W_WRONG_CHV, C::kGeneral, CKR_PIN_INCORRECT},
    Row{SCARD_W_CHV_BLOCKED, C::kGeneral, CKR_PIN_LOCKED},
    Row{NTE_PASSWORD_CHANGE_REQUIRED, C::kGeneral, CKR_PIN_EXPIRED},
    Row{NTE_DEVICE_NOT_READY, C::kGeneral, CKR_DEVICE_ERROR},
    Row{NTE_DEVICE_NOT_FOUND, C::kGeneral, CKR_TOKEN_NOT_PRESENT},
    Row{NTE_TOKEN_KEYSET_STORAGE_FULL, C::kGeneral, CKR_DEVICE_MEMORY},
    // cng_model's errno table gives NTE_SYS_ERR for an I/O error of the store (EIO): a device
    // problem of the token.
    Row{NTE_SYS_ERR, C::kGeneral, CKR_DEVICE_ERROR},
    Row{NTE_VBS_UNAVAILABLE, C::kGeneral, CKR_FUNCTION_FAILED},
};

// What every other failure means in a context, before the kGeneral rows are consulted.
struct ContextDefault {
  NcryptContext context;
  CK_RV rv;
};

constexpr std::array kContextDefaults = {
    // A damaged file (NTE_BAD_DATA), a value that does not authenticate, an I/O error: the
    // token's storage failed, not the caller's request.
    ContextDefault{C::kObjectStore, CKR_DEVICE_ERROR},
};

}  // namespace

EntryPointScope::EntryPointScope(const char* function) noexcept : previous_(t_entry_point) {
  t_entry_point = function;
}

EntryPointScope::~EntryPointScope() { t_entry_point = previous_; }

CK_RV rv_from_status(SECURITY_STATUS status, NcryptContext context) noexcept {
  if (t_entry_point != nullptr) {
    for (const CallRow& row : kCallRows) {
      if (row.status == status && row.function == t_entry_point) {
        return row.rv;
      }
    }
  }
  for (const Row& row : kRows) {
    if (row.status == status && row.context == context) {
      return row.rv;
    }
  }
  for (const ContextDefault& row : kContextDefaults) {
    if (row.context == context && status != ERROR_SUCCESS) {
      return row.rv;
    }
  }
  for (const Row& row : kRows) {
    if (row.status == status && row.context == C::kGeneral) {
      return row.rv;
    }
  }
  return CKR_FUNCTION_FAILED;  // NTE_FAIL, NTE_INTERNAL_ERROR and the unknown
}

void check_status(SECURITY_STATUS status, NcryptContext context, const char* what) {
  if (status == ERROR_SUCCESS) {
    return;
  }
  std::array<char, 16> hex{};
  std::snprintf(hex.data(), hex.size(), "0x%08X", static_cast<unsigned>(status));
  fail(rv_from_status(status, context), std::string(what) + " failed: " + hex.data());
}

}  // namespace p11

#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace p11 {

namespace {

struct RvName {
  CK_RV rv;
  const char* name;
};

#define P11_RV(x) \
  { x, #x }
constexpr RvName kRvNames[] = {
    P11_RV(CKR_OK),
    P11_RV(CKR_HOST_MEMORY),
    P11_RV(CKR_SLOT_ID_INVALID),
    P11_RV(CKR_GENERAL_ERROR),
    P11_RV(CKR_FUNCTION_FAILED),
    P11_RV(CKR_ARGUMENTS_BAD),
    P11_RV(CKR_NO_EVENT),
    P11_RV(CKR_CANT_LOCK),
    P11_RV(CKR_ATTRIBUTE_READ_ONLY),
    P11_RV(CKR_ATTRIBUTE_SENSITIVE),
    P11_RV(CKR_ATTRIBUTE_TYPE_INVALID),
    P11_RV(CKR_ATTRIBUTE_VALUE_INVALID),
    P11_RV(CKR_ACTION_PROHIBITED),
    P11_RV(CKR_DATA_INVALID),
    P11_RV(CKR_DATA_LEN_RANGE),
    P11_RV(CKR_DEVICE_ERROR),
    P11_RV(CKR_ENCRYPTED_DATA_INVALID),
    P11_RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
    P11_RV(CKR_FUNCTION_NOT_PARALLEL),
    P11_RV(CKR_FUNCTION_NOT_SUPPORTED),
    P11_RV(CKR_KEY_HANDLE_INVALID),
    P11_RV(CKR_KEY_SIZE_RANGE),
    P11_RV(CKR_KEY_TYPE_INCONSISTENT),
    P11_RV(CKR_KEY_INDIGESTIBLE),
    P11_RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
    P11_RV(CKR_KEY_UNEXTRACTABLE),
    P11_RV(CKR_MECHANISM_INVALID),
    P11_RV(CKR_MECHANISM_PARAM_INVALID),
    P11_RV(CKR_OBJECT_HANDLE_INVALID),
    P11_RV(CKR_OPERATION_ACTIVE),
    P11_RV(CKR_OPERATION_NOT_INITIALIZED),
    P11_RV(CKR_SESSION_CLOSED),
    P11_RV(CKR_SESSION_HANDLE_INVALID),
    P11_RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    P11_RV(CKR_SESSION_READ_ONLY),
    P11_RV(CKR_SESSION_READ_ONLY_EXISTS),
    P11_RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    P11_RV(CKR_SIGNATURE_INVALID),
    P11_RV(CKR_SIGNATURE_LEN_RANGE),
    P11_RV(CKR_TEMPLATE_INCOMPLETE),
    P11_RV(CKR_TEMPLATE_INCONSISTENT),
    P11_RV(CKR_TOKEN_WRITE_PROTECTED),
    P11_RV(CKR_USER_ALREADY_LOGGED_IN),
    P11_RV(CKR_USER_NOT_LOGGED_IN),
    P11_RV(CKR_USER_TYPE_INVALID),
    P11_RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    P11_RV(CKR_BUFFER_TOO_SMALL),
    P11_RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    P11_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    P11_RV(CKR_MUTEX_BAD),
    P11_RV(CKR_MUTEX_NOT_LOCKED),
    P11_RV(CKR_OPERATION_CANCEL_FAILED),
};
#undef P11_RV

bool read_debug_env() noexcept {
  const char* v = std::getenv("CNG_PKCS11_DEBUG");
  return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

bool log_enabled() noexcept {
  static const bool enabled = read_debug_env();  // trivially destructible
  return enabled;
}

const char* rv_name(CK_RV rv) noexcept {
  for (const auto& entry : kRvNames) {
    if (entry.rv == rv) {
      return entry.name;
    }
  }
  return "CKR_?";
}

void log_call(const char* function, CK_RV rv, const char* cause) noexcept {
  if (!log_enabled()) {
    return;
  }
  if (cause != nullptr && cause[0] != '\0') {
    std::fprintf(stderr, "cng-pkcs11: %s -> 0x%08lx (%s): %s\n", function, rv, rv_name(rv), cause);
  } else {
    std::fprintf(stderr, "cng-pkcs11: %s -> 0x%08lx (%s)\n", function, rv, rv_name(rv));
  }
}

void log_call(const char* function, const std::string& args, CK_RV rv, const char* cause) noexcept {
  if (!log_enabled()) {
    return;
  }
  // One fprintf per call: lines of concurrent calls never interleave.
  if (cause != nullptr && cause[0] != '\0') {
    std::fprintf(stderr, "cng-pkcs11: %s(%s) -> 0x%08lx (%s): %s\n", function, args.c_str(), rv,
                 rv_name(rv), cause);
  } else {
    std::fprintf(stderr, "cng-pkcs11: %s(%s) -> 0x%08lx (%s)\n", function, args.c_str(), rv,
                 rv_name(rv));
  }
}

namespace trace {

void append_number(std::string& out, unsigned long value) {
  char text[24];
  std::snprintf(text, sizeof text, "%lu", value);
  out += text;
}

void append_pointer(std::string& out, const volatile void* pointer) {
  if (pointer == nullptr) {
    out += "NULL";
    return;
  }
  char text[24];
  std::snprintf(text, sizeof text, "%p", const_cast<const void*>(pointer));
  out += text;
}

void append_mechanism(std::string& out, const CK_MECHANISM* mechanism) {
  if (mechanism == nullptr) {
    out += "NULL";
    return;
  }
  char text[64];
  std::snprintf(text, sizeof text, "{mech=0x%lx, param_len=%lu}", mechanism->mechanism,
                mechanism->ulParameterLen);
  out += text;
}

void append_template(std::string& out, const CK_ATTRIBUTE* attributes, CK_ULONG count) {
  if (attributes == nullptr) {
    out += "NULL";
    return;
  }
  constexpr CK_ULONG kShown = 64;
  out += '[';
  for (CK_ULONG i = 0; i < count && i < kShown; ++i) {
    char text[64];
    // The type and the length only: the value may be a private key component.
    std::snprintf(text, sizeof text, "%s{type=0x%lx, len=%lu}", i == 0 ? "" : ", ",
                  attributes[i].type, attributes[i].ulValueLen);
    out += text;
  }
  if (count > kShown) {
    out += ", ...";
  }
  out += ']';
}

}  // namespace trace

}  // namespace p11

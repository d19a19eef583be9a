#include "p11_support.h"

#include <cstdio>
#include <utility>

namespace conf {

std::string RvName(CK_RV rv) {
  struct Entry {
    CK_RV rv;
    const char* name;
  };
  static constexpr Entry kNames[] = {
      {CKR_OK, "CKR_OK"},
      {CKR_CANCEL, "CKR_CANCEL"},
      {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
      {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
      {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
      {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
      {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
      {CKR_NO_EVENT, "CKR_NO_EVENT"},
      {CKR_NEED_TO_CREATE_THREADS, "CKR_NEED_TO_CREATE_THREADS"},
      {CKR_CANT_LOCK, "CKR_CANT_LOCK"},
      {CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY"},
      {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
      {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
      {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
      {CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED"},
      {CKR_DATA_INVALID, "CKR_DATA_INVALID"},
      {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
      {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
      {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
      {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
      {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
      {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
      {CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED"},
      {CKR_FUNCTION_NOT_PARALLEL, "CKR_FUNCTION_NOT_PARALLEL"},
      {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
      {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
      {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
      {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
      {CKR_KEY_NOT_NEEDED, "CKR_KEY_NOT_NEEDED"},
      {CKR_KEY_CHANGED, "CKR_KEY_CHANGED"},
      {CKR_KEY_NEEDED, "CKR_KEY_NEEDED"},
      {CKR_KEY_INDIGESTIBLE, "CKR_KEY_INDIGESTIBLE"},
      {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
      {CKR_KEY_NOT_WRAPPABLE, "CKR_KEY_NOT_WRAPPABLE"},
      {CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE"},
      {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
      {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
      {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
      {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
      {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
      {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
      {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
      {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
      {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
      {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
      {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
      {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
      {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
      {CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKR_SESSION_PARALLEL_NOT_SUPPORTED"},
      {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
      {CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS"},
      {CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS"},
      {CKR_SESSION_READ_WRITE_SO_EXISTS, "CKR_SESSION_READ_WRITE_SO_EXISTS"},
      {CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID"},
      {CKR_SIGNATURE_LEN_RANGE, "CKR_SIGNATURE_LEN_RANGE"},
      {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
      {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
      {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
      {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
      {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
      {CKR_UNWRAPPING_KEY_SIZE_RANGE, "CKR_UNWRAPPING_KEY_SIZE_RANGE"},
      {CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT"},
      {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
      {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
      {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
      {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
      {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN"},
      {CKR_USER_TOO_MANY_TYPES, "CKR_USER_TOO_MANY_TYPES"},
      {CKR_WRAPPED_KEY_INVALID, "CKR_WRAPPED_KEY_INVALID"},
      {CKR_WRAPPED_KEY_LEN_RANGE, "CKR_WRAPPED_KEY_LEN_RANGE"},
      {CKR_WRAPPING_KEY_HANDLE_INVALID, "CKR_WRAPPING_KEY_HANDLE_INVALID"},
      {CKR_WRAPPING_KEY_SIZE_RANGE, "CKR_WRAPPING_KEY_SIZE_RANGE"},
      {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "CKR_WRAPPING_KEY_TYPE_INCONSISTENT"},
      {CKR_RANDOM_SEED_NOT_SUPPORTED, "CKR_RANDOM_SEED_NOT_SUPPORTED"},
      {CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG"},
      {CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID"},
      {CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED"},
      {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
      {CKR_SAVED_STATE_INVALID, "CKR_SAVED_STATE_INVALID"},
      {CKR_INFORMATION_SENSITIVE, "CKR_INFORMATION_SENSITIVE"},
      {CKR_STATE_UNSAVEABLE, "CKR_STATE_UNSAVEABLE"},
      {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
      {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
      {CKR_MUTEX_BAD, "CKR_MUTEX_BAD"},
      {CKR_MUTEX_NOT_LOCKED, "CKR_MUTEX_NOT_LOCKED"},
      {CKR_NEW_PIN_MODE, "CKR_NEW_PIN_MODE"},
      {CKR_NEXT_OTP, "CKR_NEXT_OTP"},
      {CKR_EXCEEDED_MAX_ITERATIONS, "CKR_EXCEEDED_MAX_ITERATIONS"},
      {CKR_FIPS_SELF_TEST_FAILED, "CKR_FIPS_SELF_TEST_FAILED"},
      {CKR_LIBRARY_LOAD_FAILED, "CKR_LIBRARY_LOAD_FAILED"},
      {CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK"},
      {CKR_PUBLIC_KEY_INVALID, "CKR_PUBLIC_KEY_INVALID"},
      {CKR_FUNCTION_REJECTED, "CKR_FUNCTION_REJECTED"},
  };
  for (const auto& e : kNames) {
    if (e.rv == rv) {
      return e.name;
    }
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "CKR_0x%lX", rv);
  return buf;
}

void PrintTo(const Rv& rv, std::ostream* os) { *os << RvName(rv.value); }

::testing::AssertionResult RvIn(const char* expr_text, CK_RV actual,
                                std::initializer_list<CK_RV> allowed) {
  std::string names;
  for (CK_RV a : allowed) {
    if (a == actual) {
      return ::testing::AssertionSuccess();
    }
    names += (names.empty() ? "" : " | ") + RvName(a);
  }
  return ::testing::AssertionFailure()
         << expr_text << " returned " << RvName(actual) << ", expected one of " << names;
}

std::string Hex(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0xF];
  }
  return s;
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

Template& Template::Bool(CK_ATTRIBUTE_TYPE type, bool v) {
  return Raw(type, Bytes{static_cast<unsigned char>(v ? CK_TRUE : CK_FALSE)});
}

Template& Template::Ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return Raw(type, b);
}

Template& Template::Raw(CK_ATTRIBUTE_TYPE type, const Bytes& v) {
  storage_.push_back(v);
  Bytes& stored = storage_.back();
  attrs_.push_back(CK_ATTRIBUTE{type, stored.empty() ? nullptr : stored.data(),
                                static_cast<CK_ULONG>(stored.size())});
  return *this;
}

Template& Template::Str(CK_ATTRIBUTE_TYPE type, const std::string& v) {
  return Raw(type, ToBytes(v));
}

Template& Template::Verbatim(CK_ATTRIBUTE_TYPE type, void* value, CK_ULONG len) {
  attrs_.push_back(CK_ATTRIBUTE{type, value, len});
  return *this;
}

std::string Trimmed(const unsigned char* field, size_t width) {
  std::string s(reinterpret_cast<const char*>(field), width);
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  return s;
}

bool IsBlankPaddedText(const unsigned char* field, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    if (field[i] == 0 || field[i] < 0x20) {
      return false;
    }
  }
  return true;
}

Bytes EcParamsP256() { return {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07}; }
Bytes EcParamsP384() { return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22}; }
Bytes EcParamsP521() { return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23}; }

}  // namespace conf

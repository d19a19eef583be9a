#include "bridge/ncrypt_props.h"

#include <cstring>

namespace p11::bridge {

std::optional<Bytes> get_property(NCRYPT_HANDLE object, const char16_t* name) {
  DWORD size = 0;
  SECURITY_STATUS st = NCryptGetProperty(object, name, nullptr, 0, &size, 0);
  if (st == NTE_NOT_FOUND || st == NTE_NOT_SUPPORTED) {
    return std::nullopt;
  }
  check_status(st, NcryptContext::kProperty, "NCryptGetProperty");
  Bytes value(size);
  // A value can grow between the calls (another thread setting it): retry on that.
  for (int attempt = 0; attempt < 3; ++attempt) {
    st = NCryptGetProperty(object, name, value.data(), static_cast<DWORD>(value.size()), &size, 0);
    if (st != NTE_BUFFER_TOO_SMALL) {
      break;
    }
    value.resize(size);
  }
  if (st == NTE_NOT_FOUND || st == NTE_NOT_SUPPORTED) {
    return std::nullopt;
  }
  check_status(st, NcryptContext::kProperty, "NCryptGetProperty");
  value.resize(size);
  return value;
}

std::optional<DWORD> get_dword_property(NCRYPT_HANDLE object, const char16_t* name) {
  const auto bytes = get_property(object, name);
  if (!bytes || bytes->size() != sizeof(DWORD)) {
    return std::nullopt;
  }
  DWORD v = 0;
  std::memcpy(&v, bytes->data(), sizeof v);
  return v;
}

std::optional<std::u16string> get_string_property(NCRYPT_HANDLE object, const char16_t* name) {
  const auto bytes = get_property(object, name);
  if (!bytes) {
    return std::nullopt;
  }
  std::u16string s(bytes->size() / sizeof(char16_t), u'\0');
  std::memcpy(s.data(), bytes->data(), s.size() * sizeof(char16_t));
  while (!s.empty() && s.back() == u'\0') {
    s.pop_back();
  }
  return s;
}

void set_property(NCRYPT_HANDLE object, const char16_t* name, ByteView value, DWORD flags,
                  NcryptContext context) {
  // NCryptSetProperty takes a non-const PBYTE but never writes through it.
  auto* data = const_cast<std::uint8_t*>(value.data());
  static std::uint8_t empty = 0;
  check_status(NCryptSetProperty(object, name, data != nullptr ? data : &empty,
                                 static_cast<DWORD>(value.size()), flags),
               context, "NCryptSetProperty");
}

void set_dword_property(NCRYPT_HANDLE object, const char16_t* name, DWORD value, DWORD flags,
                        NcryptContext context) {
  std::uint8_t bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);
  set_property(object, name, bytes, flags, context);
}

void set_string_property(NCRYPT_HANDLE object, const char16_t* name, std::u16string_view value,
                         DWORD flags, NcryptContext context) {
  Bytes bytes((value.size() + 1) * sizeof(char16_t), 0);
  std::memcpy(bytes.data(), value.data(), value.size() * sizeof(char16_t));
  set_property(object, name, bytes, flags, context);
}

SecretBytes export_key(NCRYPT_KEY_HANDLE key, const char16_t* blob_type, NcryptContext context,
                       NCryptBufferDesc* parameters) {
  DWORD size = 0;
  check_status(NCryptExportKey(key, 0, blob_type, parameters, nullptr, 0, &size, 0), context,
               "NCryptExportKey");
  SecretBytes blob(size);
  check_status(NCryptExportKey(key, 0, blob_type, parameters, blob.data(), size, &size, 0), context,
               "NCryptExportKey");
  blob.resize(size);
  return blob;
}

}  // namespace p11::bridge

#include "providers/platform/pcp_properties.h"

#include <cstdio>
#include <cstring>

#include "core/u16.h"
#include "providers/platform/tpm_key.h"

namespace cng::tpm {

namespace {

Bytes dword_bytes(DWORD v) {
  Bytes out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

Bytes string_bytes(const std::string& ascii) {
  const std::u16string s = from_utf8(ascii);
  Bytes out((s.size() + 1) * sizeof(char16_t), 0);
  std::memcpy(out.data(), s.data(), s.size() * sizeof(char16_t));
  return out;
}

std::string manufacturer_text(std::uint32_t id) {
  std::string text;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char c = static_cast<char>((id >> shift) & 0xFFU);
    if (c >= 0x20 && c < 0x7F) {
      text.push_back(c);
    }
  }
  return text;
}

bool is(std::u16string_view a, std::u16string_view b) { return u16_iequals(a, b); }

}  // namespace

std::optional<Bytes> pcp_provider_property(TpmConnection& connection, std::u16string_view name) {
  const TpmCapabilities& caps = connection.capabilities();
  if (is(name, NCRYPT_PCP_PLATFORM_TYPE_PROPERTY)) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "TPM-Version:2.0 -Level:%u-Revision:%u.%02u-VendorID:'%s'-Firmware:%u.%u",
                  caps.spec_level, caps.spec_revision / 100, caps.spec_revision % 100,
                  manufacturer_text(caps.manufacturer).c_str(), caps.firmware_1, caps.firmware_2);
    return string_bytes(text);
  }
  if (is(name, NCRYPT_PCP_PROVIDER_VERSION_PROPERTY)) {
    return string_bytes("1.0");
  }
  if (is(name, NCRYPT_PCP_TPM_VERSION_PROPERTY)) {
    return dword_bytes(2);  // TPM 2.0
  }
  if (is(name, NCRYPT_PCP_TPM_MANUFACTURER_ID_PROPERTY)) {
    return dword_bytes(caps.manufacturer);
  }
  if (is(name, NCRYPT_PCP_TPM_FW_VERSION_PROPERTY)) {
    const std::uint16_t parts[4] = {static_cast<std::uint16_t>(caps.firmware_1 >> 16),
                                    static_cast<std::uint16_t>(caps.firmware_1 & 0xFFFFU),
                                    static_cast<std::uint16_t>(caps.firmware_2 >> 16),
                                    static_cast<std::uint16_t>(caps.firmware_2 & 0xFFFFU)};
    Bytes out(sizeof parts);
    std::memcpy(out.data(), parts, sizeof parts);
    return out;
  }
  if (is(name, NCRYPT_PCP_SRKPUB_PROPERTY)) {
    Bytes out;
    connection.run([&](TpmConnection::Session& s) {
      out = marshal_public(s.parent_public(s.default_parent()));
    });
    return out;
  }
  return std::nullopt;
}

std::optional<Bytes> pcp_key_property(const TpmKey& key, std::u16string_view name) {
  const TPMT_PUBLIC& area = key.blob().pub.publicArea;
  if (is(name, NCRYPT_PCP_KEY_USAGE_POLICY_PROPERTY)) {
    DWORD policy = NCRYPT_PCP_SIGNATURE_KEY;
    if ((area.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
      policy |= NCRYPT_PCP_ENCRYPTION_KEY;
    }
    return dword_bytes(policy);
  }
  if (is(name, NCRYPT_PCP_TPM2BNAME_PROPERTY)) {
    return object_name(area);
  }
  if (is(name, NCRYPT_PCP_STORAGEPARENT_PROPERTY)) {
    return key.blob().parent_name;
  }
  if (is(name, NCRYPT_PCP_PASSWORD_REQUIRED_PROPERTY) ||
      is(name, NCRYPT_PCP_EXPORT_ALLOWED_PROPERTY)) {
    return dword_bytes(0);
  }
  return std::nullopt;
}

}  // namespace cng::tpm

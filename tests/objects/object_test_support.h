// Test support for the object layer: a fixture with temporary user/machine stores and slots over
// the real software provider, template builders, attribute readers, and OpenSSL checks.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "objects/object_layer.h"
#include "pkcs11/pkcs11_all.h"
#include "slots/slot.h"

namespace p11::test {

using Bytes = std::vector<std::uint8_t>;

// A PKCS#11 template whose values the builder owns.
class Template {
 public:
  Template& boolean(CK_ATTRIBUTE_TYPE type, bool value);
  Template& ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  Template& bytes(CK_ATTRIBUTE_TYPE type, const Bytes& value);
  Template& text(CK_ATTRIBUTE_TYPE type, const std::string& value);
  Template& raw(CK_ATTRIBUTE_TYPE type, const void* value, CK_ULONG length);  // as given
  [[nodiscard]] std::span<const CK_ATTRIBUTE> span() const { return attrs_; }

 private:
  std::deque<Bytes> values_;
  std::vector<CK_ATTRIBUTE> attrs_;
};

// P-256, P-384, P-521 as CKA_EC_PARAMS.
Bytes ec_params(int bits);
Bytes from_hex(const std::string& hex);
Bytes sha1(const Bytes& data);

class ObjectLayerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A fresh slot (and provider handle) for a scope: what another C_Initialize would see.
  static std::unique_ptr<slots::Slot> open_slot(bool machine);
  std::unique_ptr<ObjectLayer> new_layer(bool machine = false);

  // Reads one attribute; nullopt when the layer does not return it.
  std::optional<Bytes> attr(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                            CK_RV* rv = nullptr);
  bool attr_bool(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type);
  CK_ULONG attr_ulong(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type);
  std::string attr_text(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type);

  std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> generate_rsa(ObjectLayer& layer, bool token,
                                                             const std::string& label = "",
                                                             CK_ULONG bits = 2048);
  std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> generate_ec(ObjectLayer& layer, bool token,
                                                            const std::string& label = "",
                                                            int curve_bits = 256,
                                                            bool derive = false);
  std::vector<CK_OBJECT_HANDLE> find(ObjectLayer& layer, const Template& t);

  // Signs a SHA-256 digest with the key through NCryptSignHash and verifies the signature
  // with OpenSSL against the object's CKA_PUBLIC_KEY_INFO.
  void expect_signs(ObjectLayer& layer, CK_OBJECT_HANDLE private_key);
  // The same with a key view taken earlier (an operation in flight).
  void expect_view_signs(const KeyView& view);

  std::filesystem::path root_;
  std::filesystem::path user_dir_;
  std::filesystem::path machine_dir_;
  std::unique_ptr<slots::Slot> slot_;
  std::unique_ptr<ObjectLayer> layer_;
  SessionContext rw_{101, true};
  SessionContext ro_{102, false};
};

// A self-signed-by-CA X.509 certificate (DER) for a public key (SPKI DER), made with OpenSSL.
Bytes make_certificate(const Bytes& subject_spki, const std::string& common_name, long serial);

}  // namespace p11::test

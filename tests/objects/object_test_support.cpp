#include "object_test_support.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <cstring>

#include "cng_common/ossl_ptr.h"
#include "ncrypt.h"

namespace p11::test {

namespace fs = std::filesystem;

Template& Template::raw(CK_ATTRIBUTE_TYPE type, const void* value, CK_ULONG length) {
  const auto* p = static_cast<const std::uint8_t*>(value);
  values_.emplace_back(p, p + (p != nullptr ? length : 0));
  attrs_.push_back({type, p != nullptr ? values_.back().data() : nullptr, length});
  return *this;
}
Template& Template::boolean(CK_ATTRIBUTE_TYPE type, bool value) {
  const CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
  return raw(type, &b, sizeof b);
}
Template& Template::ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  return raw(type, &value, sizeof value);
}
Template& Template::bytes(CK_ATTRIBUTE_TYPE type, const Bytes& value) {
  values_.push_back(value);
  attrs_.push_back({type, values_.back().data(), static_cast<CK_ULONG>(value.size())});
  return *this;
}
Template& Template::text(CK_ATTRIBUTE_TYPE type, const std::string& value) {
  return bytes(type, Bytes(value.begin(), value.end()));
}

Bytes ec_params(int bits) {
  switch (bits) {
    case 256:
      return {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    case 384:
      return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
    default:
      return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
  }
}

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Bytes sha1(const Bytes& data) {
  Bytes out(20);
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr);
  return out;
}

void ObjectLayerTest::SetUp() {
  std::string templ = (fs::temp_directory_path() / "objtest-XXXXXX").string();
  ASSERT_NE(::mkdtemp(templ.data()), nullptr);
  root_ = templ;
  user_dir_ = root_ / "user";
  machine_dir_ = root_ / "machine";
  ::setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", machine_dir_.c_str(), 1);
  slot_ = open_slot(false);
  layer_ = ObjectLayer::create(*slot_);
}

void ObjectLayerTest::TearDown() {
  layer_.reset();
  slot_.reset();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::unique_ptr<slots::Slot> ObjectLayerTest::open_slot(bool machine) {
  NCRYPT_PROV_HANDLE prov = 0;
  EXPECT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
  // Row 0 of the profile table: the software provider.
  slots::SlotDescriptor d{machine ? 1u : 0u, slots::provider_profiles()[0], machine,
                          machine ? "CNG Software (machine)" : "CNG Software (user)", "test"};
  return std::make_unique<slots::Slot>(d, prov);
}

std::unique_ptr<ObjectLayer> ObjectLayerTest::new_layer(bool machine) {
  static std::vector<std::unique_ptr<slots::Slot>>* keep =
      new std::vector<std::unique_ptr<slots::Slot>>();
  keep->push_back(open_slot(machine));
  return ObjectLayer::create(*keep->back());
}

std::optional<Bytes> ObjectLayerTest::attr(ObjectLayer& layer, CK_OBJECT_HANDLE h,
                                           CK_ATTRIBUTE_TYPE type, CK_RV* rv_out) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = layer.get_attribute_value(rw_, h, {&a, 1});
  if (rv_out != nullptr) {
    *rv_out = rv;
  }
  if (rv != CKR_OK) {
    EXPECT_EQ(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    return std::nullopt;
  }
  Bytes value(a.ulValueLen);
  a.pValue = value.data();
  rv = layer.get_attribute_value(rw_, h, {&a, 1});
  EXPECT_EQ(rv, CKR_OK);
  value.resize(a.ulValueLen);
  return value;
}

bool ObjectLayerTest::attr_bool(ObjectLayer& layer, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
  const auto v = attr(layer, h, type);
  EXPECT_TRUE(v && v->size() == 1) << "attribute 0x" << std::hex << type;
  return v && v->size() == 1 && (*v)[0] == CK_TRUE;
}

CK_ULONG ObjectLayerTest::attr_ulong(ObjectLayer& layer, CK_OBJECT_HANDLE h,
                                     CK_ATTRIBUTE_TYPE type) {
  const auto v = attr(layer, h, type);
  CK_ULONG out = 0;
  EXPECT_TRUE(v && v->size() == sizeof out) << "attribute 0x" << std::hex << type;
  if (v && v->size() == sizeof out) {
    std::memcpy(&out, v->data(), sizeof out);
  }
  return out;
}

std::string ObjectLayerTest::attr_text(ObjectLayer& layer, CK_OBJECT_HANDLE h,
                                       CK_ATTRIBUTE_TYPE type) {
  const auto v = attr(layer, h, type);
  return v ? std::string(v->begin(), v->end()) : std::string("<none>");
}

std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> ObjectLayerTest::generate_rsa(
    ObjectLayer& layer, bool token, const std::string& label, CK_ULONG bits) {
  Template pub;
  pub.boolean(CKA_TOKEN, token).ulong(CKA_MODULUS_BITS, bits).bytes(CKA_PUBLIC_EXPONENT, {1, 0, 1});
  Template priv;
  priv.boolean(CKA_TOKEN, token).boolean(CKA_SIGN, true).boolean(CKA_DECRYPT, true);
  if (!label.empty()) {
    pub.text(CKA_LABEL, label);
    priv.text(CKA_LABEL, label);
  }
  CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  return layer.generate_key_pair(rw_, m, pub.span(), priv.span());
}

std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> ObjectLayerTest::generate_ec(
    ObjectLayer& layer, bool token, const std::string& label, int curve_bits, bool derive) {
  Template pub;
  pub.boolean(CKA_TOKEN, token).bytes(CKA_EC_PARAMS, ec_params(curve_bits));
  Template priv;
  priv.boolean(CKA_TOKEN, token).boolean(CKA_SIGN, true);
  if (derive) {
    priv.boolean(CKA_DERIVE, true);
  }
  if (!label.empty()) {
    pub.text(CKA_LABEL, label);
    priv.text(CKA_LABEL, label);
  }
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  return layer.generate_key_pair(rw_, m, pub.span(), priv.span());
}

std::vector<CK_OBJECT_HANDLE> ObjectLayerTest::find(ObjectLayer& layer, const Template& t) {
  return layer.find(rw_, t.span());
}

namespace {

using cng::ossl::Owned;

Owned<EVP_PKEY> parse_spki(const Bytes& spki) {
  const unsigned char* p = spki.data();
  return Owned<EVP_PKEY>(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
}

}  // namespace

void ObjectLayerTest::expect_signs(ObjectLayer& layer, CK_OBJECT_HANDLE private_key) {
  expect_view_signs(layer.key_view(rw_, private_key));
}

void ObjectLayerTest::expect_view_signs(const KeyView& view) {
  ASSERT_NE(view.ncrypt_key, 0u);
  ASSERT_TRUE(view.can_sign);
  Bytes digest(32);
  const std::string msg = "object layer test message";
  unsigned dlen = 0;
  EVP_Digest(msg.data(), msg.size(), digest.data(), &dlen, EVP_sha256(), nullptr);
  BCRYPT_PKCS1_PADDING_INFO pkcs1{u"SHA256"};
  const bool rsa = view.key_type == CKK_RSA;
  DWORD size = 0;
  ASSERT_EQ(NCryptSignHash(view.ncrypt_key, rsa ? &pkcs1 : nullptr, digest.data(), 32, nullptr, 0,
                           &size, rsa ? NCRYPT_PAD_PKCS1_FLAG : 0),
            ERROR_SUCCESS);
  Bytes sig(size);
  ASSERT_EQ(NCryptSignHash(view.ncrypt_key, rsa ? &pkcs1 : nullptr, digest.data(), 32, sig.data(),
                           size, &size, rsa ? NCRYPT_PAD_PKCS1_FLAG : 0),
            ERROR_SUCCESS);
  sig.resize(size);
  auto pkey = parse_spki(view.spki_der);
  ASSERT_TRUE(pkey);
  if (!rsa) {  // CNG's r||s -> DER for OpenSSL
    Owned<ECDSA_SIG> es(ECDSA_SIG_new());
    const int half = static_cast<int>(sig.size() / 2);
    ECDSA_SIG_set0(es.get(), BN_bin2bn(sig.data(), half, nullptr),
                   BN_bin2bn(sig.data() + half, half, nullptr));
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(es.get(), &der);
    sig.assign(der, der + len);
    OPENSSL_free(der);
  }
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
  ASSERT_EQ(EVP_PKEY_verify_init(ctx.get()), 1);
  if (rsa) {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING);
  }
  EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256());
  EXPECT_EQ(EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest.data(), digest.size()), 1);
}

Bytes make_certificate(const Bytes& subject_spki, const std::string& common_name, long serial) {
  auto subject_key = parse_spki(subject_spki);
  Owned<EVP_PKEY> ca(EVP_EC_gen("P-256"));
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  Owned<X509_NAME> issuer(X509_NAME_new());
  X509_NAME_add_entry_by_txt(issuer.get(), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Test CA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer.get());
  X509_set_pubkey(cert.get(), subject_key.get());
  X509_sign(cert.get(), ca.get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace p11::test

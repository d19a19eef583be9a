#include "mech_test_support.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "core/p11_error.h"
#include "slots/slot.h"

namespace mechtest {

namespace {

void check_ok(SECURITY_STATUS status, const char* what) {
  if (status != ERROR_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: " + std::to_string(status));
  }
}

// Key stores in a private temporary directory, never $HOME.
void use_temp_store_dirs() {
  static const bool done = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mechtest-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    const std::filesystem::path base(tmpl);
    std::filesystem::create_directories(base / "user");
    std::filesystem::create_directories(base / "machine");
    setenv("CNG_PKCS11_USER_DIR", (base / "user").c_str(), 1);
    setenv("CNG_PKCS11_MACHINE_DIR", (base / "machine").c_str(), 1);
    return true;
  }();
  static_cast<void>(done);
}

NCRYPT_PROV_HANDLE software_provider() {
  static const NCRYPT_PROV_HANDLE provider = [] {
    use_temp_store_dirs();
    NCRYPT_PROV_HANDLE p = 0;
    check_ok(NCryptOpenStorageProvider(&p, MS_KEY_STORAGE_PROVIDER, 0),
             "NCryptOpenStorageProvider");
    return p;
  }();
  return provider;
}

Bytes export_blob(NCRYPT_KEY_HANDLE key, const char16_t* type) {
  DWORD size = 0;
  check_ok(NCryptExportKey(key, 0, type, nullptr, nullptr, 0, &size, 0), "NCryptExportKey(size)");
  Bytes blob(size);
  check_ok(NCryptExportKey(key, 0, type, nullptr, blob.data(), size, &size, 0), "NCryptExportKey");
  blob.resize(size);
  return blob;
}

Pkey from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  const bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    throw std::runtime_error("EVP_PKEY_fromdata failed");
  }
  return Pkey(key);
}

// BCRYPT_RSAPUBLIC_BLOB: header, e, n (big-endian).
Pkey rsa_from_blob(const Bytes& blob) {
  BCRYPT_RSAKEY_BLOB header{};
  std::memcpy(&header, blob.data(), sizeof(header));
  const std::uint8_t* e = blob.data() + sizeof(header);
  const std::uint8_t* n = e + header.cbPublicExp;
  BIGNUM* bn_e = BN_bin2bn(e, static_cast<int>(header.cbPublicExp), nullptr);
  BIGNUM* bn_n = BN_bin2bn(n, static_cast<int>(header.cbModulus), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  Pkey key = from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_e);
  BN_free(bn_n);
  return key;
}

const char* group_of(CK_ULONG bits) {
  return bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
}

// BCRYPT_ECCPUBLIC_BLOB: header, X, Y.
Pkey ec_from_blob(const Bytes& blob, CK_ULONG bits) {
  BCRYPT_ECCKEY_BLOB header{};
  std::memcpy(&header, blob.data(), sizeof(header));
  Bytes point{0x04};
  point.insert(point.end(), blob.begin() + sizeof(header), blob.end());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_of(bits), 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  Pkey key = from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

Bytes spki_of(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  return der;
}

TestKey* make_key(const char16_t* algorithm, CK_KEY_TYPE type, CK_ULONG bits) {
  auto* key = new TestKey;
  key->provider = software_provider();
  key->key_type = type;
  key->bits = bits;
  check_ok(NCryptCreatePersistedKey(key->provider, &key->handle, algorithm, nullptr, 0, 0),
           "NCryptCreatePersistedKey");
  if (type == CKK_RSA) {
    DWORD length = static_cast<DWORD>(bits);
    check_ok(NCryptSetProperty(key->handle, NCRYPT_LENGTH_PROPERTY,
                               reinterpret_cast<PBYTE>(&length), sizeof(length), 0),
             "set Length");
  }
  DWORD usage = NCRYPT_ALLOW_ALL_USAGES;
  check_ok(NCryptSetProperty(key->handle, NCRYPT_KEY_USAGE_PROPERTY,
                             reinterpret_cast<PBYTE>(&usage), sizeof(usage), 0),
           "set Key Usage");
  check_ok(NCryptFinalizeKey(key->handle, 0), "NCryptFinalizeKey");
  key->pub = type == CKK_RSA ? rsa_from_blob(export_blob(key->handle, BCRYPT_RSAPUBLIC_BLOB))
                             : ec_from_blob(export_blob(key->handle, BCRYPT_ECCPUBLIC_BLOB), bits);
  key->spki = spki_of(key->pub.get());
  return key;
}

}  // namespace

p11::KeyView TestKey::private_view() const {
  p11::KeyView view;
  view.object_class = CKO_PRIVATE_KEY;
  view.key_type = key_type;
  view.bits = bits;
  view.ncrypt_key = handle;
  view.ncrypt_provider = provider;
  view.spki_der = spki;
  view.can_sign = view.can_decrypt = view.can_derive = view.can_unwrap = true;
  return view;
}

p11::KeyView TestKey::public_view() const {
  p11::KeyView view;
  view.object_class = CKO_PUBLIC_KEY;
  view.key_type = key_type;
  view.bits = bits;
  view.spki_der = spki;
  view.can_verify = view.can_encrypt = view.can_wrap = true;
  return view;
}

NCRYPT_PROV_HANDLE test_provider() { return software_provider(); }

const TestKey& rsa2048() {
  static const TestKey* const key = make_key(NCRYPT_RSA_ALGORITHM, CKK_RSA, 2048);
  return *key;
}

const TestKey& ec_key(CK_ULONG bits, bool ecdh) {
  static auto* const keys = new std::map<std::pair<CK_ULONG, bool>, TestKey*>;
  auto& slot = (*keys)[{bits, ecdh}];
  if (slot == nullptr) {
    const char16_t* alg = nullptr;
    if (bits == 256) {
      alg = ecdh ? NCRYPT_ECDH_P256_ALGORITHM : NCRYPT_ECDSA_P256_ALGORITHM;
    } else if (bits == 384) {
      alg = ecdh ? NCRYPT_ECDH_P384_ALGORITHM : NCRYPT_ECDSA_P384_ALGORITHM;
    } else {
      alg = ecdh ? NCRYPT_ECDH_P521_ALGORITHM : NCRYPT_ECDSA_P521_ALGORITHM;
    }
    slot = make_key(alg, CKK_EC, bits);
  }
  return *slot;
}

const slots::Capabilities& software_caps() {
  static const slots::Capabilities caps = [] {
    use_temp_store_dirs();
    // Row 0 of the profile table: the software provider (slots 0 and 1).
    const auto slots = slots::open_present_slots(slots::provider_profiles().first(1));
    return slots.at(0)->capabilities();
  }();
  return caps;
}

const slots::Capabilities& platform_caps() {
  static const slots::Capabilities caps = [] {
    slots::Capabilities c;
    c.rsa = true;
    c.rsa_bits = {1024, 2048};
    c.ecdsa_p256 = c.ecdsa_p384 = c.ecdh_p256 = c.ecdh_p384 = true;
    for (const slots::ProviderProfile& profile : slots::provider_profiles()) {
      if (profile.provider == MS_PLATFORM_CRYPTO_PROVIDER) {
        c.declared = profile.abilities;
      }
    }
    return c;
  }();
  return caps;
}

CK_RV rv_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const p11::P11Error& e) {
    return e.rv();
  }
  return CKR_OK;
}

CK_MECHANISM mechanism(CK_MECHANISM_TYPE type, void* param, CK_ULONG param_len) {
  return CK_MECHANISM{type, param, param_len};
}

Bytes sign(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data) {
  auto op = p11::start_operation(p11::OpKind::kSign, m, &key, software_caps());
  const std::size_t expected = op->output_size();
  Bytes sig = op->one_shot(data);
  EXPECT_EQ(sig.size(), expected) << "output_size() must be exact for signatures";
  return sig;
}

CK_RV verify(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data,
             const Bytes& signature) {
  return rv_of([&] {
    auto op = p11::start_operation(p11::OpKind::kVerify, m, &key, software_caps());
    op->verify_one_shot(data, signature);
  });
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes");
  }
  return out;
}

const EVP_MD* md(const char* name) {
  static auto* const cache = new std::map<std::string, EVP_MD*>;
  auto& slot = (*cache)[name];
  if (slot == nullptr) {
    slot = EVP_MD_fetch(nullptr, name, nullptr);
  }
  return slot;
}

Bytes digest(const char* md_name, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md(md_name), nullptr);
  out.resize(len);
  return out;
}

Bytes digest_info(const char* md_name, const Bytes& data) {
  // Built by OpenSSL's own encoder: X509_SIG = DigestInfo.
  const Bytes hash = digest(md_name, data);
  X509_SIG* sig = X509_SIG_new();
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* octets = nullptr;
  X509_SIG_getm(sig, &alg, &octets);
  X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md(md_name))), V_ASN1_NULL, nullptr);
  ASN1_OCTET_STRING_set(octets, hash.data(), static_cast<int>(hash.size()));
  const int len = i2d_X509_SIG(sig, nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509_SIG(sig, &p);
  X509_SIG_free(sig);
  return der;
}

Bytes ecdsa_der(const Bytes& raw) {
  const int half = static_cast<int>(raw.size() / 2);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), half, nullptr),
                 BN_bin2bn(raw.data() + half, half, nullptr));
  const int len = i2d_ECDSA_SIG(sig, nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig, &p);
  ECDSA_SIG_free(sig);
  return der;
}

bool openssl_verify_pkcs1(EVP_PKEY* key, const char* md_name, const Bytes& data, const Bytes& sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, md(md_name), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool openssl_verify_pss(EVP_PKEY* key, const char* md_name, int salt, const Bytes& digest_value,
                        const Bytes& sig) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  const bool ok =
      EVP_PKEY_verify_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
      EVP_PKEY_CTX_set_signature_md(ctx, md(md_name)) == 1 &&
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md(md_name)) == 1 &&
      EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) == 1 &&
      EVP_PKEY_verify(ctx, sig.data(), sig.size(), digest_value.data(), digest_value.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

bool openssl_verify_ecdsa(EVP_PKEY* key, const Bytes& digest_value, const Bytes& raw_sig) {
  const Bytes der = ecdsa_der(raw_sig);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  const bool ok =
      EVP_PKEY_verify_init(ctx) == 1 &&
      EVP_PKEY_verify(ctx, der.data(), der.size(), digest_value.data(), digest_value.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

}  // namespace mechtest

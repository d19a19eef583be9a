#include "test_support.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "bcrypt.h"
#include "providers/software/software_provider.h"

namespace cng_test {

namespace {

std::uint32_t le32(ByteView b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8U) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16U) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24U);
}

Pkey from_params(const char* type, int selection, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  const bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                  EVP_PKEY_fromdata(ctx, &key, selection, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    throw std::runtime_error("test: EVP_PKEY_fromdata failed");
  }
  return Pkey(key);
}

Pkey rsa_from_blob(ByteView blob) {
  const std::uint32_t cb_exp = le32(blob, 8);
  const std::uint32_t cb_mod = le32(blob, 12);
  if (blob.size() != 24 + cb_exp + cb_mod) {
    throw std::runtime_error("test: RSA public blob size");
  }
  BIGNUM* e = BN_bin2bn(blob.data() + 24, static_cast<int>(cb_exp), nullptr);
  BIGNUM* n = BN_bin2bn(blob.data() + 24 + cb_exp, static_cast<int>(cb_mod), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
  Pkey key = from_params("RSA", EVP_PKEY_PUBLIC_KEY, bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(e);
  BN_free(n);
  return key;
}

Pkey ec_from_blob(ByteView blob, const char* group) {
  const std::uint32_t cb_key = le32(blob, 4);
  if (blob.size() != 8 + 2 * cb_key) {
    throw std::runtime_error("test: ECC public blob size");
  }
  Bytes point{0x04};
  point.insert(point.end(), blob.begin() + 8, blob.end());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  Pkey key = from_params("EC", EVP_PKEY_PUBLIC_KEY, bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

}  // namespace

cng::Provider& provider() {
  static cng::Provider* const p = cng::make_software_provider().release();
  return *p;
}

std::shared_ptr<cng::KeyMaterial> shared_rsa(DWORD bits) {
  static auto* const mu = new std::mutex;
  static auto* const keys = new std::map<DWORD, std::shared_ptr<cng::KeyMaterial>>;
  const std::lock_guard lock(*mu);
  auto& slot = (*keys)[bits];
  if (!slot) {
    cng::KeySpec spec;
    spec.algorithm = cng::KeyAlgorithm::kRsa;
    spec.rsa_bits = bits;
    slot = provider().generate(spec);
  }
  return slot;
}

std::shared_ptr<cng::KeyMaterial> shared_ec(cng::KeyAlgorithm algorithm, cng::Curve curve) {
  static auto* const mu = new std::mutex;
  static auto* const keys =
      new std::map<std::pair<cng::KeyAlgorithm, cng::Curve>, std::shared_ptr<cng::KeyMaterial>>;
  const std::lock_guard lock(*mu);
  auto& slot = (*keys)[{algorithm, curve}];
  if (!slot) {
    cng::KeySpec spec;
    spec.algorithm = algorithm;
    spec.curve = curve;
    slot = provider().generate(spec);
  }
  return slot;
}

Pkey pkey_from_public_blob(ByteView blob) {
  if (blob.size() < 8) {
    throw std::runtime_error("test: blob too short");
  }
  switch (le32(blob, 0)) {
    case BCRYPT_RSAPUBLIC_MAGIC:
      return rsa_from_blob(blob);
    case BCRYPT_ECDSA_PUBLIC_P256_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P256_MAGIC:
      return ec_from_blob(blob, "prime256v1");
    case BCRYPT_ECDSA_PUBLIC_P384_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P384_MAGIC:
      return ec_from_blob(blob, "secp384r1");
    case BCRYPT_ECDSA_PUBLIC_P521_MAGIC:
    case BCRYPT_ECDH_PUBLIC_P521_MAGIC:
      return ec_from_blob(blob, "secp521r1");
    default:
      throw std::runtime_error("test: unexpected public blob magic");
  }
}

Pkey pkey_from_pkcs8(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (key == nullptr) {
    throw std::runtime_error("test: d2i_AutoPrivateKey failed");
  }
  return Pkey(key);
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("test: RAND_bytes");
  }
  return out;
}

Bytes digest(const char* md, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_get_digestbyname(md), nullptr) !=
      1) {
    throw std::runtime_error("test: EVP_Digest");
  }
  out.resize(len);
  return out;
}

Bytes digest_info(const char* md, ByteView hash) {
  X509_SIG* sig = X509_SIG_new();
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* value = nullptr;
  X509_SIG_getm(sig, &alg, &value);
  X509_ALGOR_set0(alg, OBJ_nid2obj(OBJ_sn2nid(md)), V_ASN1_NULL, nullptr);
  ASN1_OCTET_STRING_set(value, hash.data(), static_cast<int>(hash.size()));
  unsigned char* der = nullptr;
  const int len = i2d_X509_SIG(sig, &der);
  Bytes out(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  X509_SIG_free(sig);
  return out;
}

Bytes ecdsa_der(ByteView raw_rs) {
  const std::size_t n = raw_rs.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw_rs.data(), static_cast<int>(n), nullptr),
                 BN_bin2bn(raw_rs.data() + n, static_cast<int>(n), nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  Bytes out(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

}  // namespace cng_test

#include "openssl_check.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstring>

namespace ncrypt_test {

namespace {

using Ctx = cng::ossl::PkeyCtxPtr;
using Bn = cng::ossl::BnPtr;

std::uint32_t le32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

Pkey from_params(const char* type, OSSL_PARAM_BLD* bld) {
  cng::ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  Ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Pkey(key);
}

}  // namespace

Pkey pkey_from_bcrypt_public(const Bytes& blob) {
  if (blob.size() < 8) {
    return nullptr;
  }
  const std::uint32_t magic = le32(blob, 0);
  cng::ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (magic == 0x31415352) {  // "RSA1": header of 6 ULONGs, then e, n (big-endian)
    if (blob.size() < 24) {
      return nullptr;
    }
    const std::size_t cb_exp = le32(blob, 8);
    const std::size_t cb_mod = le32(blob, 12);
    if (blob.size() != 24 + cb_exp + cb_mod) {
      return nullptr;
    }
    Bn e(BN_bin2bn(blob.data() + 24, static_cast<int>(cb_exp), nullptr));
    Bn n(BN_bin2bn(blob.data() + 24 + cb_exp, static_cast<int>(cb_mod), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    return from_params("RSA", bld.get());
  }
  const char* group = nullptr;
  switch (magic) {
    case 0x31534345:  // ECS1
    case 0x314B4345:  // ECK1
      group = "P-256";
      break;
    case 0x33534345:
    case 0x334B4345:
      group = "P-384";
      break;
    case 0x35534345:
    case 0x354B4345:
      group = "P-521";
      break;
    default:
      return nullptr;
  }
  const std::size_t cb_key = le32(blob, 4);
  if (blob.size() != 8 + 2 * cb_key) {
    return nullptr;
  }
  Bytes point{0x04};
  point.insert(point.end(), blob.begin() + 8, blob.end());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  return from_params("EC", bld.get());
}

Pkey pkey_from_pkcs8(const Bytes& der) {
  const unsigned char* p = der.data();
  return Pkey(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
}

Bytes digest(const char* md_name, const std::string& message) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(message.data(), message.size(), out.data(), &len, EVP_get_digestbyname(md_name),
             nullptr);
  out.resize(len);
  return out;
}

bool verify_rsa(EVP_PKEY* key, const char* md_name, const Bytes& hash, const Bytes& sig,
                int pss_salt) {
  Ctx ctx(EVP_PKEY_CTX_new(key, nullptr));
  const EVP_MD* md = EVP_get_digestbyname(md_name);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return false;
  }
  if (pss_salt >= 0) {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), pss_salt);
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md);
  } else {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING);
  }
  return EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), hash.data(), hash.size()) == 1;
}

bool verify_ecdsa_raw(EVP_PKEY* key, const Bytes& hash, const Bytes& raw_sig) {
  const std::size_t half = raw_sig.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw_sig.data(), static_cast<int>(half), nullptr),
                 BN_bin2bn(raw_sig.data() + half, static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  Ctx ctx(EVP_PKEY_CTX_new(key, nullptr));
  const bool ok = der_len > 0 && ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
                  EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len), hash.data(),
                                  hash.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

Bytes rsa_encrypt(EVP_PKEY* key, const Bytes& plain, const char* oaep_md, const Bytes& label) {
  Ctx ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1) {
    return {};
  }
  if (oaep_md != nullptr) {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_get_digestbyname(oaep_md));
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_get_digestbyname(oaep_md));
    if (!label.empty()) {
      auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(label.data(), label.size()));
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size()));
    }
  } else {
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING);
  }
  std::size_t len = 0;
  EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plain.data(), plain.size());
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plain.data(), plain.size()) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

Bytes ecdh(EVP_PKEY* priv, EVP_PKEY* peer) {
  Ctx ctx(EVP_PKEY_CTX_new(priv, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return {};
  }
  Bytes out(len);
  EVP_PKEY_derive(ctx.get(), out.data(), &len);
  out.resize(len);
  return out;
}

}  // namespace ncrypt_test

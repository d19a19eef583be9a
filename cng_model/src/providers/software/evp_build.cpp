// EVP_PKEY construction and inspection through OSSL_PARAM (see evp_build.h).
#include "providers/software/evp_build.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include <array>
#include <string>

#include "core/cng_error.h"
#include "providers/software/algorithm_util.h"
#include "providers/software/ossl_error.h"

namespace cng::soft {

namespace {

int int_len(std::size_t n) {
  require(n <= 0x7fffffff, NTE_BAD_DATA, "integer too long");
  return static_cast<int>(n);
}

ossl::PkeyPtr from_params(const char* type, int selection, OSSL_PARAM_BLD* bld) {
  ossl::ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  check_ossl(params != nullptr, NTE_NO_MEMORY, "OSSL_PARAM_BLD_to_param");
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, provider_key_type(type), nullptr));
  check_ossl(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, NTE_INTERNAL_ERROR,
             "EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  check_ossl(EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) == 1, NTE_BAD_DATA,
             "the key components do not form a key");
  return ossl::PkeyPtr(raw);
}

void push_bn(OSSL_PARAM_BLD* bld, const char* name, const BIGNUM* bn) {
  check_ossl(OSSL_PARAM_BLD_push_BN(bld, name, bn) == 1, NTE_NO_MEMORY, "OSSL_PARAM_BLD_push_BN");
}

}  // namespace

ossl::BnPtr bn_from(ByteView be) {
  ossl::BnPtr bn(BN_bin2bn(be.data(), int_len(be.size()), nullptr));
  check_ossl(bn != nullptr, NTE_NO_MEMORY, "BN_bin2bn");
  return bn;
}

ossl::SecretBnPtr secret_bn_from(ByteView be) {
  ossl::SecretBnPtr bn(BN_secure_new());
  check_ossl(bn != nullptr && BN_bin2bn(be.data(), int_len(be.size()), bn.get()) != nullptr,
             NTE_NO_MEMORY, "BN_bin2bn");
  return bn;
}

void bn_write(const BIGNUM* bn, std::span<std::uint8_t> out) {
  require(BN_bn2binpad(bn, out.data(), int_len(out.size())) >= 0, NTE_BAD_DATA,
          "integer larger than its blob field");
}

ossl::SecretBnPtr get_bn(const EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  ERR_set_mark();
  if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) {
    ERR_pop_to_mark();
    return nullptr;
  }
  ERR_clear_last_mark();
  return ossl::SecretBnPtr(bn);
}

void complete_rsa_crt(RsaParts& parts) {
  require(parts.p && parts.q && parts.e, NTE_BAD_DATA, "RSA private key without primes");
  ossl::BnCtxPtr ctx(BN_CTX_secure_new());
  ossl::SecretBnPtr p1(BN_secure_new());
  ossl::SecretBnPtr q1(BN_secure_new());
  ossl::SecretBnPtr gcd(BN_secure_new());
  ossl::SecretBnPtr phi(BN_secure_new());
  ossl::SecretBnPtr lcm(BN_secure_new());
  ossl::SecretBnPtr rem(BN_secure_new());
  parts.d.reset(BN_secure_new());
  parts.dp.reset(BN_secure_new());
  parts.dq.reset(BN_secure_new());
  parts.qinv.reset(BN_secure_new());
  check_ossl(
      ctx && p1 && q1 && gcd && phi && lcm && rem && parts.d && parts.dp && parts.dq && parts.qinv,
      NTE_NO_MEMORY, "BN_secure_new");
  BN_set_flags(parts.p.get(), BN_FLG_CONSTTIME);
  BN_set_flags(parts.q.get(), BN_FLG_CONSTTIME);
  const bool ok =
      BN_sub(p1.get(), parts.p.get(), BN_value_one()) == 1 &&
      BN_sub(q1.get(), parts.q.get(), BN_value_one()) == 1 && !BN_is_zero(p1.get()) &&
      !BN_is_zero(q1.get()) && BN_gcd(gcd.get(), p1.get(), q1.get(), ctx.get()) == 1 &&
      BN_mul(phi.get(), p1.get(), q1.get(), ctx.get()) == 1 &&
      BN_div(lcm.get(), rem.get(), phi.get(), gcd.get(), ctx.get()) == 1 &&
      BN_mod_inverse(parts.d.get(), parts.e.get(), lcm.get(), ctx.get()) != nullptr &&
      BN_mod(parts.dp.get(), parts.d.get(), p1.get(), ctx.get()) == 1 &&
      BN_mod(parts.dq.get(), parts.d.get(), q1.get(), ctx.get()) == 1 &&
      BN_mod_inverse(parts.qinv.get(), parts.q.get(), parts.p.get(), ctx.get()) != nullptr;
  check_ossl(ok, NTE_BAD_DATA, "RSA primes and exponent are inconsistent");
}

ossl::PkeyPtr rsa_from_parts(const RsaParts& parts) {
  require(parts.n && parts.e, NTE_BAD_DATA, "RSA key without modulus or exponent");
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  check_ossl(bld != nullptr, NTE_NO_MEMORY, "OSSL_PARAM_BLD_new");
  push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_N, parts.n.get());
  push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_E, parts.e.get());
  const bool is_private = parts.d != nullptr;
  if (is_private) {
    require(parts.p && parts.q && parts.dp && parts.dq && parts.qinv, NTE_BAD_DATA,
            "RSA private key without CRT components");
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_D, parts.d.get());
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, parts.p.get());
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, parts.q.get());
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, parts.dp.get());
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, parts.dq.get());
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, parts.qinv.get());
  }
  return from_params("RSA", is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
}

RsaParts rsa_parts_of(const EVP_PKEY* key) {
  RsaParts parts;
  parts.n.reset(get_bn(key, OSSL_PKEY_PARAM_RSA_N).release());
  parts.e.reset(get_bn(key, OSSL_PKEY_PARAM_RSA_E).release());
  require(parts.n && parts.e, NTE_INTERNAL_ERROR, "RSA key without public components");
  parts.d = get_bn(key, OSSL_PKEY_PARAM_RSA_D);
  if (parts.d) {
    parts.p = get_bn(key, OSSL_PKEY_PARAM_RSA_FACTOR1);
    parts.q = get_bn(key, OSSL_PKEY_PARAM_RSA_FACTOR2);
    parts.dp = get_bn(key, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    parts.dq = get_bn(key, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    parts.qinv = get_bn(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    if (!parts.dp || !parts.dq || !parts.qinv) {
      // A key given as (n, e, d, p, q) only: derive the CRT values for the blob.
      complete_rsa_crt(parts);
    }
  }
  return parts;
}

ossl::PkeyPtr ec_from_parts(Curve curve, ByteView pub_x, ByteView pub_y, ByteView priv) {
  const std::size_t n = field_bytes(curve);
  require(n != 0 && pub_x.size() == n && pub_y.size() == n, NTE_BAD_DATA,
          "EC coordinates of the wrong size");
  Bytes point(1 + 2 * n);
  point[0] = 0x04;  // uncompressed
  std::copy(pub_x.begin(), pub_x.end(), point.begin() + 1);
  std::copy(pub_y.begin(), pub_y.end(), point.begin() + 1 + static_cast<std::ptrdiff_t>(n));
  ossl::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  check_ossl(bld != nullptr, NTE_NO_MEMORY, "OSSL_PARAM_BLD_new");
  check_ossl(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                             group_name(curve), 0) == 1 &&
                 OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                                  point.size()) == 1,
             NTE_NO_MEMORY, "OSSL_PARAM_BLD_push");
  ossl::SecretBnPtr d;
  if (!priv.empty()) {
    d = secret_bn_from(priv);
    push_bn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  }
  return from_params("EC", priv.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR, bld.get());
}

Curve ec_curve_of(const EVP_PKEY* key) {
  std::array<char, 64> name{};
  std::size_t len = 0;
  ERR_set_mark();
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(),
                                     &len) != 1) {
    ERR_pop_to_mark();  // explicit curve parameters: not a curve we name
    return Curve::kNone;
  }
  ERR_clear_last_mark();
  return curve_from_group(std::string_view(name.data(), len));
}

Bytes ec_public_xy(const EVP_PKEY* key, Curve curve) {
  const std::size_t n = field_bytes(curve);
  const ossl::SecretBnPtr x = get_bn(key, OSSL_PKEY_PARAM_EC_PUB_X);
  const ossl::SecretBnPtr y = get_bn(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  require(x && y, NTE_INTERNAL_ERROR, "EC key without public point");
  Bytes xy(2 * n);
  bn_write(x.get(), std::span(xy).first(n));
  bn_write(y.get(), std::span(xy).last(n));
  return xy;
}

SecureBytes encode_pkcs8(const EVP_PKEY* key) {
  ossl::EncoderCtxPtr ctx(
      OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr));
  check_ossl(ctx != nullptr && OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) > 0, NTE_INTERNAL_ERROR,
             "no PKCS#8 encoder for the key");
  unsigned char* data = nullptr;
  std::size_t len = 0;
  check_ossl(OSSL_ENCODER_to_data(ctx.get(), &data, &len) == 1, NTE_INTERNAL_ERROR,
             "PKCS#8 encoding failed");
  SecureBytes out(data, data + len);
  OPENSSL_clear_free(data, len);
  return out;
}

ossl::PkeyPtr decode_pkcs8(ByteView der) {
  EVP_PKEY* raw = nullptr;
  ossl::DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&raw, "DER", "PrivateKeyInfo", nullptr,
                                                        EVP_PKEY_KEYPAIR, nullptr, nullptr));
  check_ossl(ctx != nullptr, NTE_INTERNAL_ERROR, "no PKCS#8 decoder");
  const unsigned char* p = der.data();
  std::size_t left = der.size();
  const bool ok = !der.empty() && OSSL_DECODER_from_data(ctx.get(), &p, &left) == 1;
  ossl::PkeyPtr key(raw);
  check_ossl(ok && key != nullptr, NTE_BAD_DATA, "not a PKCS#8 PrivateKeyInfo");
  require(left == 0, NTE_BAD_DATA, "bytes after the PKCS#8 PrivateKeyInfo");
  return key;
}

void validate_key(EVP_PKEY* key, KeyAlgorithm algorithm, bool has_private) {
  if (algorithm == KeyAlgorithm::kRsa && !has_private) {
    // OpenSSL's RSA public check follows SP 800-56B (e >= 65537); CNG accepts any odd e > 1.
    const RsaParts parts = rsa_parts_of(key);
    require(BN_is_odd(parts.n.get()) && BN_is_odd(parts.e.get()) && !BN_is_one(parts.e.get()) &&
                BN_cmp(parts.e.get(), parts.n.get()) < 0,
            NTE_BAD_DATA, "RSA public key is invalid");
    return;
  }
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  check_ossl(ctx != nullptr, NTE_NO_MEMORY, "EVP_PKEY_CTX_new_from_pkey");
  const int ok = has_private ? EVP_PKEY_check(ctx.get()) : EVP_PKEY_public_check(ctx.get());
  check_ossl(ok == 1, NTE_BAD_DATA, "key validation failed");
}

}  // namespace cng::soft

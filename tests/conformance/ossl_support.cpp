#include "ossl_support.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace conf {
namespace {

using cng::ossl::BnPtr;
using CtxPtr = cng::ossl::PkeyCtxPtr;
using cng::ossl::MdCtxPtr;
using BldPtr = cng::ossl::ParamBldPtr;
using ParamPtr = cng::ossl::ParamsPtr;
using SigPtr = cng::ossl::EcdsaSigPtr;
using cng::ossl::X509Ptr;
using ObjPtr = cng::ossl::Asn1ObjectPtr;

BnPtr ToBn(const Bytes& b) {
  return BnPtr(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr));
}

Bytes FromBn(const BIGNUM* bn) {
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

PKey FromData(const char* type, OSSL_PARAM* params, int selection) {
  CtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params) <= 0) {
    return nullptr;
  }
  return PKey(key);
}

// ECDSA r||s (each half the field size) -> DER ECDSA-Sig-Value.
Bytes RsToDer(const Bytes& rs) {
  if (rs.empty() || rs.size() % 2 != 0) {
    return {};
  }
  const size_t half = rs.size() / 2;
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(rs.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + half, static_cast<int>(half), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) {
    return {};
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

bool VerifyWith(EVP_PKEY* key, const EVP_MD* md, const Bytes& data, const Bytes& sig,
                bool data_is_hash, int padding, const EVP_MD* mgf1_md, int salt_len) {
  auto configure = [&](EVP_PKEY_CTX* pctx) {
    if (padding != 0 && EVP_PKEY_CTX_set_rsa_padding(pctx, padding) <= 0) {
      return false;
    }
    if (padding == RSA_PKCS1_PSS_PADDING) {
      return EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf1_md) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len) > 0;
    }
    return true;
  };
  if (data_is_hash || md == nullptr) {
    CtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) <= 0 || !configure(ctx.get())) {
      return false;
    }
    if (md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx.get(), md) <= 0) {
      return false;
    }
    return EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
  }
  MdCtxPtr mctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!mctx || EVP_DigestVerifyInit(mctx.get(), &pctx, md, nullptr, key) <= 0 || !configure(pctx)) {
    return false;
  }
  return EVP_DigestVerify(mctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

}  // namespace

PKey RsaPublicKey(const Bytes& modulus, const Bytes& exponent) {
  BnPtr n = ToBn(modulus);
  BnPtr e = ToBn(exponent);
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  return params ? FromData("RSA", params.get(), EVP_PKEY_PUBLIC_KEY) : nullptr;
}

std::string CurveName(const Bytes& ec_params) {
  const unsigned char* p = ec_params.data();
  ObjPtr oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(ec_params.size())));
  if (!oid || p != ec_params.data() + ec_params.size()) {
    return {};
  }
  switch (OBJ_obj2nid(oid.get())) {
    case NID_X9_62_prime256v1:
      return "P-256";
    case NID_secp384r1:
      return "P-384";
    case NID_secp521r1:
      return "P-521";
    default:
      return {};
  }
}

Bytes UnwrapOctetString(const Bytes& der) {
  if (der.size() < 2 || der[0] != 0x04) {
    return {};
  }
  size_t len = der[1];
  size_t hdr = 2;
  if (len & 0x80) {
    const size_t nlen = len & 0x7F;
    if (nlen == 0 || nlen > 2 || der.size() < 2 + nlen) {
      return {};
    }
    len = 0;
    for (size_t i = 0; i < nlen; ++i) {
      len = (len << 8) | der[2 + i];
    }
    hdr = 2 + nlen;
  }
  if (hdr + len != der.size()) {
    return {};
  }
  return Bytes(der.begin() + static_cast<long>(hdr), der.end());
}

PKey EcPublicKey(const Bytes& ec_params, const Bytes& ec_point_attr) {
  const std::string curve = CurveName(ec_params);
  Bytes point = UnwrapOctetString(ec_point_attr);
  if (curve.empty() || point.empty()) {
    return nullptr;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve.c_str()),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  return FromData("EC", params, EVP_PKEY_PUBLIC_KEY);
}

bool VerifyRsaPkcs1(EVP_PKEY* key, const EVP_MD* md, const Bytes& data, const Bytes& sig) {
  return VerifyWith(key, md, data, sig, false, RSA_PKCS1_PADDING, nullptr, 0);
}

bool VerifyRsaPss(EVP_PKEY* key, const EVP_MD* md, const EVP_MD* mgf1_md, int salt_len,
                  const Bytes& data, const Bytes& sig, bool data_is_hash) {
  return VerifyWith(key, md, data, sig, data_is_hash, RSA_PKCS1_PSS_PADDING, mgf1_md, salt_len);
}

bool VerifyEcdsa(EVP_PKEY* key, const EVP_MD* md, const Bytes& data, const Bytes& sig_rs,
                 bool data_is_hash) {
  const Bytes der = RsToDer(sig_rs);
  if (der.empty()) {
    return false;
  }
  if (data_is_hash) {
    CtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    return ctx && EVP_PKEY_verify_init(ctx.get()) > 0 &&
           EVP_PKEY_verify(ctx.get(), der.data(), der.size(), data.data(), data.size()) == 1;
  }
  return VerifyWith(key, md, data, der, false, 0, nullptr, 0);
}

Bytes Digest(const EVP_MD* md, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

Bytes Sha256DigestInfo(const Bytes& data) {
  Bytes info = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  const Bytes h = Digest(EVP_sha256(), data);
  info.insert(info.end(), h.begin(), h.end());
  return info;
}

Bytes RsaEncrypt(EVP_PKEY* key, int padding, const EVP_MD* oaep_md, const Bytes& data,
                 const Bytes& label) {
  CtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) <= 0) {
    return {};
  }
  if (padding == RSA_PKCS1_OAEP_PADDING) {
    if (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), oaep_md) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), oaep_md) <= 0) {
      return {};
    }
    if (!label.empty()) {
      auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(label.data(), label.size()));
      if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) <= 0) {
        OPENSSL_free(copy);
        return {};
      }
    }
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, data.data(), data.size()) <= 0) {
    return {};
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, data.data(), data.size()) <= 0) {
    return {};
  }
  out.resize(len);
  return out;
}

PKey GenerateEcKey(const std::string& curve) {
  return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.c_str()));
}

PKey GenerateRsaKey(unsigned bits) {
  return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

Bytes EcRawPoint(EVP_PKEY* key) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len) != 1) {
    return {};
  }
  Bytes out(len);
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out.data(), len, &len) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

Bytes EcdhSecret(EVP_PKEY* priv, EVP_PKEY* peer_pub) {
  CtxPtr ctx(EVP_PKEY_CTX_new(priv, nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_pub) <= 0 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) <= 0) {
    return {};
  }
  Bytes out(len);
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) <= 0) {
    return {};
  }
  out.resize(len);
  return out;
}

RsaComponents RsaComponentsOf(EVP_PKEY* key) {
  auto get = [key](const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
      return Bytes{};
    }
    BnPtr owned(bn);
    return FromBn(owned.get());
  };
  return RsaComponents{get(OSSL_PKEY_PARAM_RSA_N),         get(OSSL_PKEY_PARAM_RSA_E),
                       get(OSSL_PKEY_PARAM_RSA_D),         get(OSSL_PKEY_PARAM_RSA_FACTOR1),
                       get(OSSL_PKEY_PARAM_RSA_FACTOR2),   get(OSSL_PKEY_PARAM_RSA_EXPONENT1),
                       get(OSSL_PKEY_PARAM_RSA_EXPONENT2), get(OSSL_PKEY_PARAM_RSA_COEFFICIENT1)};
}

TestCert MakeSelfSignedCert(const std::string& common_name) {
  TestCert out;
  out.key = GenerateEcKey("P-256");
  X509Ptr cert(X509_new());
  if (!out.key || !cert) {
    return out;
  }
  unsigned char serial_bytes[8];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7F;  // positive
  serial_bytes[0] |= 0x01;  // and 8 significant bytes
  BnPtr serial_bn(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_set_version(cert.get(), 2) != 1 ||
      BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30) == nullptr ||
      X509_set_pubkey(cert.get(), out.key.get()) != 1 ||
      X509_sign(cert.get(), out.key.get(), EVP_sha256()) <= 0) {
    return out;
  }
  auto encode = [](auto* obj, auto i2d) {
    unsigned char* der = nullptr;
    const int len = i2d(obj, &der);
    Bytes b;
    if (len > 0) {
      b.assign(der, der + len);
      OPENSSL_free(der);
    }
    return b;
  };
  out.der = encode(cert.get(), i2d_X509);
  out.subject = encode(X509_get_subject_name(cert.get()), i2d_X509_NAME);
  out.issuer = encode(X509_get_issuer_name(cert.get()), i2d_X509_NAME);
  out.serial = encode(X509_get_serialNumber(cert.get()), i2d_ASN1_INTEGER);
  return out;
}

}  // namespace conf

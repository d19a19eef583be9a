// libFuzzer target for the module's key-value parsers (module/bridge/key_blobs.h). The first
// input byte picks the parser, the rest is its input. Oracles, besides "no crash, no sanitizer
// report, only the documented P11Error codes":
//   0 BCRYPT RSA/ECC public blob: parse, re-encode, parse again must agree; the RSA bit length
//     of the re-encoded blob is OpenSSL's BN_num_bits; the SubjectPublicKeyInfo we encode by
//     hand must decode with OpenSSL (d2i_X509_PUBKEY) to the same algorithm, curve and key.
//   1 exported private blob: every component is a slice of the blob or a clean P11Error.
//   2 CKA_EC_POINT (DER OCTET STRING or raw point): accepted exactly when OpenSSL reads a DER
//     OCTET STRING holding an uncompressed point of the curve, or the raw point; re-wrapping
//     the point in DER parses back to it.
//   3 CKA_EC_PARAMS: a curve exactly when OpenSSL decodes a canonical DER OID naming P-256/384/521.
//   4 EC private value: the EC key type's PKCS#8 (from CKA_EC_PARAMS + CKA_VALUE) must decode
//     with OpenSSL to a key of that curve with the same private scalar.
// The blob codecs are each key pair type's own (bridge/key_types): 0 and 1 try every one.
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <vector>

#include "bridge/key_blobs.h"
#include "bridge/key_types/key_type.h"
#include "core/p11_error.h"
#include "fuzz_oracle_util.h"

namespace {

using p11::Bytes;
using p11::ByteView;
using p11::bridge::PublicKeyValues;

// Runs f; a P11Error must carry one of the allowed codes. Returns whether f succeeded.
bool attempt(const std::function<void()>& f, std::initializer_list<CK_RV> allowed) {
  try {
    f();
    return true;
  } catch (const p11::P11Error& e) {
    fuzz::require(std::find(allowed.begin(), allowed.end(), e.rv()) != allowed.end());
    return false;
  }
}

const p11::bridge::CurveInfo& curve_at(std::uint8_t pick) {
  static const char16_t* const kNames[] = {u"nistP256", u"nistP384", u"nistP521"};
  return *p11::bridge::curve_by_cng_name(kNames[pick % 3]);
}

void check_spki(const PublicKeyValues& v) {
  const Bytes der = p11::bridge::spki_der(v);
  const unsigned char* p = der.data();
  fuzz::X509PubkeyPtr spki(d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  fuzz::require(spki != nullptr && p == der.data() + der.size());
  ASN1_OBJECT* alg = nullptr;
  const unsigned char* key = nullptr;
  int key_len = 0;
  X509_ALGOR* algor = nullptr;
  fuzz::require(X509_PUBKEY_get0_param(&alg, &key, &key_len, &algor, spki.get()) == 1);
  if (v.key_type == CKK_RSA) {
    fuzz::require(OBJ_obj2nid(alg) == NID_rsaEncryption);
    const unsigned char* q = key;
    fuzz::Asn1SequencePtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &q, key_len));
    fuzz::require(seq != nullptr && sk_ASN1_TYPE_num(seq.get()) == 2);
    const Bytes* parts[] = {&v.modulus, &v.public_exponent};
    for (int i = 0; i < 2; ++i) {
      const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq.get(), i);
      fuzz::require(t->type == V_ASN1_INTEGER);
      fuzz::BnPtr got(ASN1_INTEGER_to_BN(t->value.integer, nullptr));
      fuzz::BnPtr want(BN_bin2bn(parts[i]->data(), static_cast<int>(parts[i]->size()), nullptr));
      fuzz::require(got && want && BN_cmp(got.get(), want.get()) == 0);
    }
    return;
  }
  fuzz::require(OBJ_obj2nid(alg) == NID_X9_62_id_ecPublicKey);
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, algor);
  fuzz::require(ptype == V_ASN1_OBJECT && OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval)) ==
                                              OBJ_sn2nid(v.curve->openssl_name));
  fuzz::require(Bytes(key, key + key_len) == v.point);
}

bool same_values(const PublicKeyValues& a, const PublicKeyValues& b) {
  return a.key_type == b.key_type && a.modulus == b.modulus &&
         a.public_exponent == b.public_exponent && a.curve == b.curve && a.point == b.point;
}

// The key pair types of the registry (bridge/key_types): each has its own blob codec.
std::vector<const p11::bridge::KeyPairRules*> pair_types() {
  std::vector<const p11::bridge::KeyPairRules*> out;
  for (const p11::bridge::KeyTypeDescriptor* type : p11::bridge::all_key_types()) {
    if (type->pair != nullptr) {
      out.push_back(type->pair);
    }
  }
  return out;
}

void public_blob_of(const p11::bridge::KeyPairRules& rules, ByteView in) {
  PublicKeyValues v;
  if (!attempt([&] { v = rules.parse_public_blob(in); }, {CKR_DEVICE_ERROR})) {
    return;
  }
  const Bytes blob = p11::bridge::make_public_blob(v);
  const PublicKeyValues again = rules.parse_public_blob(blob);
  fuzz::require(same_values(v, again));
  fuzz::require(p11::bridge::make_public_blob(again) == blob);
  if (v.key_type == CKK_RSA) {
    fuzz::BnPtr n(BN_bin2bn(v.modulus.data(), static_cast<int>(v.modulus.size()), nullptr));
    fuzz::require(n && again.bits == static_cast<CK_ULONG>(BN_num_bits(n.get())));
  }
  check_spki(v);
  (void)attempt([&] { p11::bridge::validate_public_key(v); },
                {CKR_ATTRIBUTE_VALUE_INVALID, CKR_FUNCTION_FAILED});
}

void public_blob(ByteView in) {
  for (const p11::bridge::KeyPairRules* rules : pair_types()) {
    public_blob_of(*rules, in);
  }
}

void private_blob(ByteView in) {
  static const CK_ATTRIBUTE_TYPE kTypes[] = {
      CKA_PRIVATE_EXPONENT, CKA_PRIME_1,     CKA_PRIME_2, CKA_EXPONENT_1,
      CKA_EXPONENT_2,       CKA_COEFFICIENT, CKA_VALUE,   CKA_MODULUS};
  for (const p11::bridge::KeyPairRules* rules : pair_types()) {
    for (const CK_ATTRIBUTE_TYPE type : kTypes) {
      p11::SecretBytes part;
      if (attempt([&] { part = rules->private_attribute(in, type); },
                  {CKR_DEVICE_ERROR, CKR_ATTRIBUTE_TYPE_INVALID}) &&
          !part.empty()) {
        fuzz::require(std::search(in.begin(), in.end(), part.begin(), part.end()) != in.end());
      }
    }
  }
}

void ec_point(ByteView in) {
  if (in.empty()) {
    return;
  }
  const auto& curve = curve_at(in[0]);
  const ByteView value = in.subspan(1);
  const std::size_t point_len = 1 + 2 * curve.field_bytes;
  // Oracle: OpenSSL's DER reader, or the raw point.
  bool expect = value.size() == point_len && value[0] == 0x04;
  Bytes expected(value.begin(), value.end());
  const unsigned char* p = value.data();
  fuzz::OctetPtr octets(d2i_ASN1_OCTET_STRING(nullptr, &p, static_cast<long>(value.size())));
  if (octets && p == value.data() + value.size()) {
    Bytes content(ASN1_STRING_get0_data(octets.get()),
                  ASN1_STRING_get0_data(octets.get()) + ASN1_STRING_length(octets.get()));
    if (content.size() == point_len && content[0] == 0x04) {
      fuzz::require(!expect);  // the two forms never have the same length
      expect = true;
      expected = content;
    }
  }
  const std::optional<Bytes> got = p11::bridge::ec_point_from_attribute(value, curve);
  fuzz::require(got.has_value() == expect);
  if (got) {
    fuzz::require(*got == expected);
    fuzz::require(
        p11::bridge::ec_point_from_attribute(p11::bridge::der_octet_string(*got), curve) == got);
  }
}

void ec_params(ByteView in) {
  const p11::bridge::CurveInfo* curve = p11::bridge::curve_by_params(in);
  const unsigned char* p = in.data();
  fuzz::ObjectPtr oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(in.size())));
  bool expect = false;
  if (oid && p == in.data() + in.size()) {
    const int nid = OBJ_obj2nid(oid.get());
    unsigned char* der = nullptr;
    const int len = i2d_ASN1_OBJECT(oid.get(), &der);
    const bool canonical = len > 0 && Bytes(der, der + len) == Bytes(in.begin(), in.end());
    OPENSSL_free(der);
    expect =
        canonical && (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1);
    if (expect) {
      fuzz::require(curve != nullptr && OBJ_sn2nid(curve->openssl_name) == nid);
    }
  }
  fuzz::require((curve != nullptr) == expect);
}

void ec_private(ByteView in) {
  if (in.empty()) {
    return;
  }
  const auto& curve = curve_at(in[0]);
  const ByteView d = in.subspan(1);
  const p11::bridge::KeyPairRules& ec = *p11::bridge::find_key_type(CKK_EC)->pair;
  const p11::bridge::AttrMap tmpl = {{CKA_EC_PARAMS, curve.ec_params},
                                     {CKA_VALUE, Bytes(d.begin(), d.end())}};
  p11::SecretBytes pkcs8;
  if (!attempt([&] { pkcs8 = ec.pkcs8_from_template(tmpl); }, {CKR_ATTRIBUTE_VALUE_INVALID})) {
    return;
  }
  // OpenSSL reads the PKCS#8 back as a key of that curve with the same private scalar.
  const unsigned char* p = pkcs8.data();
  fuzz::PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(pkcs8.size())));
  fuzz::require(key != nullptr);
  char group[64] = {};
  fuzz::require(EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group,
                                               sizeof group, nullptr) == 1);
  fuzz::require(OBJ_sn2nid(group) == OBJ_sn2nid(curve.openssl_name));
  BIGNUM* got = nullptr;
  fuzz::require(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &got) == 1);
  fuzz::BnPtr owned(got);
  fuzz::BnPtr want(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
  fuzz::require(want && BN_cmp(got, want.get()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      public_blob(in);
      break;
    case 1:
      private_blob(in);
      break;
    case 2:
      ec_point(in);
      break;
    case 3:
      ec_params(in);
      break;
    default:
      ec_private(in);
      break;
  }
  // Rejections leave entries (with allocated strings) in OpenSSL's per-thread error queue;
  // emptying it keeps mallocs and frees of an input balanced, so libFuzzer's leak check only
  // runs when something really stays allocated.
  ERR_clear_error();
  return 0;
}

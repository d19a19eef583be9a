#include "abi/input.h"

#include <array>
#include <cstring>

namespace fuzz::abi {

namespace {

enum class Kind { kBool, kUlong, kBytes };

struct AttrSpec {
  CK_ATTRIBUTE_TYPE type;
  Kind kind;
  std::initializer_list<CK_ULONG> values;  // typical values of a CK_ULONG attribute
};

const AttrSpec kAttrs[] = {
    {CKA_CLASS,
     Kind::kUlong,
     {CKO_DATA, CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_SECRET_KEY, 0x99}},
    {CKA_KEY_TYPE, Kind::kUlong, {CKK_RSA, CKK_EC, CKK_AES, CKK_GENERIC_SECRET, CKK_DES3, 0x77}},
    {CKA_TOKEN, Kind::kBool, {}},
    {CKA_PRIVATE, Kind::kBool, {}},
    {CKA_MODIFIABLE, Kind::kBool, {}},
    {CKA_LABEL, Kind::kBytes, {}},
    {CKA_ID, Kind::kBytes, {}},
    {CKA_APPLICATION, Kind::kBytes, {}},
    {CKA_VALUE, Kind::kBytes, {}},
    {CKA_VALUE_LEN, Kind::kUlong, {0, 7, 16, 24, 32, 64, 0x10000, ~0UL}},
    {CKA_MODULUS_BITS, Kind::kUlong, {0, 512, 1023, 1024, 8192, ~0UL}},
    {CKA_MODULUS, Kind::kBytes, {}},
    {CKA_PUBLIC_EXPONENT, Kind::kBytes, {}},
    {CKA_PRIVATE_EXPONENT, Kind::kBytes, {}},
    {CKA_PRIME_1, Kind::kBytes, {}},
    {CKA_PRIME_2, Kind::kBytes, {}},
    {CKA_EC_PARAMS, Kind::kBytes, {}},
    {CKA_EC_POINT, Kind::kBytes, {}},
    {CKA_SENSITIVE, Kind::kBool, {}},
    {CKA_EXTRACTABLE, Kind::kBool, {}},
    {CKA_ENCRYPT, Kind::kBool, {}},
    {CKA_DECRYPT, Kind::kBool, {}},
    {CKA_SIGN, Kind::kBool, {}},
    {CKA_VERIFY, Kind::kBool, {}},
    {CKA_WRAP, Kind::kBool, {}},
    {CKA_UNWRAP, Kind::kBool, {}},
    {CKA_DERIVE, Kind::kBool, {}},
    {CKA_LOCAL, Kind::kBool, {}},
    {CKA_ALWAYS_AUTHENTICATE, Kind::kBool, {}},
    {CKA_WRAP_WITH_TRUSTED, Kind::kBool, {}},
    {CKA_CERTIFICATE_TYPE, Kind::kUlong, {CKC_X_509, CKC_WTLS, 0x55}},
    {CKA_SUBJECT, Kind::kBytes, {}},
    {CKA_ISSUER, Kind::kBytes, {}},
    {CKA_SERIAL_NUMBER, Kind::kBytes, {}},
    {CKA_START_DATE, Kind::kBytes, {}},
    {CKA_KEY_GEN_MECHANISM, Kind::kUlong, {CKM_AES_KEY_GEN, CK_UNAVAILABLE_INFORMATION}},
    {CKA_UNIQUE_ID, Kind::kBytes, {}},
    {CKA_PUBLIC_KEY_INFO, Kind::kBytes, {}},
    {CKA_CHECK_VALUE, Kind::kBytes, {}},
    {CKA_WRAP_TEMPLATE, Kind::kBytes, {}},
    {CKA_ALLOWED_MECHANISMS, Kind::kBytes, {}},
    {CKA_OBJECT_ID, Kind::kBytes, {}},
    {0x7FFFFFFFUL, Kind::kBytes, {}},  // unknown
    {CKA_VENDOR_DEFINED | 0x4321, Kind::kBytes, {}},
};

const std::array<std::uint8_t, 10> kP256 = {0x06, 0x08, 0x2A, 0x86, 0x48,
                                            0xCE, 0x3D, 0x03, 0x01, 0x07};
const std::array<std::uint8_t, 7> kP384 = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

Buffer of_ulong(CK_ULONG v) {
  Buffer b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

void add(Template& t, CK_ATTRIBUTE_TYPE type, Buffer value) {
  t.values.push_back(std::move(value));
  Buffer& v = t.values.back();
  t.attrs.push_back({type, v.data(), v.size()});
}

void base_template(Template& t, CK_OBJECT_CLASS cls) {
  const CK_BBOOL yes = CK_TRUE;
  add(t, CKA_CLASS, of_ulong(cls));
  if (cls == CKO_SECRET_KEY) {
    add(t, CKA_KEY_TYPE, of_ulong(CKK_AES));
    add(t, CKA_VALUE_LEN, of_ulong(16));
    for (const CK_ATTRIBUTE_TYPE a : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP}) {
      add(t, a, Buffer{yes});
    }
  } else if (cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY) {
    add(t, CKA_KEY_TYPE, of_ulong(CKK_EC));
    if (cls == CKO_PUBLIC_KEY) {
      add(t, CKA_EC_PARAMS, Buffer(kP256.begin(), kP256.end()));
    }
    add(t, cls == CKO_PUBLIC_KEY ? CKA_VERIFY : CKA_SIGN, Buffer{yes});
    add(t, CKA_DERIVE, Buffer{yes});
  } else if (cls == CKO_DATA) {
    add(t, CKA_VALUE, Buffer{1, 2, 3});
  }
}

}  // namespace

CK_SLOT_ID State::slot() {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
      return in.ConsumeIntegral<CK_SLOT_ID>();
    case 1:
      return 1;
    case 2:
      return in.ConsumeIntegralInRange<CK_SLOT_ID>(2, 5);
    default:
      return 0;
  }
}

CK_SESSION_HANDLE State::session() {
  if (!sessions.empty() && in.ConsumeIntegralInRange(0, 7) != 0) {
    return sessions[in.ConsumeIntegralInRange<std::size_t>(0, sessions.size() - 1)];
  }
  return in.ConsumeBool() ? CK_INVALID_HANDLE : in.ConsumeIntegral<CK_SESSION_HANDLE>();
}

CK_OBJECT_HANDLE State::object() {
  if (!objects.empty() && in.ConsumeIntegralInRange(0, 7) != 0) {
    return objects[in.ConsumeIntegralInRange<std::size_t>(0, objects.size() - 1)];
  }
  return in.ConsumeBool() ? CK_INVALID_HANDLE : in.ConsumeIntegral<CK_OBJECT_HANDLE>();
}

Buffer State::bytes(std::size_t max) {
  return in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, max));
}

Out State::out(std::size_t max) {
  Out o;
  o.null = in.ConsumeIntegralInRange(0, 3) == 0;
  o.buf.resize(o.null ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, max));
  o.len = o.null ? in.ConsumeIntegralInRange<CK_ULONG>(0, 1024) : o.buf.size();
  return o;
}

Template State::attributes(CK_OBJECT_CLASS base_class) {
  Template t;
  if (base_class != CK_UNAVAILABLE_INFORMATION) {
    base_template(t, base_class);
  }
  const std::size_t extra = in.ConsumeIntegralInRange<std::size_t>(0, 6);
  for (std::size_t i = 0; i < extra && in.remaining_bytes() > 0; ++i) {
    const std::uint8_t pick = in.ConsumeIntegral<std::uint8_t>();
    if (pick >= 0xF0 && !t.attrs.empty()) {  // duplicate an earlier type, another value
      const CK_ATTRIBUTE_TYPE type = t.attrs[pick % t.attrs.size()].type;
      add(t, type, bytes(16));
      continue;
    }
    const AttrSpec& spec = kAttrs[pick % std::size(kAttrs)];
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0:  // NULL value with a length
        t.attrs.push_back({spec.type, nullptr, small(64)});
        continue;
      case 1:  // arbitrary bytes: wrongly sized for CK_BBOOL / CK_ULONG attributes
        add(t, spec.type, bytes(40));
        continue;
      default:
        break;
    }
    if (spec.kind == Kind::kBool) {
      add(t, spec.type, Buffer{static_cast<std::uint8_t>(in.ConsumeIntegralInRange(0, 2))});
    } else if (spec.kind == Kind::kUlong) {
      const auto at = in.ConsumeIntegralInRange<std::size_t>(0, spec.values.size());
      add(t, spec.type,
          of_ulong(at == spec.values.size() ? in.ConsumeIntegral<CK_ULONG>()
                                            : spec.values.begin()[at]));
    } else if (spec.type == CKA_EC_PARAMS && in.ConsumeBool()) {
      add(t, spec.type,
          in.ConsumeBool() ? Buffer(kP256.begin(), kP256.end())
                           : Buffer(kP384.begin(), kP384.end()));
    } else {
      add(t, spec.type, bytes(80));
    }
  }
  t.null = !t.attrs.empty() && in.ConsumeIntegralInRange(0, 31) == 0;
  return t;
}

Mechanism State::mechanism() {
  static const CK_MECHANISM_TYPE kTypes[] = {CKM_AES_KEY_GEN,
                                             CKM_GENERIC_SECRET_KEY_GEN,
                                             CKM_EC_KEY_PAIR_GEN,
                                             CKM_AES_ECB,
                                             CKM_AES_CBC,
                                             CKM_AES_CBC_PAD,
                                             CKM_AES_CTR,
                                             CKM_AES_GCM,
                                             CKM_AES_KEY_WRAP,
                                             CKM_AES_KEY_WRAP_PAD,
                                             CKM_AES_KEY_WRAP_KWP,
                                             CKM_SHA256_HMAC,
                                             CKM_SHA_1_HMAC_GENERAL,
                                             CKM_ECDSA,
                                             CKM_ECDSA_SHA256,
                                             CKM_ECDH1_DERIVE,
                                             CKM_SHA_1,
                                             CKM_SHA256,
                                             CKM_SHA512,
                                             CKM_RSA_PKCS,
                                             CKM_RSA_PKCS_OAEP,
                                             CKM_RSA_PKCS_PSS,
                                             CKM_SHA256_RSA_PKCS_PSS,
                                             CKM_RSA_X_509,
                                             CKM_RSA_PKCS_KEY_PAIR_GEN,
                                             CKM_DES3_CBC,
                                             CKM_VENDOR_DEFINED | 1};
  Mechanism m;
  const std::uint8_t pick = in.ConsumeIntegral<std::uint8_t>();
  m.mech.mechanism =
      pick < 0xF8 ? kTypes[pick % std::size(kTypes)] : in.ConsumeIntegral<CK_ULONG>();
  // Parameters holding pointers are built with valid pointers; any other parameter, and a
  // structured one at a wrong length, is arbitrary bytes of any size (0 = NULL).
  const std::size_t len = in.ConsumeIntegralInRange<std::size_t>(0, 72);
  m.storage.emplace_back(in.ConsumeBytes<std::uint8_t>(len));
  Buffer& raw = m.storage.back();
  raw.resize(len);
  m.mech.pParameter = len == 0 && in.ConsumeBool() ? nullptr : raw.data();
  m.mech.ulParameterLen = len;
  auto owned = [&](std::size_t max) {
    m.storage.push_back(bytes(max));
    return &m.storage.back();
  };
  if (m.mech.mechanism == CKM_AES_GCM && len >= sizeof(CK_GCM_PARAMS)) {
    CK_GCM_PARAMS p{};
    Buffer* iv = owned(32);
    Buffer* aad = owned(32);
    p.pIv = iv->empty() && in.ConsumeBool() ? nullptr : iv->data();
    p.ulIvLen = iv->size();
    p.ulIvBits = in.ConsumeBool() ? iv->size() * 8 : in.ConsumeIntegral<CK_ULONG>();
    p.pAAD = aad->empty() && in.ConsumeBool() ? nullptr : aad->data();
    p.ulAADLen = aad->size();
    p.ulTagBits = in.ConsumeIntegralInRange<CK_ULONG>(0, 136);
    std::memcpy(raw.data(), &p, sizeof p);
  } else if (m.mech.mechanism == CKM_RSA_PKCS_OAEP && len >= sizeof(CK_RSA_PKCS_OAEP_PARAMS)) {
    CK_RSA_PKCS_OAEP_PARAMS p{};
    std::memcpy(&p, raw.data(), sizeof p);
    Buffer* label = owned(16);
    p.pSourceData = label->empty() && in.ConsumeBool() ? nullptr : label->data();
    p.ulSourceDataLen = label->size();
    std::memcpy(raw.data(), &p, sizeof p);
  } else if (m.mech.mechanism == CKM_ECDH1_DERIVE && len >= sizeof(CK_ECDH1_DERIVE_PARAMS)) {
    CK_ECDH1_DERIVE_PARAMS p{};
    Buffer* shared = owned(16);
    Buffer* pub = owned(140);
    p.kdf = in.ConsumeBool() ? CKD_NULL : in.ConsumeIntegralInRange<CK_ULONG>(0, 12);
    p.pSharedData = shared->empty() && in.ConsumeBool() ? nullptr : shared->data();
    p.ulSharedDataLen = shared->size();
    p.pPublicData = pub->empty() && in.ConsumeBool() ? nullptr : pub->data();
    p.ulPublicDataLen = pub->size();
    std::memcpy(raw.data(), &p, sizeof p);
  }
  return m;
}

}  // namespace fuzz::abi

#include "p11_bench.h"

#include <dlfcn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace bench {

namespace {

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const void* value, CK_ULONG len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), len};
}

// P-256 as CKA_EC_PARAMS: the DER OID 1.2.840.10045.3.1.7.
constexpr std::array<std::uint8_t, 10> kP256Oid = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                   0xce, 0x3d, 0x03, 0x01, 0x07};

Pkey pkey_from(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params{OSSL_PARAM_BLD_to_param(bld)};
  Owned<EVP_PKEY_CTX> ctx{EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr)};
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Pkey(key);
}

// CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point (65 bytes for P-256).
Pkey ec_public(const std::vector<std::uint8_t>& point) {
  std::vector<std::uint8_t> raw = point;
  if (raw.size() == 67 && raw[0] == 0x04 && raw[1] == 65) {
    raw.erase(raw.begin(), raw.begin() + 2);
  }
  if (raw.size() != 65 || raw[0] != 0x04) {
    return nullptr;
  }
  Owned<OSSL_PARAM_BLD> bld{OSSL_PARAM_BLD_new()};
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, raw.data(),
                                       raw.size()) != 1) {
    return nullptr;
  }
  return pkey_from("EC", bld.get());
}

Pkey rsa_public(const std::vector<std::uint8_t>& n, const std::vector<std::uint8_t>& e) {
  Owned<BIGNUM> bn{BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr)};
  Owned<BIGNUM> be{BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr)};
  Owned<OSSL_PARAM_BLD> bld{OSSL_PARAM_BLD_new()};
  if (!bn || !be || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1) {
    return nullptr;
  }
  return pkey_from("RSA", bld.get());
}

// PKCS #11 gives ECDSA signatures as r || s; OpenSSL verifies the DER SEQUENCE.
std::vector<std::uint8_t> ecdsa_der(const std::vector<std::uint8_t>& rs) {
  const int half = static_cast<int>(rs.size() / 2);
  Owned<ECDSA_SIG> sig{ECDSA_SIG_new()};
  BIGNUM* r = BN_bin2bn(rs.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + half, half, nullptr);
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
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

CK_FUNCTION_LIST* load_module(const std::string& path) {
  std::string chosen = path;
  if (chosen.empty()) {
    const char* env = std::getenv("CNG_PKCS11_MODULE");
    chosen = (env != nullptr && *env != '\0') ? env : BENCH_MODULE_PATH;
  }
  void* lib = dlopen(chosen.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    std::fprintf(stderr, "bench: dlopen(%s) failed: %s\n", chosen.c_str(), dlerror());
    std::exit(2);
  }
  void* sym = dlsym(lib, "C_GetFunctionList");
  CK_C_GetFunctionList get = nullptr;
  static_assert(sizeof get == sizeof sym);
  __builtin_memcpy(&get, &sym, sizeof get);  // object pointer -> function pointer (POSIX)
  CK_FUNCTION_LIST* list = nullptr;
  if (get == nullptr || get(&list) != CKR_OK || list == nullptr) {
    std::fprintf(stderr, "bench: C_GetFunctionList of %s failed\n", chosen.c_str());
    std::exit(2);
  }
  return list;
}

CK_RV initialize(CK_FUNCTION_LIST* f) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  return f->C_Initialize(&args);
}

std::string rv_name(CK_RV rv) {
  static constexpr std::pair<CK_RV, const char*> kNames[] = {
      {CKR_OK, "CKR_OK"},
      {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
      {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
      {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
      {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
      {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
      {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
      {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
      {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
      {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
      {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
      {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
      {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
      {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
      {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
      {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
      {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
      {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
  };
  for (const auto& [value, name] : kNames) {
    if (value == rv) {
      return name;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

CK_RV generate_pair(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, KeyKind kind, bool token,
                    const std::string& label, const std::vector<std::uint8_t>& id, KeyPair& out) {
  CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
  CK_BBOOL yes = CK_TRUE;
  CK_ULONG bits = 2048;
  const std::array<std::uint8_t, 3> exponent = {0x01, 0x00, 0x01};
  std::vector<CK_ATTRIBUTE> pub = {
      attr(CKA_TOKEN, &tok, sizeof tok), attr(CKA_VERIFY, &yes, sizeof yes),
      attr(CKA_LABEL, label.data(), label.size()), attr(CKA_ID, id.data(), id.size())};
  std::vector<CK_ATTRIBUTE> priv = {
      attr(CKA_TOKEN, &tok, sizeof tok), attr(CKA_SIGN, &yes, sizeof yes),
      attr(CKA_LABEL, label.data(), label.size()), attr(CKA_ID, id.data(), id.size())};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  if (kind == KeyKind::kP256) {
    pub.push_back(attr(CKA_EC_PARAMS, kP256Oid.data(), kP256Oid.size()));
  } else {
    mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    pub.push_back(attr(CKA_MODULUS_BITS, &bits, sizeof bits));
    pub.push_back(attr(CKA_PUBLIC_EXPONENT, exponent.data(), exponent.size()));
  }
  out.kind = kind;
  return f->C_GenerateKeyPair(s, &mech, pub.data(), static_cast<CK_ULONG>(pub.size()), priv.data(),
                              static_cast<CK_ULONG>(priv.size()), &out.pub, &out.priv);
}

CK_RV get_bytes(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                CK_ATTRIBUTE_TYPE type, std::vector<std::uint8_t>& value) {
  // The value may grow between the length query and the read (another process relabelled the
  // object, seen here after a listing by another thread): the module then rightly says
  // CKR_BUFFER_TOO_SMALL, and a client asks again.
  CK_RV rv = CKR_BUFFER_TOO_SMALL;
  for (int attempt = 0; attempt < 4 && rv == CKR_BUFFER_TOO_SMALL; ++attempt) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    rv = f->C_GetAttributeValue(s, o, &a, 1);
    if (rv != CKR_OK) {
      return rv;
    }
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
      return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    value.assign(a.ulValueLen, 0);
    a.pValue = value.data();
    rv = f->C_GetAttributeValue(s, o, &a, 1);
    value.resize(rv == CKR_OK ? a.ulValueLen : 0);
  }
  return rv;
}

CK_RV get_ulong(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                CK_ATTRIBUTE_TYPE type, CK_ULONG& value) {
  CK_ATTRIBUTE a{type, &value, sizeof value};
  return f->C_GetAttributeValue(s, o, &a, 1);
}

Pkey read_public(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, KeyKind kind,
                 CK_RV& rv) {
  std::vector<std::uint8_t> a;
  std::vector<std::uint8_t> b;
  if (kind == KeyKind::kP256) {
    rv = get_bytes(f, s, pub, CKA_EC_POINT, a);
    return rv == CKR_OK ? ec_public(a) : nullptr;
  }
  rv = get_bytes(f, s, pub, CKA_MODULUS, a);
  if (rv == CKR_OK) {
    rv = get_bytes(f, s, pub, CKA_PUBLIC_EXPONENT, b);
  }
  return rv == CKR_OK ? rsa_public(a, b) : nullptr;
}

CK_RV sign(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, KeyKind kind,
           const std::vector<std::uint8_t>& data, std::vector<std::uint8_t>& signature) {
  CK_MECHANISM mech{kind == KeyKind::kP256 ? CKM_ECDSA_SHA256 : CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_RV rv = f->C_SignInit(s, &mech, priv);
  if (rv != CKR_OK) {
    return rv;
  }
  std::vector<std::uint8_t> raw(512);
  CK_ULONG len = static_cast<CK_ULONG>(raw.size());
  rv = f->C_Sign(s, const_cast<CK_BYTE_PTR>(data.data()), static_cast<CK_ULONG>(data.size()),
                 raw.data(), &len);
  if (rv != CKR_OK) {
    return rv;
  }
  raw.resize(len);
  signature = kind == KeyKind::kP256 ? ecdsa_der(raw) : raw;
  return CKR_OK;
}

bool verify(EVP_PKEY* key, const std::vector<std::uint8_t>& data,
            const std::vector<std::uint8_t>& signature) {
  Owned<EVP_MD_CTX> ctx{EVP_MD_CTX_new()};
  return key != nullptr && ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(),
                          data.size()) == 1;
}

CK_RV find(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, std::vector<CK_ATTRIBUTE> tmpl,
           std::vector<CK_OBJECT_HANDLE>& found) {
  found.clear();
  CK_RV rv = f->C_FindObjectsInit(s, tmpl.data(), static_cast<CK_ULONG>(tmpl.size()));
  if (rv != CKR_OK) {
    return rv;
  }
  std::array<CK_OBJECT_HANDLE, 64> batch{};
  for (;;) {
    CK_ULONG n = 0;
    rv = f->C_FindObjects(s, batch.data(), static_cast<CK_ULONG>(batch.size()), &n);
    if (rv != CKR_OK || n == 0) {
      break;
    }
    found.insert(found.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
  }
  const CK_RV final_rv = f->C_FindObjectsFinal(s);
  return rv != CKR_OK ? rv : final_rv;
}

CK_RV set_label(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                const std::string& label) {
  CK_ATTRIBUTE a = attr(CKA_LABEL, label.data(), label.size());
  return f->C_SetAttributeValue(s, o, &a, 1);
}

}  // namespace bench

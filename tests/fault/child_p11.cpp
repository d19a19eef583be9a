// The PKCS#11 half of the fault child: object operations on slot 0 (software provider, user
// scope) through the statically linked module, and the object view of a store.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "child.h"
#include "cng_common/ossl_ptr.h"
#include "openssl_check.h"

extern "C" CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList);

namespace fault {

namespace {

constexpr CK_SLOT_ID kSlot = 0;
const Bytes kP256Params = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};

struct Attr {
  CK_ATTRIBUTE_TYPE type;
  Bytes value;
};

Bytes ulong_bytes(CK_ULONG v) {
  Bytes b(sizeof v);
  std::copy_n(reinterpret_cast<const std::uint8_t*>(&v), sizeof v, b.begin());
  return b;
}
Bytes str(const std::string& s) { return {s.begin(), s.end()}; }
Bytes yes() { return {CK_TRUE}; }

std::vector<CK_ATTRIBUTE> raw(std::vector<Attr>& attrs) {
  std::vector<CK_ATTRIBUTE> out;
  for (auto& a : attrs) {
    out.push_back({a.type, a.value.data(), static_cast<CK_ULONG>(a.value.size())});
  }
  return out;
}

std::vector<CK_OBJECT_HANDLE> find(CK_SESSION_HANDLE s, std::vector<Attr> attrs) {
  auto t = raw(attrs);
  std::vector<CK_OBJECT_HANDLE> out;
  if (p11()->C_FindObjectsInit(s, t.data(), static_cast<CK_ULONG>(t.size())) != CKR_OK) {
    return out;
  }
  CK_OBJECT_HANDLE h[64];
  CK_ULONG n = 0;
  while (p11()->C_FindObjects(s, h, 64, &n) == CKR_OK && n > 0) {
    out.insert(out.end(), h, h + n);
  }
  p11()->C_FindObjectsFinal(s);
  return out;
}

CK_OBJECT_HANDLE object(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const std::string& label) {
  const auto found = find(s, {{CKA_CLASS, ulong_bytes(cls)}, {CKA_LABEL, str(label)}});
  return found.size() == 1 ? found[0] : CK_INVALID_HANDLE;
}

Bytes attribute(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  if (p11()->C_GetAttributeValue(s, h, &a, 1) != CKR_OK ||
      a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return {};
  }
  Bytes value(a.ulValueLen);
  a.pValue = value.data();
  p11()->C_GetAttributeValue(s, h, &a, 1);
  return value;
}

// A self-signed P-256 certificate (DER) with the given common name.
Bytes make_certificate(const char* cn) {
  const cng::ossl::PkeyPtr key(EVP_EC_gen("P-256"));
  const cng::ossl::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  const int len = i2d_X509(cert.get(), nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509(cert.get(), &p);
  return der;
}

CK_RV create(CK_SESSION_HANDLE s, std::vector<Attr> attrs) {
  auto t = raw(attrs);
  CK_OBJECT_HANDLE h = 0;
  return p11()->C_CreateObject(s, t.data(), static_cast<CK_ULONG>(t.size()), &h);
}

std::vector<Attr> certificate(const std::string& label, const Bytes& der) {
  return {{CKA_CLASS, ulong_bytes(CKO_CERTIFICATE)},
          {CKA_CERTIFICATE_TYPE, ulong_bytes(CKC_X_509)},
          {CKA_TOKEN, yes()},
          {CKA_LABEL, str(label)},
          {CKA_VALUE, der}};
}

std::vector<Attr> data_object(const std::string& label, const std::string& value) {
  return {{CKA_CLASS, ulong_bytes(CKO_DATA)},
          {CKA_TOKEN, yes()},
          {CKA_LABEL, str(label)},
          {CKA_APPLICATION, str("fault")},
          {CKA_VALUE, str(value)}};
}

CK_RV generate(CK_SESSION_HANDLE s) {
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  std::vector<Attr> pub = {{CKA_TOKEN, yes()},
                           {CKA_LABEL, str("new-key")},
                           {CKA_VERIFY, yes()},
                           {CKA_EC_PARAMS, kP256Params}};
  std::vector<Attr> priv = {{CKA_TOKEN, yes()}, {CKA_LABEL, str("new-key")}, {CKA_SIGN, yes()}};
  auto pt = raw(pub);
  auto vt = raw(priv);
  CK_OBJECT_HANDLE hp = 0;
  CK_OBJECT_HANDLE hv = 0;
  return p11()->C_GenerateKeyPair(s, &mech, pt.data(), static_cast<CK_ULONG>(pt.size()), vt.data(),
                                  static_cast<CK_ULONG>(vt.size()), &hp, &hv);
}

// C_Sign with the bystander key, verified with OpenSSL against its NCrypt public blob.
std::string p11_sign_check(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, const Bytes& public_blob) {
  const Bytes digest = sha256(str("fault"));
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  Bytes sig(256);
  CK_ULONG len = sig.size();
  if (p11()->C_SignInit(s, &mech, key) != CKR_OK ||
      p11()->C_Sign(s, const_cast<CK_BYTE*>(digest.data()), digest.size(), sig.data(), &len) !=
          CKR_OK) {
    return "sign-failed";
  }
  sig.resize(len);
  const auto pkey = ncrypt_test::pkey_from_bcrypt_public(public_blob);
  return pkey && ncrypt_test::verify_ecdsa_raw(pkey.get(), digest, sig) ? "" : "signature-invalid";
}

Bytes bystander_public_blob() {
  const NCRYPT_PROV_HANDLE prov = open_provider();
  NCRYPT_KEY_HANDLE h = 0;
  Bytes blob(256);
  DWORD size = 0;
  if (NCryptOpenKey(prov, &h, u"bystander", 0, 0) == 0 &&
      NCryptExportKey(h, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, blob.data(),
                      static_cast<DWORD>(blob.size()), &size, 0) == 0) {
    blob.resize(size);
  } else {
    blob.clear();
  }
  NCryptFreeObject(h);
  NCryptFreeObject(prov);
  return blob;
}

}  // namespace

CK_FUNCTION_LIST* p11() {
  static CK_FUNCTION_LIST* list = [] {
    CK_FUNCTION_LIST* l = nullptr;
    C_GetFunctionList(&l);
    return l;
  }();
  return list;
}

void create_template_objects(const std::filesystem::path& root) {
  write_file(root / "new-cert.der", make_certificate("new"));
  CK_SESSION_HANDLE s = 0;
  if (p11()->C_Initialize(nullptr) != CKR_OK ||
      p11()->C_OpenSession(kSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) !=
          CKR_OK ||
      create(s, certificate("old-cert", make_certificate("old"))) != CKR_OK ||
      create(s, data_object("old-data", "old payload")) != CKR_OK) {
    std::exit(4);
  }
  p11()->C_Finalize(nullptr);
}

bool run_p11_op(const std::string& op, const std::filesystem::path& root, CK_RV& rv,
                std::string& after) {
  const Bytes blob = bystander_public_blob();
  const Bytes der = read_file(root / "new-cert.der");
  CK_SESSION_HANDLE s = 0;
  if (p11()->C_Initialize(nullptr) != CKR_OK ||
      p11()->C_OpenSession(kSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) !=
          CKR_OK) {
    after = "setup-failed";
    return true;
  }
  const CK_OBJECT_HANDLE victim = object(s, CKO_PRIVATE_KEY, "victim");
  const CK_OBJECT_HANDLE bystander = object(s, CKO_PRIVATE_KEY, "bystander");
  const CK_OBJECT_HANDLE old_cert = object(s, CKO_CERTIFICATE, "old-cert");
  const CK_OBJECT_HANDLE old_data = object(s, CKO_DATA, "old-data");
  bool known = true;
  arm(true);
  if (op == "p11_generate") {
    rv = generate(s);
  } else if (op == "p11_label") {
    std::vector<Attr> label = {{CKA_LABEL, str("relabelled")}};
    auto t = raw(label);
    rv = p11()->C_SetAttributeValue(s, victim, t.data(), 1);
  } else if (op == "p11_destroy") {
    rv = p11()->C_DestroyObject(s, victim);
  } else if (op == "p11_destroy_cert") {
    rv = p11()->C_DestroyObject(s, old_cert);
  } else if (op == "p11_destroy_data") {
    rv = p11()->C_DestroyObject(s, old_data);
  } else if (op == "p11_cert") {
    rv = create(s, certificate("new-cert", der));
  } else if (op == "p11_data") {
    rv = create(s, data_object("new-data", "new payload"));
  } else {
    known = false;
  }
  arm(false);
  after = p11_sign_check(s, bystander, blob);
  p11()->C_Finalize(nullptr);
  return known;
}

std::vector<std::string> p11_state() {
  CK_SESSION_HANDLE s = 0;
  if (const CK_RV rv = p11()->C_Initialize(nullptr); rv != CKR_OK) {
    return {"BROKEN C_Initialize " + std::to_string(rv)};
  }
  std::vector<std::string> lines;
  if (p11()->C_OpenSession(kSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) {
    lines.push_back("BROKEN C_OpenSession");
  }
  for (const CK_OBJECT_HANDLE h : find(s, {{CKA_TOKEN, yes()}})) {
    const Bytes cls = attribute(s, h, CKA_CLASS);
    const Bytes label = attribute(s, h, CKA_LABEL);
    std::string line =
        "obj class=" + hex(cls) + " label=" + std::string(label.begin(), label.end());
    if (cls == ulong_bytes(CKO_CERTIFICATE) || cls == ulong_bytes(CKO_DATA)) {
      line += " value=" + hex(sha256(attribute(s, h, CKA_VALUE)));
    }
    lines.push_back(line);
  }
  p11()->C_Finalize(nullptr);
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::vector<std::string> p11_readonly_report() {
  std::vector<std::string> out;
  out.push_back("init=" + std::to_string(p11()->C_Initialize(nullptr)));
  CK_TOKEN_INFO info{};
  out.push_back("tokeninfo=" + std::to_string(p11()->C_GetTokenInfo(kSlot, &info)));
  out.push_back(std::string("write_protected=") +
                ((info.flags & CKF_WRITE_PROTECTED) != 0 ? "1" : "0"));
  CK_SESSION_HANDLE s = 0;
  out.push_back("open_rw=" +
                std::to_string(p11()->C_OpenSession(kSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                                    nullptr, nullptr, &s)));
  out.push_back("open_ro=" + std::to_string(p11()->C_OpenSession(kSlot, CKF_SERIAL_SESSION, nullptr,
                                                                 nullptr, &s)));
  out.push_back("objects=" + std::to_string(find(s, {{CKA_TOKEN, yes()}}).size()));
  p11()->C_Finalize(nullptr);
  const NCRYPT_PROV_HANDLE prov = open_provider();
  NCRYPT_KEY_HANDLE h = 0;
  out.push_back("nc_create=" + std::to_string(static_cast<std::uint32_t>(NCryptCreatePersistedKey(
                                   prov, &h, NCRYPT_ECDSA_P256_ALGORITHM, u"ro-key", 0, 0))));
  NCryptFreeObject(prov);
  return out;
}

}  // namespace fault

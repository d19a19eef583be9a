// The NCrypt half of the fault child: key operations and the key view of a store.
#include <algorithm>
#include <fstream>
#include <string>

#include "child.h"
#include "openssl_check.h"

namespace fault {

namespace {

std::string narrow(const char16_t* s) {
  std::string out;
  for (; *s != 0; ++s) {
    out += static_cast<char>(*s);  // the test's key names are ASCII
  }
  return out;
}

std::u16string widen(const std::string& s) { return {s.begin(), s.end()}; }

const Bytes& test_digest() {
  static const Bytes d = sha256(Bytes{'f', 'a', 'u', 'l', 't'});
  return d;
}

Bytes export_public(NCRYPT_KEY_HANDLE key) {
  DWORD size = 0;
  if (NCryptExportKey(key, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, nullptr, 0, &size, 0) != 0) {
    return {};
  }
  Bytes blob(size);
  if (NCryptExportKey(key, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, blob.data(), size, &size, 0) != 0) {
    return {};
  }
  blob.resize(size);
  return blob;
}

NCRYPT_KEY_HANDLE open_key(NCRYPT_PROV_HANDLE prov, const char16_t* name) {
  NCRYPT_KEY_HANDLE h = 0;
  return NCryptOpenKey(prov, &h, name, 0, 0) == 0 ? h : 0;
}

// Create + finalize of an EC P-256 key; the first failing status.
SECURITY_STATUS create_key(NCRYPT_PROV_HANDLE prov, const char16_t* name, DWORD flags) {
  NCRYPT_KEY_HANDLE h = 0;
  SECURITY_STATUS st =
      NCryptCreatePersistedKey(prov, &h, NCRYPT_ECDSA_P256_ALGORITHM, name, 0, flags);
  if (st == 0) {
    st = NCryptFinalizeKey(h, 0);
    NCryptFreeObject(h);
  }
  return st;
}

std::string property(NCRYPT_KEY_HANDLE key) {
  Bytes value(64);
  DWORD size = 0;
  if (NCryptGetProperty(key, u"FaultProp", value.data(), static_cast<DWORD>(value.size()), &size,
                        0) != 0) {
    return "-";
  }
  return {value.begin(), value.begin() + size};
}

}  // namespace

NCRYPT_PROV_HANDLE open_provider() {
  NCRYPT_PROV_HANDLE prov = 0;
  return NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0) == 0 ? prov : 0;
}

std::string ncrypt_sign_check(NCRYPT_KEY_HANDLE key) {
  const Bytes& digest = test_digest();
  Bytes sig(256);
  DWORD size = 0;
  const SECURITY_STATUS st = NCryptSignHash(key, nullptr, const_cast<PBYTE>(digest.data()),
                                            static_cast<DWORD>(digest.size()), sig.data(),
                                            static_cast<DWORD>(sig.size()), &size, 0);
  if (st != 0) {
    return "sign-status-" + std::to_string(static_cast<std::uint32_t>(st));
  }
  sig.resize(size);
  const auto pkey = ncrypt_test::pkey_from_bcrypt_public(export_public(key));
  if (!pkey || !ncrypt_test::verify_ecdsa_raw(pkey.get(), digest, sig)) {
    return "signature-invalid";
  }
  return {};
}

std::string public_hash(NCRYPT_KEY_HANDLE key) {
  const Bytes blob = export_public(key);
  return blob.empty() ? std::string() : hex(sha256(blob));
}

void create_template_keys(const std::filesystem::path& root) {
  const NCRYPT_PROV_HANDLE prov = open_provider();
  std::ofstream out(root / "template-keys");
  for (const char16_t* name : {u"victim", u"bystander"}) {
    if (create_key(prov, name, 0) != 0) {
      std::exit(3);
    }
    const NCRYPT_KEY_HANDLE h = open_key(prov, name);
    out << narrow(name) << " " << public_hash(h) << "\n";
    NCryptFreeObject(h);
  }
  NCryptFreeObject(prov);
}

bool run_ncrypt_op(const std::string& op, SECURITY_STATUS& status, std::string& after) {
  const NCRYPT_PROV_HANDLE prov = open_provider();
  const NCRYPT_KEY_HANDLE bystander = open_key(prov, u"bystander");
  NCRYPT_KEY_HANDLE victim = open_key(prov, u"victim");
  if (prov == 0 || bystander == 0 || victim == 0) {
    after = "setup-failed";
    return true;
  }
  bool known = true;
  arm(true);
  if (op == "nc_create") {
    status = create_key(prov, u"new-key", 0);
  } else if (op == "nc_overwrite") {
    status = create_key(prov, u"victim", NCRYPT_OVERWRITE_KEY_FLAG);
  } else if (op == "nc_property") {
    Bytes value{'n', 'e', 'w'};
    status = NCryptSetProperty(victim, u"FaultProp", value.data(), static_cast<DWORD>(value.size()),
                               NCRYPT_PERSIST_FLAG);
  } else if (op == "nc_delete") {
    status = NCryptDeleteKey(victim, 0);
    if (status == 0) {
      victim = 0;  // deleting frees the handle
    }
  } else {
    known = false;
  }
  arm(false);
  after = ncrypt_sign_check(bystander);  // the process and the other keys keep working
  if (victim != 0) {
    NCryptFreeObject(victim);
  }
  NCryptFreeObject(bystander);
  NCryptFreeObject(prov);
  return known;
}

std::vector<std::string> ncrypt_state(const std::vector<std::string>& template_keys) {
  std::vector<std::string> lines;
  const NCRYPT_PROV_HANDLE prov = open_provider();
  if (prov == 0) {
    return {"BROKEN provider"};
  }
  NCryptKeyName* name = nullptr;
  PVOID state = nullptr;
  while (NCryptEnumKeys(prov, nullptr, &name, &state, 0) == 0) {
    const std::string n = narrow(name->pszName);
    NCryptFreeBuffer(name);
    const NCRYPT_KEY_HANDLE h = open_key(prov, widen(n).c_str());
    if (h == 0) {
      lines.push_back("BROKEN key " + n + " cannot be opened");
      continue;
    }
    const std::string line = n + " " + public_hash(h);
    const bool old =
        std::find(template_keys.begin(), template_keys.end(), line) != template_keys.end();
    // A refused signature is part of the state (a public-only key, left when C_DestroyObject
    // removes the private half of a pair, cannot sign); a wrong one is a broken key.
    const std::string sign = ncrypt_sign_check(h);
    lines.push_back("key " + n + (old ? " old" : " new") + " prop=" + property(h) + " sign=" +
                    (sign.empty()                  ? "ok"
                     : sign == "signature-invalid" ? "BROKEN"
                                                   : sign));
    NCryptFreeObject(h);
  }
  if (state != nullptr) {
    NCryptFreeBuffer(state);
  }
  NCryptFreeObject(prov);
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace fault

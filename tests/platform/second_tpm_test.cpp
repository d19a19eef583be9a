// A software key store whose master key is sealed to one TPM (swtpm A), copied with its keyring
// to a machine with another TPM (a fresh swtpm B): through NCrypt every key still lists, opens
// and exports its public key, and every private use fails cleanly per key with
// NTE_BAD_KEY_STATE (the master key cannot be unsealed), nothing crashes. Signatures made on A
// are checked with OpenSSL. Each step runs in a fresh child process (ncrypt_child.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "ncrypt.h"
#include "ncrypt_child.h"
#include "ncrypt_test_support.h"
#include "openssl_check.h"
#include "platform_test_support.h"
#include "store/master_key.h"
#include "swtpm_process.h"

namespace platform_test {
namespace {

namespace fs = std::filesystem;

constexpr char16_t kEc[] = u"moved-ec";
constexpr char16_t kRsa[] = u"moved-rsa";
constexpr SECURITY_STATUS kMismatch = NTE_FAIL;  // a result OpenSSL or the saved blob refutes

void save(const fs::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

Bytes load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SECURITY_STATUS export_public(NCRYPT_KEY_HANDLE key, const char16_t* type, Bytes& out) {
  return ncrypt_test::try_export(key, type, out);
}

// Signs with each key (ECDSA raw, RSA PKCS#1 v1.5 SHA-256) and checks with OpenSSL against
// pubs; then an RSA-OAEP ciphertext made by OpenSSL is decrypted. Pushes one status per use.
void use_private_keys(NCRYPT_PROV_HANDLE prov, const fs::path& pubs, Statuses& out) {
  const Bytes hash = ncrypt_test::digest("SHA256", "sealed to another TPM");
  for (const char16_t* name : {kEc, kRsa}) {
    NCRYPT_KEY_HANDLE key = 0;
    out.push_back(NCryptOpenKey(prov, &key, name, 0, 0));
    const bool ec = name == kEc;
    const auto pub = ncrypt_test::pkey_from_bcrypt_public(load(pubs / (ec ? "ec" : "rsa")));
    BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
    Bytes sig;
    SECURITY_STATUS st = try_sign(key, ec ? nullptr : &pkcs1, hash, ec ? 0 : BCRYPT_PAD_PKCS1, sig);
    if (st == ERROR_SUCCESS) {
      const bool ok = ec ? ncrypt_test::verify_ecdsa_raw(pub.get(), hash, sig)
                         : ncrypt_test::verify_rsa(pub.get(), "SHA256", hash, sig);
      st = ok ? ERROR_SUCCESS : kMismatch;
    }
    out.push_back(st);
    if (!ec) {
      const Bytes plain = {1, 2, 3, 4, 5, 6, 7, 8};
      const Bytes cipher = ncrypt_test::rsa_encrypt(pub.get(), plain, "SHA256");
      BCRYPT_OAEP_PADDING_INFO oaep{BCRYPT_SHA256_ALGORITHM, nullptr, 0};
      Bytes got;
      st = try_decrypt(key, cipher, &oaep, BCRYPT_PAD_OAEP, got);
      out.push_back(st == ERROR_SUCCESS && got != plain ? kMismatch : st);
    }
    (void)NCryptFreeObject(key);
  }
}

TEST(SecondTpmTest, StoreSealedToOneTpmFailsCleanlyPerKeyOnAnother) {
  if (!swtpm_available()) {
    GTEST_SKIP() << "swtpm is not installed";
  }
  const ncrypt_test::TempDir dirs;
  SwtpmProcess tpm_a(dirs.path() / "tpm-a");
  const fs::path home = dirs.path() / "user";
  const fs::path pubs = dirs.path() / "pubs";
  fs::create_directories(pubs);

  const Statuses made = in_child(home, tpm_a.tcti(), [&](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    for (const char16_t* name : {kEc, kRsa}) {
      const bool ec = name == kEc;
      NCRYPT_KEY_HANDLE key = 0;
      out.push_back(NCryptCreatePersistedKey(prov, &key, ec ? u"ECDSA_P256" : u"RSA", name, 0, 0));
      DWORD bits = 2048;
      if (!ec) {
        out.push_back(NCryptSetProperty(key, NCRYPT_LENGTH_PROPERTY, reinterpret_cast<PBYTE>(&bits),
                                        sizeof bits, 0));
      }
      out.push_back(NCryptFinalizeKey(key, 0));
      Bytes blob;
      out.push_back(export_public(key, ec ? BCRYPT_ECCPUBLIC_BLOB : BCRYPT_RSAPUBLIC_BLOB, blob));
      save(pubs / (ec ? "ec" : "rsa"), blob);
      (void)NCryptFreeObject(key);
    }
    cng::master_key::Keyring(cng::master_key::Keyring::dir_for(home)).lock();  // unseal again
    use_private_keys(prov, pubs, out);
  });
  // Two creations (the RSA one with its length), then EC: open, sign; RSA: open, sign, decrypt.
  EXPECT_EQ(made, Statuses(12, ERROR_SUCCESS));

  // The store and its keyring copied to a machine whose TPM is another (fresh) one.
  const fs::path moved = dirs.path() / "elsewhere" / "user";
  fs::create_directories(moved.parent_path());
  fs::copy(home, moved, fs::copy_options::recursive);
  fs::copy(cng::master_key::Keyring::dir_for(home), cng::master_key::Keyring::dir_for(moved),
           fs::copy_options::recursive);
  tpm_a.stop();
  SwtpmProcess tpm_b(dirs.path() / "tpm-b");

  const Statuses there = in_child(moved, tpm_b.tcti(), [&](NCRYPT_PROV_HANDLE prov, Statuses& out) {
    std::set<std::u16string> names;
    NCryptKeyName* item = nullptr;
    PVOID state = nullptr;
    while (NCryptEnumKeys(prov, nullptr, &item, &state, 0) == ERROR_SUCCESS) {
      names.insert(item->pszName);
      (void)NCryptFreeBuffer(item);
    }
    (void)NCryptFreeBuffer(state);
    out.push_back(names == std::set<std::u16string>{kEc, kRsa} ? ERROR_SUCCESS : kMismatch);
    for (const char16_t* name : {kEc, kRsa}) {
      const bool ec = name == kEc;
      NCRYPT_KEY_HANDLE key = 0;
      out.push_back(NCryptOpenKey(prov, &key, name, 0, 0));
      Bytes blob;
      const SECURITY_STATUS st =
          export_public(key, ec ? BCRYPT_ECCPUBLIC_BLOB : BCRYPT_RSAPUBLIC_BLOB, blob);
      out.push_back(st == ERROR_SUCCESS && blob != load(pubs / (ec ? "ec" : "rsa")) ? kMismatch
                                                                                    : st);
      (void)NCryptFreeObject(key);
    }
    use_private_keys(prov, pubs, out);
  });
  // Listing, then per key: open and public export; then every private use refused cleanly.
  EXPECT_EQ(there, (Statuses{ERROR_SUCCESS, ERROR_SUCCESS, ERROR_SUCCESS, ERROR_SUCCESS,
                             ERROR_SUCCESS, ERROR_SUCCESS, NTE_BAD_KEY_STATE, ERROR_SUCCESS,
                             NTE_BAD_KEY_STATE, NTE_BAD_KEY_STATE}));
}

}  // namespace
}  // namespace platform_test

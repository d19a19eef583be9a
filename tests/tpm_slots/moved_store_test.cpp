// The software token of slot 0 ("CNG Software (user)") through the dlopen()ed module, its
// scope's master key sealed to one TPM (swtpm A), then the store and its keyring copied to a
// machine with another TPM (a fresh swtpm B, CNG_PKCS11_TCTI): every object still lists with
// the public attributes it had, each private use of a moved key fails by itself with
// CKR_DEVICE_ERROR (PKCS#11 3.0 §5.1: a token problem, not CKR_GENERAL_ERROR, which would tell
// the application to give up the library), as reading a moved private data object's value
// does; the session stays usable. Signatures made on A
// are verified with OpenSSL. Each step is a fresh process (fork) that dlopen()s the module, so
// nothing unsealed is cached and only one process talks to a swtpm at a time.
#include <gtest/gtest.h>
#include <openssl/rsa.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cng_key_protection.h"
#include "ncrypt.h"
#include "ossl_support.h"
#include "p11_fixture.h"
#include "swtpm_process.h"

namespace {

namespace fs = std::filesystem;
using conf::Bytes;
using conf::Template;
using Rvs = std::vector<CK_RV>;

constexpr CK_SLOT_ID kSoftwareUser = 0;
constexpr char kEc[] = "moved-ec";
constexpr char kRsa[] = "moved-rsa";
constexpr char kData[] = "moved-data";
constexpr CK_RV kMismatch = CKR_VENDOR_DEFINED | 0x4D;  // a result OpenSSL or a saved value refutes
// Reading a private data object, or a private key use, whose master key is unavailable here.
constexpr CK_RV kUnreachable = CKR_DEVICE_ERROR;

struct Place {
  fs::path user;
  fs::path machine;
  std::string tcti;
};

void Save(const fs::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

Bytes Load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void PointAt(const Place& place) {
  ::setenv("CNG_PKCS11_USER_DIR", place.user.c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", place.machine.c_str(), 1);
  ::setenv("CNG_PKCS11_TCTI", place.tcti.c_str(), 1);
}

// Runs body in a forked child; returns the values it pushed (pipe), after checking that the
// child exited 0 (no crash).
Rvs Forked(const std::function<void(Rvs&)>& body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    ::close(fds[0]);
    Rvs out;
    body(out);
    const auto n = static_cast<ssize_t>(out.size() * sizeof(CK_RV));
    _exit(::write(fds[1], out.data(), static_cast<std::size_t>(n)) == n ? 0 : 1);
  }
  ::close(fds[1]);
  Rvs out;
  CK_RV rv = 0;
  while (::read(fds[0], &rv, sizeof rv) == static_cast<ssize_t>(sizeof rv)) {
    out.push_back(rv);
  }
  ::close(fds[0]);
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "the child crashed or failed";
  return out;
}

// body(function list, R/W session on slot 0, out) in a child that loads the module at place;
// C_Initialize, C_OpenSession and C_Finalize are checked here and not returned.
Rvs InModule(const Place& place,
             const std::function<void(CK_FUNCTION_LIST*, CK_SESSION_HANDLE, Rvs&)>& body) {
  Rvs out = Forked([&](Rvs& rvs) {
    PointAt(place);
    CK_FUNCTION_LIST* f = conf::FunctionList();
    if (f == nullptr) {
      return;
    }
    CK_SESSION_HANDLE s = 0;
    rvs.push_back(f->C_Initialize(nullptr));
    rvs.push_back(
        f->C_OpenSession(kSoftwareUser, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s));
    body(f, s, rvs);
    rvs.push_back(f->C_Finalize(nullptr));
  });
  EXPECT_GE(out.size(), 3U);
  if (out.size() < 3) {
    return {};
  }
  EXPECT_EQ(conf::Rv{out[0]}, conf::Rv{CKR_OK}) << "C_Initialize";
  EXPECT_EQ(conf::Rv{out[1]}, conf::Rv{CKR_OK}) << "C_OpenSession";
  EXPECT_EQ(conf::Rv{out.back()}, conf::Rv{CKR_OK}) << "C_Finalize";
  return {out.begin() + 2, out.end() - 1};
}

// The user scope's at-rest protection as the software provider reports it (NCrypt in a child,
// no module): the protector name and the keyring directory are written to `into`.
void Protection(const Place& place, const fs::path& into) {
  const Rvs out = Forked([&](Rvs& rvs) {
    PointAt(place);
    NCRYPT_PROV_HANDLE prov = 0;
    cng::KeyProtectionStatus status;
    rvs.push_back(static_cast<CK_RV>(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0)));
    rvs.push_back(static_cast<CK_RV>(cng::CngGetKeyProtectionStatus(prov, 0, &status)));
    std::ofstream(into) << status.protector << '\n' << status.keyring_dir << '\n';
  });
  EXPECT_EQ(out, (Rvs{0, 0}));
}

std::vector<CK_OBJECT_HANDLE> Find(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                                   const char* label = nullptr) {
  Template t;
  t.Ulong(CKA_CLASS, cls).Bool(CKA_TOKEN, true);
  if (label != nullptr) {
    t.Str(CKA_LABEL, label);
  }
  std::vector<CK_OBJECT_HANDLE> found(16);
  CK_ULONG n = 0;
  if (f->C_FindObjectsInit(s, t.data(), t.size()) != CKR_OK) {
    return {};
  }
  (void)f->C_FindObjects(s, found.data(), static_cast<CK_ULONG>(found.size()), &n);
  (void)f->C_FindObjectsFinal(s);
  found.resize(n);
  return found;
}

// The one object of the class and label (CK_INVALID_HANDLE unless exactly one).
CK_OBJECT_HANDLE One(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                     const char* label) {
  const auto found = Find(f, s, cls, label);
  return found.size() == 1 ? found.front() : CK_INVALID_HANDLE;
}

CK_RV Attr(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
           Bytes& value) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  if (const CK_RV rv = f->C_GetAttributeValue(s, h, &a, 1); rv != CKR_OK) {
    return rv;
  }
  value.assign(a.ulValueLen, 0);
  a.pValue = value.data();
  return f->C_GetAttributeValue(s, h, &a, 1);
}

// CKR_OK when the attribute reads and equals expected, else its CK_RV or kMismatch.
CK_RV AttrEquals(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                 CK_ATTRIBUTE_TYPE type, const Bytes& expected) {
  Bytes value;
  const CK_RV rv = Attr(f, s, h, type, value);
  return rv != CKR_OK ? rv : (value == expected ? CKR_OK : kMismatch);
}

// C_SignInit then C_Sign into a buffer of `room` bytes; pushes both CK_RVs.
Bytes Sign(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE type, CK_OBJECT_HANDLE key,
           Bytes data, std::size_t room, Rvs& out) {
  CK_MECHANISM mech{type, nullptr, 0};
  out.push_back(f->C_SignInit(s, &mech, key));
  Bytes sig(room);
  CK_ULONG len = static_cast<CK_ULONG>(sig.size());
  out.push_back(f->C_Sign(s, data.data(), static_cast<CK_ULONG>(data.size()), sig.data(), &len));
  sig.resize(out.back() == CKR_OK ? len : 0);
  return sig;
}

// C_DecryptInit (RSA-OAEP SHA-256) then C_Decrypt; pushes both CK_RVs.
Bytes DecryptOaep(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, Bytes cipher,
                  Rvs& out) {
  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM mech{CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
  out.push_back(f->C_DecryptInit(s, &mech, key));
  Bytes plain(cipher.size());
  CK_ULONG len = static_cast<CK_ULONG>(plain.size());
  out.push_back(
      f->C_Decrypt(s, cipher.data(), static_cast<CK_ULONG>(cipher.size()), plain.data(), &len));
  plain.resize(out.back() == CKR_OK ? len : 0);
  return plain;
}

CK_RV GenerateEc(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, bool token, const char* label,
                 conf::KeyPair& kp) {
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  Template pub;
  pub.Bool(CKA_TOKEN, token).Str(CKA_LABEL, label).Raw(CKA_EC_PARAMS, conf::EcParamsP256());
  pub.Bool(CKA_VERIFY, true);
  Template priv;
  priv.Bool(CKA_TOKEN, token).Str(CKA_LABEL, label).Bool(CKA_SIGN, true);
  priv.Bool(CKA_SENSITIVE, true);
  return f->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub,
                              &kp.priv);
}

CK_RV GenerateRsa(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, conf::KeyPair& kp) {
  CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  Template pub;
  pub.Bool(CKA_TOKEN, true).Str(CKA_LABEL, kRsa).Ulong(CKA_MODULUS_BITS, 2048);
  pub.Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1}).Bool(CKA_VERIFY, true).Bool(CKA_ENCRYPT, true);
  Template priv;
  priv.Bool(CKA_TOKEN, true).Str(CKA_LABEL, kRsa).Bool(CKA_SIGN, true).Bool(CKA_DECRYPT, true);
  priv.Bool(CKA_SENSITIVE, true);
  return f->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub,
                              &kp.priv);
}

const Bytes kMessage = conf::ToBytes("a token sealed to another TPM");
const Bytes kSecret = conf::ToBytes("only the sealed key opens this");

conf::PKey SavedRsa(const fs::path& saved) {
  return conf::RsaPublicKey(Load(saved / "rsa-modulus"), Load(saved / "rsa-exponent"));
}

// On A: both token pairs and a private data object made through the module, their public
// attributes saved, a signature of each saved, an OpenSSL RSA-OAEP ciphertext decrypted.
Rvs MakeOnA(const Place& a, const fs::path& saved) {
  return InModule(a, [&](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    conf::KeyPair ec;
    conf::KeyPair rsa;
    out.push_back(GenerateEc(f, s, true, kEc, ec));
    out.push_back(GenerateRsa(f, s, rsa));
    Template data;
    data.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Bool(CKA_PRIVATE, true);
    data.Str(CKA_LABEL, kData).Raw(CKA_VALUE, kSecret);
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    out.push_back(f->C_CreateObject(s, data.data(), data.size(), &obj));
    for (const auto& [h, type, file] : {std::tuple{ec.pub, CKA_EC_PARAMS, "ec-params"},
                                        std::tuple{ec.pub, CKA_EC_POINT, "ec-point"},
                                        std::tuple{rsa.pub, CKA_MODULUS, "rsa-modulus"},
                                        std::tuple{rsa.pub, CKA_PUBLIC_EXPONENT, "rsa-exponent"}}) {
      Bytes value;
      out.push_back(Attr(f, s, h, type, value));
      Save(saved / file, value);
    }
    Save(saved / "ec-sig",
         Sign(f, s, CKM_ECDSA, ec.priv, conf::Digest(EVP_sha256(), kMessage), 64, out));
    Save(saved / "rsa-sig", Sign(f, s, CKM_SHA256_RSA_PKCS, rsa.priv, kMessage, 256, out));
    const conf::PKey pub = SavedRsa(saved);
    const Bytes cipher =
        pub ? conf::RsaEncrypt(pub.get(), RSA_PKCS1_OAEP_PADDING, EVP_sha256(), kSecret) : Bytes{};
    const Bytes plain = DecryptOaep(f, s, rsa.priv, cipher, out);
    out.push_back(plain == kSecret ? CKR_OK : kMismatch);
  });
}

// On B, per moved key: the public attributes A gave, then every private use refused by itself.
void UseMovedKeys(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const fs::path& saved, Rvs& out) {
  const CK_OBJECT_HANDLE ec = One(f, s, CKO_PRIVATE_KEY, kEc);
  const CK_OBJECT_HANDLE rsa = One(f, s, CKO_PRIVATE_KEY, kRsa);
  out.push_back(
      AttrEquals(f, s, One(f, s, CKO_PUBLIC_KEY, kEc), CKA_EC_POINT, Load(saved / "ec-point")));
  out.push_back(
      AttrEquals(f, s, One(f, s, CKO_PUBLIC_KEY, kRsa), CKA_MODULUS, Load(saved / "rsa-modulus")));
  out.push_back(AttrEquals(f, s, rsa, CKA_MODULUS, Load(saved / "rsa-modulus")));

  (void)Sign(f, s, CKM_ECDSA, ec, conf::Digest(EVP_sha256(), kMessage), 64, out);
  // The failed C_Sign ended the operation (PKCS#11 3.0 §5.12).
  CK_ULONG len = 0;
  out.push_back(f->C_Sign(s, nullptr, 0, nullptr, &len));
  (void)Sign(f, s, CKM_SHA256_RSA_PKCS, rsa, kMessage, 256, out);
  const conf::PKey pub = SavedRsa(saved);
  const Bytes cipher =
      pub ? conf::RsaEncrypt(pub.get(), RSA_PKCS1_OAEP_PADDING, EVP_sha256(), kSecret) : Bytes{};
  (void)DecryptOaep(f, s, rsa, cipher, out);

  // The private data object sealed under the same master key: listed, its value unreachable.
  const CK_OBJECT_HANDLE data = One(f, s, CKO_DATA, kData);
  out.push_back(AttrEquals(f, s, data, CKA_LABEL, conf::ToBytes(kData)));
  Bytes value;
  out.push_back(Attr(f, s, data, CKA_VALUE, value));
}

// The session still works: a session EC key made and used, its signature checked by OpenSSL.
void UseSessionKey(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
  conf::KeyPair kp;
  out.push_back(GenerateEc(f, s, false, "after the failures", kp));
  const Bytes digest = conf::Digest(EVP_sha256(), kMessage);
  const Bytes sig = Sign(f, s, CKM_ECDSA, kp.priv, digest, 64, out);
  Bytes point;
  out.push_back(Attr(f, s, kp.pub, CKA_EC_POINT, point));
  const conf::PKey pub = conf::EcPublicKey(conf::EcParamsP256(), point);
  out.push_back(pub && conf::VerifyEcdsa(pub.get(), EVP_sha256(), digest, sig, true) ? CKR_OK
                                                                                     : kMismatch);
}

TEST(MovedStoreTest, TokenKeysSealedToAnotherTpmFailPerKeyAndTheSessionGoesOn) {
  if (!platform_test::swtpm_available()) {
    GTEST_SKIP() << "swtpm is not installed";
  }
  const conf::TempDir temp("moved-store");
  const fs::path dirs(temp.path());
  const fs::path saved = dirs / "saved";
  fs::create_directories(saved);
  auto tpm_a = std::make_unique<platform_test::SwtpmProcess>(dirs / "tpm-a");
  const Place a{dirs / "a" / "user", dirs / "a" / "machine", tpm_a->tcti()};

  // Made on A: 3 objects, 4 public attributes, 2 × (C_SignInit, C_Sign), C_DecryptInit,
  // C_Decrypt and the plaintext check.
  EXPECT_EQ(MakeOnA(a, saved), Rvs(14, CKR_OK));
  const conf::PKey ec_pub = conf::EcPublicKey(Load(saved / "ec-params"), Load(saved / "ec-point"));
  const conf::PKey rsa_pub = SavedRsa(saved);
  ASSERT_TRUE(ec_pub && rsa_pub);
  EXPECT_TRUE(conf::VerifyEcdsa(ec_pub.get(), EVP_sha256(), conf::Digest(EVP_sha256(), kMessage),
                                Load(saved / "ec-sig"), true));
  EXPECT_TRUE(conf::VerifyRsaPkcs1(rsa_pub.get(), EVP_sha256(), kMessage, Load(saved / "rsa-sig")));
  Protection(a, dirs / "protection-a");
  std::ifstream protection_a(dirs / "protection-a");
  std::string protector;
  std::string keyring;
  std::getline(protection_a, protector);
  std::getline(protection_a, keyring);
  ASSERT_EQ(protector, "tpm-sealed") << "the master key must be sealed to swtpm A";

  // The account (store and keyring, side by side) copied to a machine with another TPM.
  const fs::path elsewhere = dirs / "b";
  fs::create_directories(elsewhere);
  fs::copy(a.user, elsewhere / "user", fs::copy_options::recursive);
  fs::copy(keyring, elsewhere / fs::path(keyring).filename(), fs::copy_options::recursive);
  tpm_a.reset();
  platform_test::SwtpmProcess tpm_b(dirs / "tpm-b");
  const Place b{elsewhere / "user", elsewhere / "machine", tpm_b.tcti()};
  Protection(b, dirs / "protection-b");
  std::ifstream protection_b(dirs / "protection-b");
  std::getline(protection_b, protector);
  std::getline(protection_b, keyring);
  EXPECT_EQ(protector, "tpm-sealed");
  EXPECT_EQ(fs::path(keyring), elsewhere / fs::path(keyring).filename()) << "the copied keyring";

  const Rvs there = InModule(b, [&](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(Find(f, s, CKO_PRIVATE_KEY).size());
    out.push_back(Find(f, s, CKO_PUBLIC_KEY).size());
    UseMovedKeys(f, s, saved, out);
    UseSessionKey(f, s, out);
    // Destroying the moved EC private key keeps its public object: the module rewrites the
    // key as a public-only key (key_factory.h, keep_public_half), and the store seals even a
    // record with no private part under the current master key (KeyStore::write_record), which
    // is unavailable here. The destruction fails cleanly and changes nothing.
    const CK_OBJECT_HANDLE ec = One(f, s, CKO_PRIVATE_KEY, kEc);
    out.push_back(f->C_DestroyObject(s, ec));
    Bytes cls;
    out.push_back(Attr(f, s, ec, CKA_CLASS, cls));
    out.push_back(Find(f, s, CKO_PRIVATE_KEY).size());
    out.push_back(
        AttrEquals(f, s, One(f, s, CKO_PUBLIC_KEY, kEc), CKA_EC_POINT, Load(saved / "ec-point")));
  });
  EXPECT_EQ(there, (Rvs{2, 2,
                        // public attributes as on A: EC point, RSA modulus (public, private)
                        CKR_OK, CKR_OK, CKR_OK,
                        // EC: C_SignInit, C_Sign, then no operation left
                        CKR_OK, kUnreachable, CKR_OPERATION_NOT_INITIALIZED,
                        // RSA: C_SignInit, C_Sign, C_DecryptInit, C_Decrypt
                        CKR_OK, kUnreachable, CKR_OK, kUnreachable,
                        // the private data object: its label, its value
                        CKR_OK, kUnreachable,
                        // a session key: made, C_SignInit, C_Sign, its point, OpenSSL verifies
                        CKR_OK, CKR_OK, CKR_OK, CKR_OK, CKR_OK,
                        // destroying the moved EC private key: refused, the key pair intact
                        kUnreachable, CKR_OK, 2, CKR_OK}));

  // Nothing changed on disk: a fresh process on B lists both private keys.
  const Rvs later = InModule(b, [&](CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, Rvs& out) {
    out.push_back(Find(f, s, CKO_PRIVATE_KEY, kEc).size());
    out.push_back(Find(f, s, CKO_PRIVATE_KEY, kRsa).size());
  });
  EXPECT_EQ(later, (Rvs{1, 1}));
}

}  // namespace

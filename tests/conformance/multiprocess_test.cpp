// Several processes on one store: token keys persist across processes with the same
// attributes, session keys do not, scopes are separate; the machine slot is write-protected
// for a user who cannot write the machine store.
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "ossl_support.h"
#include "p11_fixture.h"
#include "subprocess.h"

namespace conf {
namespace {

using MultiProcessTest = P11Test;

// Attributes of the key pair as dumped by a helper process (everything under priv./pub.).
std::map<std::string, std::string> KeyAttributes(const std::map<std::string, std::string>& kv) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : kv) {
    if (k.rfind("priv.", 0) == 0 || k.rfind("pub.", 0) == 0) {
      out[k] = v;
    }
  }
  return out;
}

TEST_F(MultiProcessTest, TokenKeyFromProcessAIsSeenByProcessB) {
  const ChildOutcome a =
      RunHelper({"gen-token", std::to_string(kUserSlot), "shared-key", "abcd01"});
  ASSERT_TRUE(a.exited && a.exit_code == 0) << a.Describe();
  const auto a_kv = ParseKeyValues(a.output);
  EXPECT_EQ(a_kv.count("session_keys_here") ? a_kv.at("session_keys_here") : "", "1") << a.output;
  const auto a_attrs = KeyAttributes(a_kv);
  ASSERT_FALSE(a_attrs.empty()) << a.output;
  EXPECT_EQ(a_attrs.at("priv.0x102"), "abcd01") << "CKA_ID";

  const ChildOutcome b = RunHelper({"dump", std::to_string(kUserSlot), "shared-key"});
  ASSERT_TRUE(b.exited && b.exit_code == 0) << b.Describe();
  const auto b_kv = ParseKeyValues(b.output);
  EXPECT_EQ(b_kv.at("priv_count"), "1") << b.output;
  EXPECT_EQ(b_kv.at("pub_count"), "1") << b.output;
  EXPECT_EQ(b_kv.at("session_keys_here"), "0") << "session key outlived its process";
  EXPECT_EQ(KeyAttributes(b_kv), a_attrs) << "A:\n" << a.output << "\nB:\n" << b.output;
  EXPECT_EQ(b_kv.at("finalize"), "CKR_OK");

  // The user-slot key is absent from the machine slot.
  const ChildOutcome m = RunHelper({"dump", std::to_string(kOtherScopeSlot), "shared-key"});
  ASSERT_TRUE(m.exited && m.exit_code == 0) << m.Describe();
  EXPECT_EQ(ParseKeyValues(m.output).at("priv_count"), "0") << m.output;

  // And this (already initialised) process finds it too.
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, "shared-key").size(), 1u);
}

TEST_F(MultiProcessTest, MachineSlotKeyFromProcessA) {
  const ChildOutcome a =
      RunHelper({"gen-token", std::to_string(kMachineSlot), "machine-key", "02"});
  ASSERT_TRUE(a.exited && a.exit_code == 0) << a.Describe();
  const ChildOutcome b = RunHelper({"dump", std::to_string(kMachineSlot), "machine-key"});
  ASSERT_TRUE(b.exited && b.exit_code == 0) << b.Describe();
  EXPECT_EQ(ParseKeyValues(b.output).at("priv_count"), "1") << b.output;
  EXPECT_EQ(KeyAttributes(ParseKeyValues(b.output)), KeyAttributes(ParseKeyValues(a.output)));
  const ChildOutcome u = RunHelper({"dump", std::to_string(kMachineSlot ^ 1), "machine-key"});
  EXPECT_EQ(ParseKeyValues(u.output).at("priv_count"), "0") << u.output;
}

TEST_F(MultiProcessTest, SessionKeyGoneAfterCloseSession) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.label = "short-lived"});
  ASSERT_TRUE(kp.ok());
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
  s = OpenSession();
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "short-lived").empty());
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "short-lived").empty());
  const ChildOutcome b = RunHelper({"dump", std::to_string(kUserSlot), "short-lived"});
  EXPECT_EQ(ParseKeyValues(b.output).at("priv_count"), "0") << b.output;
}

TEST_F(MultiProcessTest, MachineSlotWriteProtectedForUnprivilegedUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to create a machine store an unprivileged user cannot write";
  }
  const passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) {
    GTEST_SKIP() << "no user 'nobody'";
  }
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  // Root-owned 0700 machine store (mkdtemp makes it so) with a key in it; a user store the
  // unprivileged user owns.
  TempDir machine("ro-machine");
  TempDir user("nobody-user");
  ASSERT_EQ(chmod(machine.path().c_str(), 0700), 0);
  ASSERT_EQ(chown(user.path().c_str(), uid, gid), 0);
  PointStoresAt(user.path(), machine.path());
  const ChildOutcome seeded =
      RunHelper({"gen-token", std::to_string(kMachineSlot), "root-machine-key", "03"});
  ASSERT_TRUE(seeded.exited && seeded.exit_code == 0) << seeded.Describe();

  const ChildOutcome probe = RunHelper({"machine-ro-probe"}, [uid, gid]() -> std::string {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      return "could not drop privileges";
    }
    return "";
  });
  PointStoresAt(user_dir(), machine_dir());
  ASSERT_TRUE(probe.exited) << probe.Describe();
  ASSERT_NE(probe.exit_code, 3) << probe.Describe();
  ASSERT_EQ(probe.exit_code, 0) << probe.Describe();
  const auto kv = ParseKeyValues(probe.output);
  EXPECT_EQ(kv.at("initialize"), "CKR_OK") << probe.output;
  EXPECT_EQ(kv.at("token_info"), "CKR_OK") << probe.output;
  EXPECT_EQ(kv.at("write_protected"), "1") << probe.output;
  EXPECT_TRUE(kv.at("open_rw") == "CKR_TOKEN_WRITE_PROTECTED" || kv.at("open_rw") == "CKR_OK")
      << probe.output;
  if (kv.count("gen_token_rw") != 0) {
    EXPECT_TRUE(kv.at("gen_token_rw") == "CKR_TOKEN_WRITE_PROTECTED" ||
                kv.at("gen_token_rw") == "CKR_SESSION_READ_ONLY")
        << probe.output;
    EXPECT_TRUE(kv.at("data_token_rw") == "CKR_TOKEN_WRITE_PROTECTED" ||
                kv.at("data_token_rw") == "CKR_SESSION_READ_ONLY")
        << probe.output;
  }
  EXPECT_EQ(kv.at("open_ro"), "CKR_OK") << probe.output;
  EXPECT_TRUE(kv.at("gen_token_ro") == "CKR_SESSION_READ_ONLY" ||
              kv.at("gen_token_ro") == "CKR_TOKEN_WRITE_PROTECTED")
      << probe.output;
  EXPECT_EQ(kv.at("gen_session_ro"), "CKR_OK") << "session keys still work: " << probe.output;
  EXPECT_EQ(kv.at("data_token_ro"), "CKR_SESSION_READ_ONLY") << probe.output;
  EXPECT_EQ(kv.at("finalize"), "CKR_OK") << probe.output;
  // Nothing was written by the unprivileged process.
  PointStoresAt(user.path(), machine.path());
  const ChildOutcome after = RunHelper({"dump", std::to_string(kMachineSlot), "nobody-ro"});
  PointStoresAt(user_dir(), machine_dir());
  EXPECT_EQ(ParseKeyValues(after.output).at("priv_count"), "0") << after.output;
}

// The public object of a token pair destroyed alone stays destroyed: after C_Finalize and
// C_Initialize and in another process. The private key stays usable; destroying it too deletes
// the CNG key.
TEST_F(MultiProcessTest, PublicKeyDestroyedAloneStaysDestroyed) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "pub-gone"});
  ASSERT_TRUE(kp.ok());
  const Bytes point = GetBytes(s, kp.pub, CKA_EC_POINT);
  ASSERT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.pub));
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "pub-gone").empty());

  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "pub-gone").empty()) << "back after C_Initialize";
  const auto privs = FindByLabel(s, CKO_PRIVATE_KEY, "pub-gone");
  ASSERT_EQ(privs.size(), 1U);
  // The private key still signs, and the signature verifies under the old public key.
  CK_MECHANISM ecdsa{CKM_ECDSA_SHA256, nullptr, 0};
  const Bytes data = {'k', 'e', 'p', 't'};
  const Bytes sig = Sign(s, &ecdsa, privs[0], data);
  const PKey pub = EcPublicKey(EcParamsP256(), point);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), data, sig, false));

  const ChildOutcome other = RunHelper({"dump", std::to_string(kUserSlot), "pub-gone"});
  ASSERT_TRUE(other.exited && other.exit_code == 0) << other.Describe();
  const auto kv = ParseKeyValues(other.output);
  EXPECT_EQ(kv.at("priv_count"), "1") << other.output;
  EXPECT_EQ(kv.at("pub_count"), "0") << "back in another process: " << other.output;

  ASSERT_CKR(CKR_OK, f_->C_DestroyObject(s, privs[0]));
  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "pub-gone").empty());
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "pub-gone").empty());
  // No key file is left in the slot's key store.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(key_store_dir())) {
    files += entry.is_regular_file() && entry.path().filename().string().size() == 32 ? 1 : 0;
  }
  EXPECT_EQ(files, 0U);
}

// A process that has the pair loaded sees another process destroy its public object.
TEST_F(MultiProcessTest, PublicKeyDestroyedInAnotherProcessGoesHereToo) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "pub-elsewhere"});
  ASSERT_TRUE(kp.ok());
  ASSERT_EQ(FindByLabel(s, CKO_PUBLIC_KEY, "pub-elsewhere").size(), 1U);
  const ChildOutcome other = RunHelper({"destroy-pub", std::to_string(kUserSlot), "pub-elsewhere"});
  ASSERT_TRUE(other.exited && other.exit_code == 0) << other.Describe();
  EXPECT_EQ(ParseKeyValues(other.output).at("pub_count"), "1") << other.output;
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "pub-elsewhere").empty());
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, "pub-elsewhere").size(), 1U);
}

// A key file of another owner could have been planted: the token does not show its objects
// (until it is the user's own again), and CNG_PKCS11_DEBUG says why.
TEST_F(MultiProcessTest, KeyFileOfAnotherOwnerIsNotExposed) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a file to another uid";
  }
  CK_SESSION_HANDLE s = OpenSession();
  ASSERT_TRUE(GenerateEc(s, EcParamsP256(), {.token = true, .label = "planted"}).ok());
  ASSERT_CKR(CKR_OK, f_->C_Finalize(nullptr));
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(key_store_dir())) {
    if (entry.is_regular_file() && entry.path().filename().string().size() == 32) {
      files.push_back(entry.path().string());
    }
  }
  ASSERT_EQ(files.size(), 1U);
  ASSERT_EQ(::chown(files[0].c_str(), 65534, 65534), 0);
  ::setenv("CNG_PKCS11_DEBUG", "1", 1);
  ::testing::internal::CaptureStderr();
  ASSERT_CKR(CKR_OK, f_->C_Initialize(nullptr));
  s = OpenSession();
  const bool hidden = FindByLabel(s, CKO_PRIVATE_KEY, "planted").empty() &&
                      FindByLabel(s, CKO_PUBLIC_KEY, "planted").empty();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ::unsetenv("CNG_PKCS11_DEBUG");
  EXPECT_TRUE(hidden);
  EXPECT_NE(log.find(files[0] + "': owned by uid 65534"), std::string::npos) << log;

  ASSERT_EQ(::chown(files[0].c_str(), 0, 0), 0);
  Reinitialize();
  s = OpenSession();
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, "planted").size(), 1U);
}

// C_GenerateKeyPair of a token P-256 pair; its CK_RV (failure is expected when full).
CK_RV GenerateTokenEc(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, const std::string& label) {
  Template pub;
  Template priv;
  pub.Bool(CKA_TOKEN, true).Str(CKA_LABEL, label).Raw(CKA_EC_PARAMS, EcParamsP256());
  priv.Bool(CKA_TOKEN, true).Str(CKA_LABEL, label).Bool(CKA_SIGN, true);
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
  return f->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hpub,
                              &hpriv);
}

// A full store (no inode left) is not write-protected: R/W sessions open and objects can be
// destroyed; what needs room says CKR_DEVICE_MEMORY.
TEST_F(MultiProcessTest, FullStoreStaysWritableAndSaysDeviceMemory) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a tmpfs";
  }
  const std::string small = scope_dir() + "/small";
  ASSERT_EQ(::mkdir(small.c_str(), 0700), 0);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m,nr_inodes=6,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  struct Unmount {  // also when an assertion ends the test early
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } const unmount{small};
  PointScopeAt(small);
  Reinitialize();
  CK_SESSION_HANDLE s = OpenSession();
  int kept = 0;
  CK_RV last = CKR_OK;
  for (int i = 0; i < 12 && last == CKR_OK; ++i) {
    last = GenerateTokenEc(f_, s, "fill-" + std::to_string(i));
    kept += last == CKR_OK ? 1 : 0;
  }
  EXPECT_EQ(last, CKR_DEVICE_MEMORY);
  ASSERT_GT(kept, 0);

  Reinitialize();  // the slot probes the full store afresh
  CK_TOKEN_INFO info{};
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
  EXPECT_EQ(info.flags & CKF_WRITE_PROTECTED, 0UL);
  CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                       nullptr, &rw));
  const auto privs = FindByLabel(rw, CKO_PRIVATE_KEY, "fill-0");
  const auto pubs = FindByLabel(rw, CKO_PUBLIC_KEY, "fill-0");
  ASSERT_EQ(privs.size(), 1U);
  ASSERT_EQ(pubs.size(), 1U);
  // Keeping the public half of a pair alone needs room (the key is rewritten): no room, no
  // change. Destroying the public object first, then the private key (the whole key) works.
  EXPECT_CKR(CKR_DEVICE_MEMORY, f_->C_DestroyObject(rw, privs[0]));
  EXPECT_EQ(FindByLabel(rw, CKO_PRIVATE_KEY, "fill-0").size(), 1U);
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(rw, pubs[0]));
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(rw, privs[0]));
  EXPECT_TRUE(FindByLabel(rw, CKO_PRIVATE_KEY, "fill-0").empty());
  // The freed room takes a new key again.
  EXPECT_CKR(CKR_OK, GenerateTokenEc(f_, rw, "again"));
  ASSERT_CKR(CKR_OK, f_->C_CloseSession(rw));
  ASSERT_CKR(CKR_OK, f_->C_Finalize(nullptr));
  ::umount2(small.c_str(), MNT_DETACH);
  PointStoresAt(user_dir(), machine_dir());
  ASSERT_CKR(CKR_OK, f_->C_Initialize(nullptr));
}

}  // namespace
}  // namespace conf

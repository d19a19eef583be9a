// Several processes on one store: token keys persist across processes with the same
// attributes, session keys do not, scopes are separate; the machine slot is write-protected
// for a user who cannot write the machine store.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace
}  // namespace conf

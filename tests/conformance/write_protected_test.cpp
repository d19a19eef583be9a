// A store that becomes unwritable while a R/W session is open: C_SetAttributeValue and
// C_DestroyObject of token objects answer CKR_TOKEN_WRITE_PROTECTED (PKCS#11 3.0 §5.7 lists it
// for both; the key itself still permits the function), and nothing changes on the token.
//
// The directories of the slot's scope store are made read-only (chmod 0500). Root bypasses
// permission bits through CAP_DAC_OVERRIDE, so while the store is read-only the test thread drops
// that capability (and CAP_FOWNER) from its effective set: capabilities are per thread on Linux,
// the module starts no threads, and an effective capability that stays in the permitted set can be
// raised again afterwards. For a non-root user the capability sets are empty and the chmod alone
// suffices.
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "p11_fixture.h"

namespace conf {
namespace {

// The calling thread's effective capabilities without DAC override and file-owner override,
// restored on destruction.
class NoPermissionOverride {
 public:
  NoPermissionOverride() {
    header_.version = _LINUX_CAPABILITY_VERSION_3;
    header_.pid = 0;  // the calling thread
    ok_ = syscall(SYS_capget, &header_, saved_) == 0;
    if (!ok_) {
      return;
    }
    __user_cap_data_struct dropped[2] = {saved_[0], saved_[1]};
    for (const int cap : {CAP_DAC_OVERRIDE, CAP_FOWNER}) {
      dropped[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
    }
    ok_ = syscall(SYS_capset, &header_, dropped) == 0;
  }
  NoPermissionOverride(const NoPermissionOverride&) = delete;
  NoPermissionOverride& operator=(const NoPermissionOverride&) = delete;
  ~NoPermissionOverride() {
    if (ok_) {
      (void)syscall(SYS_capset, &header_, saved_);
    }
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  __user_cap_header_struct header_{};
  __user_cap_data_struct saved_[2]{};
  bool ok_ = false;
};

// Every directory at and below root gets mode.
void ChmodDirectories(const std::string& root, std::filesystem::perms mode) {
  namespace fs = std::filesystem;
  fs::permissions(root, mode);
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_directory()) {
      fs::permissions(entry.path(), mode);
    }
  }
}

class WriteProtectedTest : public P11Test {};

TEST_F(WriteProtectedTest, SetAndDestroyOnAnUnwritableStoreAreTokenWriteProtected) {
  using std::filesystem::perms;
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, true);
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "before"});
  ASSERT_TRUE(kp.ok());
  Template data;
  data.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Str(CKA_APPLICATION, "wp");
  data.Raw(CKA_VALUE, {1, 2, 3});
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s, data.data(), data.size(), &obj));

  ChmodDirectories(scope_dir(), perms::owner_read | perms::owner_exec);
  {
    const NoPermissionOverride no_override;
    ASSERT_TRUE(no_override.ok()) << "capget/capset failed";
    Template label;
    label.Str(CKA_LABEL, "after");
    for (const CK_OBJECT_HANDLE h : {kp.priv, kp.pub, obj}) {
      EXPECT_CKR(CKR_TOKEN_WRITE_PROTECTED,
                 f_->C_SetAttributeValue(s, h, label.data(), label.size()))
          << "object " << h;
    }
    // (Destroying the public half of a pair whose private key lives writes nothing: it is
    // hidden until the next C_Initialize, so it is not tried here.)
    for (const CK_OBJECT_HANDLE h : {kp.priv, obj}) {
      EXPECT_CKR(CKR_TOKEN_WRITE_PROTECTED, f_->C_DestroyObject(s, h)) << "object " << h;
    }
  }
  ChmodDirectories(scope_dir(), perms::owner_all);

  // Nothing changed on the token: the objects are there, with their old labels.
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession(kUserSlot, true);
  EXPECT_EQ(FindByLabel(s2, CKO_PRIVATE_KEY, "before").size(), 1u);
  EXPECT_EQ(FindByLabel(s2, CKO_PUBLIC_KEY, "before").size(), 1u);
  EXPECT_TRUE(FindByLabel(s2, CKO_PRIVATE_KEY, "after").empty());
  Template find_data;
  find_data.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_APPLICATION, "wp");
  EXPECT_EQ(Find(s2, find_data).size(), 1u);
}

}  // namespace
}  // namespace conf

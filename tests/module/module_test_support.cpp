#include "module_test_support.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

namespace module_test {

namespace {

std::filesystem::path g_root;

class TempStoreEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string templ =
        (std::filesystem::temp_directory_path() / "cng-module-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    g_root = templ;
    // Traversable by other users (the write-protection test runs a child as nobody).
    std::filesystem::permissions(
        g_root, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                    std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                    std::filesystem::perms::others_exec);
    ::setenv("CNG_PKCS11_USER_DIR", (g_root / "user").c_str(), 1);
    ::setenv("CNG_PKCS11_MACHINE_DIR", (g_root / "machine").c_str(), 1);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(g_root, ec);
  }
};

[[maybe_unused]] auto* const g_environment =
    ::testing::AddGlobalTestEnvironment(new TempStoreEnvironment);

}  // namespace

const std::filesystem::path& store_root() { return g_root; }

CK_FUNCTION_LIST_3_0* list30() {
  CK_INTERFACE* iface = nullptr;
  if (C_GetInterface(nullptr, nullptr, &iface, 0) != CKR_OK || iface == nullptr) {
    return nullptr;
  }
  return static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
}

CK_FUNCTION_LIST* list240() {
  CK_FUNCTION_LIST* list = nullptr;
  return C_GetFunctionList(&list) == CKR_OK ? list : nullptr;
}

std::string padded(const std::string& text, std::size_t width) {
  std::string out = text.substr(0, width);
  out.resize(width, ' ');
  return out;
}

int run_in_child(int (*fn)(void*), void* arg) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(60);  // a hung child (e.g. a lock inherited across fork) fails instead of hanging
    ::_exit(fn(arg));
  }
  if (pid < 0) {
    return -1;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

void InitializedTest::SetUp() {
  p11 = list30();
  ASSERT_NE(p11, nullptr);
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
}

void InitializedTest::TearDown() {
  if (p11 != nullptr) {
    EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  }
}

CK_SESSION_HANDLE InitializedTest::open(CK_SLOT_ID slot, bool rw) {
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  const CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
  EXPECT_EQ(p11->C_OpenSession(slot, flags, nullptr, nullptr, &h), CKR_OK);
  return h;
}

}  // namespace module_test

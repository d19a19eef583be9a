#include "ncrypt_child.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "providers/platform/tpm_connection.h"
#include "providers/platform/tpm_sealer.h"
#include "store/master_key.h"

namespace platform_test {

Statuses in_child(const std::filesystem::path& user_dir, const std::string& tcti,
                  const std::function<void(NCRYPT_PROV_HANDLE, Statuses&)>& body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::setenv("CNG_PKCS11_USER_DIR", user_dir.c_str(), 1);
    Statuses out;
    NCRYPT_PROV_HANDLE prov = 0;
    out.push_back(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0));
    // After the provider opened (which installs the platform provider's sealer).
    cng::master_key::set_tpm_sealer_factory([tcti] {
      return cng::tpm::make_tpm_sealer(std::make_shared<cng::tpm::TpmConnection>(tcti));
    });
    body(prov, out);
    const auto n = static_cast<ssize_t>(out.size() * sizeof(SECURITY_STATUS));
    _exit(::write(fds[1], out.data(), static_cast<std::size_t>(n)) == n ? 0 : 1);
  }
  ::close(fds[1]);
  Statuses out;
  SECURITY_STATUS st = 0;
  while (::read(fds[0], &st, sizeof st) == static_cast<ssize_t>(sizeof st)) {
    out.push_back(st);
  }
  ::close(fds[0]);
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_FALSE(out.empty());
  if (!out.empty()) {
    EXPECT_EQ(out.front(), ERROR_SUCCESS) << "NCryptOpenStorageProvider";
    out.erase(out.begin());
  }
  return out;
}

}  // namespace platform_test

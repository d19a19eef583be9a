// NCrypt steps in a fresh child process (fork): nothing cached from the parent's or an earlier
// step's logins and unseals, and the parent never holds the TPM's connection. The child works
// on the user scope at user_dir with its software keys' master key sealed to the TPM at tcti.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ncrypt.h"

namespace platform_test {

using Statuses = std::vector<SECURITY_STATUS>;

// Runs body(software provider, statuses) in a child; returns the statuses body collected
// (after checking, as test expectations, that the child opened the provider and exited 0).
Statuses in_child(const std::filesystem::path& user_dir, const std::string& tcti,
                  const std::function<void(NCRYPT_PROV_HANDLE, Statuses&)>& body);

}  // namespace platform_test

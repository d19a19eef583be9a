// Whether this process can create files in a key store directory (write protection of a slot).
#pragma once

#include <filesystem>

namespace slots {

// True when a file can be created in dir, or, when dir does not exist yet, when a directory can
// be created in its nearest existing ancestor (the store creates missing directories itself).
// Tries it for real (permissions, read-only mounts, ACLs, capabilities all count) and removes
// the probe again. An empty path is not writable. Only a refusal (EACCES, EPERM, EROFS) means not
// writable: a full file system (ENOSPC, EDQUOT) or an I/O error is no write protection: destroying
// must stay possible, and creating reports "storage full" itself. Probes left by processes that no
// longer run (killed mid-probe) are deleted on the way. The probe of an existing directory is
// made in its subdirectory ".cng-pkcs11-probes" (created once), so that it leaves the
// directory's mtime (the key store's listing index stamp) unchanged.
bool store_writable(const std::filesystem::path& dir) noexcept;

}  // namespace slots

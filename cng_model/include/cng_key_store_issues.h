// cng_key_store_issues.h: the key files a provider's store leaves out of NCryptEnumKeys,
// damaged (cannot be parsed) or refused (owner or mode not trusted), for tools such as cngkey
// that must show them. Not part of ncrypt.h (Windows has no such call). C++ only.
//
// NCryptOpenKey of such a key: NTE_PERM when refused; a damaged one still opens, as a handle
// that only NCryptDeleteKey and NCryptFreeObject accept (properties NTE_BAD_DATA, operations
// NTE_BAD_KEY_STATE), so that a damaged key can always be deleted and its name freed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ncrypt.h"

namespace cng {

struct KeyStoreIssue {
  std::string file;      // the entry's file name in the store directory
  bool refused = false;  // true: owner or mode not trusted; false: damaged
  // "owned by uid 1000, not 0", "mode 0644 (group or others have access)", or the parse error.
  std::string reason;
};

// The issues of the scope's key store (dwFlags: 0 or NCRYPT_MACHINE_KEY_FLAG), sorted by file.
// Returns the SECURITY_STATUS of the listing (as NCryptEnumKeys would).
SECURITY_STATUS CngListKeyStoreIssues(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                      std::vector<KeyStoreIssue>* issues) noexcept;
// The issue of the key named pszKeyName: ERROR_SUCCESS with *found = false when its file is
// absent or fine.
SECURITY_STATUS CngGetKeyIssue(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszKeyName, DWORD dwFlags,
                               KeyStoreIssue* issue, bool* found) noexcept;

}  // namespace cng

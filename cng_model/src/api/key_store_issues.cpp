// CngListKeyStoreIssues, CngGetKeyIssue (cng_key_store_issues.h): what NCryptEnumKeys leaves out.
#include "api/boundary.h"
#include "api/key_common.h"
#include "cng_key_store_issues.h"

using namespace cng;
using namespace cng::api;

namespace {

KeyStoreIssue public_issue(KeyFileIssue issue) {
  return {std::move(issue.file), issue.refused, std::move(issue.reason)};
}

}  // namespace

namespace cng {

SECURITY_STATUS CngListKeyStoreIssues(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                      std::vector<KeyStoreIssue>* issues) noexcept {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(issues, "issues is NULL");
    std::vector<KeyFileIssue> found;
    (void)provider->context()->store(scope_from_flags(dwFlags)).list(&found);
    issues->clear();
    for (auto& issue : found) {
      issues->push_back(public_issue(std::move(issue)));
    }
  });
}

SECURITY_STATUS CngGetKeyIssue(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszKeyName, DWORD dwFlags,
                               KeyStoreIssue* issue, bool* found) noexcept {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(issue, "issue is NULL");
    require_arg(found, "found is NULL");
    const std::u16string name = key_name_arg(pszKeyName);
    auto result = provider->context()->store(scope_from_flags(dwFlags)).issue_of(name);
    *found = result.has_value();
    if (result) {
      *issue = public_issue(std::move(*result));
    }
  });
}

}  // namespace cng

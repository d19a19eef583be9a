// The usage authorisation of the private-key operation running on this thread: the NCrypt
// layer (api/key_auth.h) takes it from the key handle and holds a UsageAuthScope around the
// provider call; a provider whose device checks it (the platform provider: the TPM object's
// authValue) reads it with current_usage_auth(). Per thread, so two operations on one handle
// never see each other's PIN.
#pragma once

#include "core/secure_bytes.h"

namespace cng {

namespace detail {
inline thread_local const SecureBytes* t_usage_auth = nullptr;
}  // namespace detail

class UsageAuthScope {
 public:
  explicit UsageAuthScope(const SecureBytes& auth) noexcept : previous_(detail::t_usage_auth) {
    detail::t_usage_auth = &auth;
  }
  ~UsageAuthScope() { detail::t_usage_auth = previous_; }
  UsageAuthScope(const UsageAuthScope&) = delete;
  UsageAuthScope& operator=(const UsageAuthScope&) = delete;

 private:
  const SecureBytes* previous_;
};

// The authorisation of the current operation; empty when none was given.
inline const SecureBytes& current_usage_auth() noexcept {
  static const SecureBytes kNone;
  return detail::t_usage_auth != nullptr ? *detail::t_usage_auth : kNone;
}

}  // namespace cng

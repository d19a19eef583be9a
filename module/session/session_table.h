// The session handle table: handles are process-wide monotonic (never reused, not even across
// C_Finalize/C_Initialize) and valid across slots. Lock level kTable (a leaf).
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "session/session.h"

namespace p11 {

class SessionTable {
 public:
  explicit SessionTable(std::unique_ptr<Mutex> mutex) : mutex_(std::move(mutex)) {}

  // A fresh handle (never CK_INVALID_HANDLE, never returned before in this process).
  static CK_SESSION_HANDLE next_handle() noexcept;

  void insert(std::shared_ptr<Session> session);
  // CKR_SESSION_HANDLE_INVALID when unknown.
  [[nodiscard]] std::shared_ptr<Session> get(CK_SESSION_HANDLE handle) const;
  void erase(CK_SESSION_HANDLE handle);
  [[nodiscard]] std::vector<std::shared_ptr<Session>> of_slot(CK_SLOT_ID slot_id) const;
  // Drops every entry (C_Finalize, with the library lock held exclusively).
  void clear() noexcept;

 private:
  std::unique_ptr<Mutex> mutex_;
  std::unordered_map<CK_SESSION_HANDLE, std::shared_ptr<Session>> sessions_;
};

}  // namespace p11

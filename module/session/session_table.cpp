#include "session/session_table.h"

#include <atomic>
#include <mutex>

namespace p11 {

CK_SESSION_HANDLE SessionTable::next_handle() noexcept {
  static std::atomic<CK_SESSION_HANDLE> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

void SessionTable::insert(std::shared_ptr<Session> session) {
  std::lock_guard lock(*mutex_);
  const CK_SESSION_HANDLE handle = session->handle();
  sessions_.emplace(handle, std::move(session));
}

std::shared_ptr<Session> SessionTable::get(CK_SESSION_HANDLE handle) const {
  std::lock_guard lock(*mutex_);
  const auto it = sessions_.find(handle);
  require(it != sessions_.end(), CKR_SESSION_HANDLE_INVALID, "unknown session handle");
  return it->second;
}

void SessionTable::erase(CK_SESSION_HANDLE handle) {
  std::lock_guard lock(*mutex_);
  sessions_.erase(handle);
}

void SessionTable::clear() noexcept {
  // No lock: only C_Finalize calls this, when no other call can be inside the module. (Taking
  // an application mutex could fail, and this must not.)
  sessions_.clear();
}

std::vector<std::shared_ptr<Session>> SessionTable::of_slot(CK_SLOT_ID slot_id) const {
  std::lock_guard lock(*mutex_);
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [handle, session] : sessions_) {
    if (session->slot_id() == slot_id) {
      out.push_back(session);
    }
  }
  return out;
}

}  // namespace p11

// One PKCS#11 session: its slot, RW flag, the active find and at most one cryptographic operation
// per kind. A Session is only touched with its mutex held (the dispatcher locks it for the whole
// call), so its members need no further synchronisation.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "core/locking.h"
#include "mechanisms/message_operation.h"
#include "mechanisms/operation.h"
#include "objects/object_layer.h"

namespace p11 {

struct FindState {
  std::vector<CK_OBJECT_HANDLE> results;
  std::size_t next = 0;
};

// One active operation of a kind, with whether C_*Update was called (then only C_*Final may end
// it).
struct ActiveOperation {
  std::unique_ptr<Operation> operation;
  bool updated = false;
};

class Session {
 public:
  Session(CK_SESSION_HANDLE handle, CK_SLOT_ID slot_id, bool read_write,
          std::unique_ptr<Mutex> mutex)
      : handle_(handle), slot_id_(slot_id), read_write_(read_write), mutex_(std::move(mutex)) {}

  [[nodiscard]] CK_SESSION_HANDLE handle() const noexcept { return handle_; }
  [[nodiscard]] CK_SLOT_ID slot_id() const noexcept { return slot_id_; }
  [[nodiscard]] bool read_write() const noexcept { return read_write_; }
  [[nodiscard]] SessionContext context() const noexcept { return {handle_, read_write_}; }
  [[nodiscard]] Mutex& mutex() noexcept { return *mutex_; }

  // The active operation of a kind; CKR_OPERATION_NOT_INITIALIZED when there is none.
  ActiveOperation& active(OpKind kind);
  [[nodiscard]] bool has_active(OpKind kind) const noexcept;
  // CKR_OPERATION_ACTIVE when one of the kind is running.
  void start(OpKind kind, std::unique_ptr<Operation> operation);
  void end(OpKind kind) noexcept;
  void end_all() noexcept;

  // The message-based operation of a direction (C_MessageEncryptInit / C_MessageDecryptInit);
  // CKR_OPERATION_NOT_INITIALIZED when there is none.
  MessageOperation& message(MessageKind kind);
  [[nodiscard]] bool has_message(MessageKind kind) const noexcept;
  // CKR_OPERATION_ACTIVE when one of the direction is running.
  void start_message(MessageKind kind, std::unique_ptr<MessageOperation> operation);
  void end_message(MessageKind kind) noexcept;

  // Set (under the session mutex) when the session is closed while others still hold it.
  bool closed = false;
  std::optional<FindState> find;

 private:
  static std::size_t index(OpKind kind) noexcept { return static_cast<std::size_t>(kind); }

  CK_SESSION_HANDLE handle_;
  CK_SLOT_ID slot_id_;
  bool read_write_;
  std::unique_ptr<Mutex> mutex_;
  std::array<ActiveOperation, 5> operations_{};
  std::array<std::unique_ptr<MessageOperation>, 2> messages_{};
};

}  // namespace p11

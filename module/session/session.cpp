#include "session/session.h"

namespace p11 {

ActiveOperation& Session::active(OpKind kind) {
  auto& slot = operations_[index(kind)];
  require(slot.operation != nullptr, CKR_OPERATION_NOT_INITIALIZED, "no operation of this kind");
  return slot;
}

bool Session::has_active(OpKind kind) const noexcept {
  return operations_[index(kind)].operation != nullptr;
}

void Session::start(OpKind kind, std::unique_ptr<Operation> operation) {
  auto& slot = operations_[index(kind)];
  require(slot.operation == nullptr, CKR_OPERATION_ACTIVE, "an operation of this kind is active");
  slot.operation = std::move(operation);
  slot.updated = false;
}

void Session::end(OpKind kind) noexcept {
  auto& slot = operations_[index(kind)];
  slot.operation.reset();
  slot.updated = false;
}

void Session::end_all() noexcept {
  for (auto& slot : operations_) {
    slot.operation.reset();
    slot.updated = false;
  }
  find.reset();
}

}  // namespace p11

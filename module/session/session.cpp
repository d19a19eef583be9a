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
  for (auto& message : messages_) {
    message.reset();
  }
  find.reset();
}

MessageOperation& Session::message(MessageKind kind) {
  auto& slot = messages_[static_cast<std::size_t>(kind)];
  require(slot != nullptr, CKR_OPERATION_NOT_INITIALIZED, "no message-based operation");
  return *slot;
}

bool Session::has_message(MessageKind kind) const noexcept {
  return messages_[static_cast<std::size_t>(kind)] != nullptr;
}

void Session::start_message(MessageKind kind, std::unique_ptr<MessageOperation> operation) {
  auto& slot = messages_[static_cast<std::size_t>(kind)];
  require(slot == nullptr, CKR_OPERATION_ACTIVE, "a message-based operation is active");
  slot = std::move(operation);
}

void Session::end_message(MessageKind kind) noexcept {
  messages_[static_cast<std::size_t>(kind)].reset();
}

}  // namespace p11

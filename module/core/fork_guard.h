// Fork handling. A pthread_atfork child handler bumps a process generation; state created by
// C_Initialize records the generation it was created in, and a forked child sees a mismatch, so
// every call answers CKR_CRYPTOKI_NOT_INITIALIZED until the child calls C_Initialize, which
// abandons (never touches) the parent's state and locks and builds fresh ones.
#pragma once

#include <cstdint>
#include <mutex>

namespace p11 {

// The current process generation (0 in the process that loaded the module).
std::uint64_t fork_generation() noexcept;

// Registers the atfork handlers once per process (idempotent, thread-safe).
void install_fork_handlers() noexcept;

// Serialises C_Initialize and C_Finalize. Held by the atfork prepare handler across fork(), so
// a child never inherits it locked by a thread that does not exist there.
std::mutex& init_mutex() noexcept;

}  // namespace p11

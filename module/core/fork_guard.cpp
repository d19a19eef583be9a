#include "core/fork_guard.h"

#include <pthread.h>

#include <atomic>

#include "core/no_destructor.h"

namespace p11 {

namespace {

std::atomic<std::uint64_t> g_generation{0};

void prepare() noexcept { init_mutex().lock(); }
void in_parent() noexcept { init_mutex().unlock(); }
void in_child() noexcept {
  g_generation.fetch_add(1, std::memory_order_relaxed);
  // The forking thread locked it in prepare(); it is the only thread in the child.
  init_mutex().unlock();
}

}  // namespace

std::uint64_t fork_generation() noexcept { return g_generation.load(std::memory_order_acquire); }

void install_fork_handlers() noexcept {
  static std::once_flag once;  // trivially destructible
  std::call_once(once, [] { (void)::pthread_atfork(&prepare, &in_parent, &in_child); });
}

std::mutex& init_mutex() noexcept {
  static NoDestructor<std::mutex> m;  // usable from atexit handlers after static teardown
  return *m;
}

}  // namespace p11

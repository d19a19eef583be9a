// Testing-only fault injection, compiled in always and inert unless a test enables it.
// While enabled, every allocation point of the NCrypt layer that calls
// maybe_fail_allocation() throws std::bad_alloc, so tests can observe NTE_NO_MEMORY.
#pragma once

namespace cng::api::testing {

void set_allocation_failure(bool enabled) noexcept;
// Throws std::bad_alloc when allocation failure is enabled.
void maybe_fail_allocation();

}  // namespace cng::api::testing

// Shared helpers of the module unit tests: temporary key stores (set before any C_Initialize),
// the function lists, and a fixture that initialises the library per test.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pkcs11/pkcs11_all.h"

namespace module_test {

// The temporary store root ($CNG_PKCS11_USER_DIR = root/user, $CNG_PKCS11_MACHINE_DIR =
// root/machine), created by the global test environment.
const std::filesystem::path& store_root();

CK_FUNCTION_LIST_3_0* list30();
CK_FUNCTION_LIST* list240();

// A fixed-width PKCS#11 text field as a string (padding included).
template <std::size_t N>
std::string field(const unsigned char (&f)[N]) {
  return std::string(reinterpret_cast<const char*>(f), N);
}
std::string padded(const std::string& text, std::size_t width);

// Runs fn in a forked child; returns its exit status (fn's return value), or -1 when the child
// did not exit normally. fn must not throw; the child leaves with _exit.
int run_in_child(int (*fn)(void*), void* arg);

// Initialises with NULL args in SetUp, finalises in TearDown.
class InitializedTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  CK_SESSION_HANDLE open(CK_SLOT_ID slot, bool rw);

  CK_FUNCTION_LIST_3_0* p11 = nullptr;
};

}  // namespace module_test

// The token PIN seam (slots/scope_pin.h) over the real cng_model scope PIN: PINs stay UTF-8 on
// the way in and match the UTF-16 form NCRYPT_PIN_PROPERTY takes. The oracle for the encodings
// is the compiler: u8"" and u"" literals of the same text, and byte sequences the Unicode
// standard (§3.9, Table 3-7) rules out as UTF-8 (overlong, surrogate, truncated, 0xFF).
#include "slots/scope_pin.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "slots/slot.h"

namespace {

namespace fs = std::filesystem;

slots::PinView bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

SECURITY_STATUS status_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const slots::ProviderError& e) {
    return e.status();
  }
  return ERROR_SUCCESS;
}

class ScopePinSeam : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cng-slots-pin-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    ::setenv("CNG_PKCS11_USER_DIR", (root_ / "user").c_str(), 1);
    ::setenv("CNG_PKCS11_MACHINE_DIR", (root_ / "machine").c_str(), 1);
    slots_ = slots::open_present_slots();
    ASSERT_GE(slots_.size(), 1U);
  }
  void TearDown() override {
    if (!slots_.empty()) {
      slots::pin_logout(*slots_[0]);
    }
    slots_.clear();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const slots::Slot& user() const { return *slots_[0]; }
  // NCRYPT_PIN_PROPERTY on the slot's provider with a UTF-16 value (NUL included).
  SECURITY_STATUS set_pin_property(std::u16string_view pin) const {
    std::u16string value(pin);
    return NCryptSetProperty(
        user().provider(), NCRYPT_PIN_PROPERTY, reinterpret_cast<PBYTE>(value.data()),
        static_cast<DWORD>((value.size() + 1) * sizeof(char16_t)), user().scope_flag());
  }

  fs::path root_;
  std::vector<std::unique_ptr<slots::Slot>> slots_;
};

TEST_F(ScopePinSeam, NotUtf8IsRefusedAsANewPin) {
  using namespace std::string_view_literals;
  for (const std::string_view bad : {"\xC0\xAF"
                                     "abcd"sv,
                                     "\xE0\x80\xAF"
                                     "abcd"sv,
                                     "ab\xED\xA0\x80"
                                     "cd"sv,
                                     "abcd\xE2\x82"sv, "abcd\xFF"sv, "abc\xF4\x90\x80\x80"sv}) {
    EXPECT_EQ(status_of([&] { slots::pin_set(user(), bytes_of(bad)); }), NTE_INVALID_PARAMETER);
  }
  EXPECT_FALSE(slots::pin_info(user()).pin_set);
}

TEST_F(ScopePinSeam, Utf8PinMatchesItsUtf16Form) {
  const std::u8string text = u8"p\u00EFn \u20AC \U0001F600";
  const std::string_view pin(reinterpret_cast<const char*>(text.data()), text.size());
  ASSERT_EQ(status_of([&] { slots::pin_set(user(), bytes_of(pin)); }), ERROR_SUCCESS);
  slots::pin_logout(user());

  // Not UTF-8: cannot be the PIN, no attempt spent.
  EXPECT_EQ(status_of([&] { slots::pin_login(user(), bytes_of("p\xC3n \xE2\x82")); }),
            SCARD_W_WRONG_CHV);
  EXPECT_EQ(slots::pin_info(user()).failures, 0U);
  // An unpaired surrogate is not UTF-16: refused before any check.
  EXPECT_EQ(set_pin_property(u"p\xD83Dn"), NTE_INVALID_PARAMETER);
  EXPECT_EQ(slots::pin_info(user()).failures, 0U);

  EXPECT_EQ(set_pin_property(u"p\u00EFn \u20AC \U0001F601"), SCARD_W_WRONG_CHV);
  EXPECT_EQ(slots::pin_info(user()).failures, 1U);
  EXPECT_EQ(set_pin_property(u"p\u00EFn \u20AC \U0001F600"), ERROR_SUCCESS);
  EXPECT_EQ(slots::pin_info(user()).failures, 0U);
  slots::pin_logout(user());
  EXPECT_EQ(status_of([&] { slots::pin_login(user(), bytes_of(pin)); }), ERROR_SUCCESS);
}

}  // namespace

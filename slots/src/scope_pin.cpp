#include "slots/scope_pin.h"

#include <string>
#include <vector>

#include "cng_scope_pin.h"

namespace slots {

namespace {

// A UTF-16LE buffer that is overwritten before it is freed.
class WipedUtf16 {
 public:
  WipedUtf16() = default;
  WipedUtf16(const WipedUtf16&) = delete;
  WipedUtf16& operator=(const WipedUtf16&) = delete;
  ~WipedUtf16() {
    volatile std::uint8_t* p = bytes_.data();
    for (std::size_t i = 0; i < bytes_.capacity(); ++i) {
      p[i] = 0;
    }
  }
  void reserve(std::size_t n) { bytes_.reserve(n); }  // before any push: no reallocation
  void unit(char16_t c) {
    bytes_.push_back(static_cast<std::uint8_t>(c & 0xFF));
    bytes_.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

// UTF-8 → UTF-16LE (with a terminating NUL, as NCRYPT_PIN_PROPERTY takes it); false when the
// input is not well-formed UTF-8.
bool to_utf16(PinView in, WipedUtf16& out) {
  out.reserve(in.size() * 2 + 4);  // each byte gives at most one unit; surrogates need 4 bytes
  std::size_t i = 0;
  while (i < in.size()) {
    const std::uint8_t b = in[i];
    std::size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= in.size() && extra != 0) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((in[i + k] & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (in[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) {
      return false;
    }
    if (cp >= 0x10000) {
      out.unit(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.unit(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      out.unit(static_cast<char16_t>(cp));
    }
    i += extra + 1;
  }
  out.unit(u'\0');
  return true;
}

void check(SECURITY_STATUS status, const char* what) {
  if (status != ERROR_SUCCESS) {
    throw ProviderError(status, std::string(what) + " failed");
  }
}

}  // namespace

PinInfo pin_info(const Slot& slot) {
  cng::ScopePinStatus status;
  check(cng::CngGetScopePinStatus(slot.provider(), slot.scope_flag(), &status),
        "CngGetScopePinStatus");
  return {status.pin_set,       status.locked,     status.failures,
          status.attempts_left, status.min_length, status.max_length};
}

void pin_login(const Slot& slot, PinView pin) {
  WipedUtf16 utf16;
  if (!to_utf16(pin, utf16)) {
    throw ProviderError(SCARD_W_WRONG_CHV, "the PIN is not UTF-8: it cannot be the scope's");
  }
  auto& bytes = utf16.bytes();
  check(NCryptSetProperty(slot.provider(), NCRYPT_PIN_PROPERTY, bytes.data(),
                          static_cast<DWORD>(bytes.size()), slot.scope_flag()),
        "NCryptSetProperty(SmartCardPin)");
}

void pin_logout(const Slot& slot) noexcept {
  (void)NCryptSetProperty(slot.provider(), NCRYPT_PIN_PROPERTY, nullptr, 0, slot.scope_flag());
}

void pin_set(const Slot& slot, PinView pin) {
  check(cng::CngSetScopePin(slot.provider(), slot.scope_flag(), pin), "CngSetScopePin");
}

void pin_change(const Slot& slot, PinView old_pin, PinView new_pin) {
  check(cng::CngChangeScopePin(slot.provider(), slot.scope_flag(), old_pin, new_pin),
        "CngChangeScopePin");
}

}  // namespace slots

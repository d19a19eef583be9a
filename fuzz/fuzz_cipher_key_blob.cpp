// libFuzzer target for NCRYPT_CIPHER_KEY_BLOB (module/bridge/cipher_key_blob.h), both ways:
//   - parse(x) succeeds only for a canonical blob: re-encoding the parsed algorithm and value
//     gives back exactly x (every header field is determined by the two);
//   - the input read as (algorithm, value) encodes to a blob that parses back to them.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bridge/cipher_key_blob.h"
#include "fuzz_oracle_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const p11::ByteView in(data, size);
  if (const auto key = p11::bridge::parse_cipher_key_blob(in)) {
    const p11::SecretBytes again = p11::bridge::cipher_key_blob(key->algorithm, key->value);
    fuzz::require(std::equal(again.begin(), again.end(), in.begin(), in.end()));
  }
  // Second direction: the first byte splits the rest into a UTF-16LE name and a key value.
  if (size == 0) {
    return 0;
  }
  const std::size_t name_bytes = std::min<std::size_t>(data[0], size - 1) & ~std::size_t{1};
  std::u16string name;
  for (std::size_t i = 0; i < name_bytes; i += 2) {
    const auto c = static_cast<char16_t>(data[1 + i] | (data[2 + i] << 8));
    name.push_back(c == 0 ? u'?' : c);  // the algorithm id is NUL-terminated
  }
  const p11::ByteView value = in.subspan(1 + name_bytes);
  const p11::SecretBytes blob = p11::bridge::cipher_key_blob(name, value);
  const auto parsed = p11::bridge::parse_cipher_key_blob(blob);
  fuzz::require(parsed.has_value() && parsed->algorithm == name &&
                std::equal(parsed->value.begin(), parsed->value.end(), value.begin(), value.end()));
  return 0;
}

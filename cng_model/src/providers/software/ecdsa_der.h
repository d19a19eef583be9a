// The DER ECDSA-Sig-Value OpenSSL signs into (SEQUENCE { INTEGER r, INTEGER s }, SEC 1 / RFC 3279)
// turned into CNG's r ‖ s, read in place: the signing hot path builds no ECDSA_SIG and no
// BIGNUMs per signature (they cost several percent of a P-256 signature).
#pragma once

#include <cstdint>
#include <span>

namespace cng::soft {

// Writes r and s, each left-padded to out.size() / 2 bytes, into out. False when der is not
// exactly one such SEQUENCE (definite lengths, at most two length octets) or r or s does not
// fit; out is then unspecified.
bool ecdsa_der_to_raw(std::span<const std::uint8_t> der, std::span<std::uint8_t> out) noexcept;

}  // namespace cng::soft

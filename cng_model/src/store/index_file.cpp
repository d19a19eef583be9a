#include "store/index_file.h"

#include <algorithm>

#include "store/byte_codec.h"

namespace cng::index_file {

namespace {

using store_codec::LeReader;
using store_codec::LeWriter;

constexpr store_codec::Magic kMagic = {'C', 'N', 'G', 'L', 'I', 'D', 'X', 0x1a};

std::uint64_t as_u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }
std::int64_t as_i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

}  // namespace

void Index::add(std::string file, const store_io::FileIdentity& identity, EntryState state,
                std::span<const std::uint8_t> payload) {
  entries.push_back({std::move(file), identity, state, payloads.size(), payload.size()});
  payloads.insert(payloads.end(), payload.begin(), payload.end());
}

bool same_entries(const Index& a, const Index& b) {
  if (a.entries.size() != b.entries.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const Entry& x = a.entries[i];
    const Entry& y = b.entries[i];
    const auto px = a.payload(x);
    const auto py = b.payload(y);
    if (x.file != y.file || x.identity != y.identity || x.state != y.state ||
        !std::equal(px.begin(), px.end(), py.begin(), py.end())) {
      return false;
    }
  }
  return true;
}

SecureBytes encode(const Index& index) {
  require(index.entries.size() <= kMaxEntries, NTE_INVALID_PARAMETER, "index: too many entries");
  std::size_t total = 128;
  for (const Entry& e : index.entries) {
    total += 48 + e.file.size() + e.payload_size;
  }
  SecureBytes out;
  out.reserve(total);
  LeWriter w(out);
  store_codec::begin_envelope(w, kMagic, kVersion);
  w.u32(index.kind);
  w.u64(index.dir.device);
  w.u64(index.dir.inode);
  w.u64(as_u64(index.dir.mtime_ns));
  w.u64(as_u64(index.scanned_ns));
  w.u32(static_cast<std::uint32_t>(index.entries.size()));
  const std::string* previous = nullptr;
  for (const Entry& e : index.entries) {
    require(!e.file.empty() && e.file.size() <= kMaxFileNameBytes &&
                e.payload_size <= kMaxPayloadBytes && e.state <= EntryState::kRefused &&
                (previous == nullptr || *previous < e.file),
            NTE_INVALID_PARAMETER, "index: entry out of range or out of order");
    previous = &e.file;
    w.string(e.file);
    w.u64(e.identity.inode);
    w.u64(as_u64(e.identity.size));
    w.u64(as_u64(e.identity.mtime_ns));
    w.u64(as_u64(e.identity.ctime_ns));
    w.u32(static_cast<std::uint32_t>(e.state));
    w.bytes(index.payload(e));
  }
  store_codec::finish_envelope(out, kMaxFileBytes);
  return out;
}

namespace {

// Parses bytes; each entry's payload offset is relative to bytes.data().
Index parse(std::span<const std::uint8_t> bytes) {
  LeReader r(store_codec::open_envelope(bytes, kMagic, kVersion, kMaxFileBytes));
  Index index;
  index.kind = r.u32();
  index.dir.device = r.u64();
  index.dir.inode = r.u64();
  index.dir.mtime_ns = as_i64(r.u64());
  index.scanned_ns = as_i64(r.u64());
  const std::uint32_t count = r.u32();
  require(count <= kMaxEntries, NTE_BAD_DATA, "index: too many entries");
  // Each entry takes at least 45 bytes: a count the file cannot hold is refused before any
  // allocation.
  require(count <= r.remaining() / 45, NTE_BAD_DATA, "index: truncated");
  index.entries.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Entry& e = index.entries[i];
    e.file = r.string(1, kMaxFileNameBytes);
    require(i == 0 || index.entries[i - 1].file < e.file, NTE_BAD_DATA,
            "index: entries out of order");
    e.identity.inode = r.u64();
    e.identity.size = as_i64(r.u64());
    e.identity.mtime_ns = as_i64(r.u64());
    e.identity.ctime_ns = as_i64(r.u64());
    const std::uint32_t state = r.u32();
    require(state <= static_cast<std::uint32_t>(EntryState::kRefused), NTE_BAD_DATA,
            "index: unknown entry state");
    e.state = static_cast<EntryState>(state);
    const auto payload = r.bytes(kMaxPayloadBytes);
    e.payload_offset = static_cast<std::size_t>(payload.data() - bytes.data());
    e.payload_size = payload.size();
  }
  require(r.remaining() == 0, NTE_BAD_DATA, "index: trailing bytes");
  return index;
}

}  // namespace

Index decode(std::span<const std::uint8_t> bytes) {
  Index index = parse(bytes);
  std::size_t payload_bytes = 0;
  for (const Entry& e : index.entries) {
    payload_bytes += e.payload_size;
  }
  index.payloads.reserve(payload_bytes);
  for (Entry& e : index.entries) {
    const auto payload = bytes.subspan(e.payload_offset, e.payload_size);
    e.payload_offset = index.payloads.size();
    index.payloads.insert(index.payloads.end(), payload.begin(), payload.end());
  }
  return index;
}

Index decode(SecureBytes&& bytes) {
  Index index = parse(bytes);
  index.payloads = std::move(bytes);  // the payloads stay where they were read
  return index;
}

void reseal(std::span<std::uint8_t> bytes) { store_codec::reseal(bytes); }

}  // namespace cng::index_file

// ListingCache: what a store directory lists, without reading every file each time.
//
// Design notes (issue "Scale: 10,000 keys per scope").
// - Why an index and not a header-only key file layout: most of the cost of listing 10,000
//   key files is per-file system work that a cheaper parse does not remove. Measured on the
//   development VM (ext4, /tmp/s10k: 10,000 P-256 keys made by the module, warm page cache,
//   2 shared cores, so figures vary by 2x): readdir 2.4 ms; one fstatat per file 14-30 ms;
//   open + fstat + read of a 64-byte header + close per file 80-177 ms. A header-only layout
//   would still cost that last figure on every listing (and need a new key file version);
//   one index file read at once does not. CngEnumKeyListings of those 10,000 keys
//   (tests/ncrypt/key_listing_timing; CPU time, as the VM's load made wall time 2-4x that):
//   no index (every file read, index written) 368 ms; valid index in a fresh process
//   79-81 ms; index in memory 66-79 ms. Of that, reading and checking the 15.8 MB index is
//   ~10 ms: the rest is building the result, as the module persists 41 attributes per key as
//   custom properties (410,000 property strings and values, ~80 MB RSS for 10,000 keys).
//   1,000 keys: no index 28 ms, valid index fresh 7.5-7.8 ms, in memory 4.9-5.5 ms, 15 MB RSS.
// - Where: the index lives in a subdirectory ".listing-index" of the store directory, as the
//   file "index". Not beside the key files themselves: rewriting a file there would move the
//   store directory's mtime, the very stamp the index records, so each rewrite would make
//   the index stale at once. The subdirectory is created once (0700, the store's own rules);
//   its writes move only its own mtime. The index file is 0600 and read like any store file
//   (owner and mode checked: a foreign or loose index is not used, and is replaced).
// - What: per file of the store its name, identity (inode, size, mtime_ns, ctime_ns) and
//   either the store's summary of it (for keys: the record without the private blob) or why
//   it is left out (damaged or refused); plus the directory stamp (device, inode, mtime_ns)
//   and the time the scan began. Only a cache: the files stay the truth, and an index that is
//   stale, truncated, garbage, of another version, kind or directory is ignored and rebuilt.
// - Validity: every change the stores make to a directory is a create, rename or unlink in
//   it, which moves the directory's mtime. A reader stats the directory; when the stamp equals
//   the index's and the index's scan began more than kRacyWindow after that mtime, the index
//   is used as it is. Timestamps come from the kernel's coarse clock (see
//   module/objects/store_watch.h): a change within the same tick as the scan may leave the
//   mtime unchanged, so a "racy" index is not trusted but rescanned: readdir + fstatat per
//   entry; an entry whose identity is unchanged (and was not itself racy when recorded) is
//   reused, a new or changed file is read and summarized, a vanished one dropped.
// - Writers (store, update, remove) never touch the index: key generation stays O(1). The next
//   reader pays readdir + fstatat per file, only when something changed, and rewrites the
//   index (temporary file + rename, locked like every temporary file, so crash leftovers are
//   swept; not fsynced: a torn index fails its checksum). Best effort: a read-only store, or
//   one whose file system has less than 64 MiB or 4096 inodes to spare, just has no index (a
//   cache must never take the room a key needs). Concurrent rewriters are fine: each writes a
//   complete file.
// - In memory: the last index of each directory is kept per process (summaries only, no
//   private blobs), so a listing with an unchanged directory costs one fstat.
// - Limits: a file changed in place (not by rename), or whose owner or mode changed without
//   any change to the directory, keeps its entry until the directory changes. The stores
//   never write in place; opening a key (KeyStore::load) checks its file again, so nothing
//   private is used from an untrusted file. The stores that serve whole objects from the
//   listing (certificates, data objects) and the issue listings ask for kEveryFile: each
//   file's identity (which chmod and chown move, through ctime) is checked on every listing.
//   A clock stepped backwards by more than kRacyWindow can hide a change made meanwhile until
//   the directory changes again.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "store/index_file.h"
#include "store/store_dir.h"

namespace cng::store_index {

inline constexpr std::chrono::milliseconds kRacyWindow{50};
// The subdirectory and file name of the index in a store directory.
inline constexpr std::string_view kIndexDirectory = ".listing-index";
inline constexpr std::string_view kIndexFile = "index";

// What one kind of store puts into its index.
struct IndexSpec {
  std::uint32_t kind;                // recorded in the index; another kind's index is ignored
  bool (*accept)(std::string_view);  // the file names of this store
  std::size_t max_file_bytes;        // of one store file
  // The payload recorded for a well-formed file (file: its name); throws CngError
  // (NTE_BAD_DATA) for a damaged one.
  SecureBytes (*summarize)(const std::string& file, std::span<const std::uint8_t> bytes);
};

enum class Freshness {
  kDirectoryStamp,  // trust an index whose directory stamp is unchanged (and not racy)
  kEveryFile,       // also check each file's identity (readdir + fstatat per file)
};

// The current listing of the directory: the in-memory index, the index file or a rescan,
// whichever is valid first. Entries ascending by file name. Throws only what listing the
// directory throws (NTE_PERM when it cannot be read, ...); never for the index itself.
std::shared_ptr<const index_file::Index> current_listing(const store_io::StoreDirectory& dir,
                                                         const IndexSpec& spec,
                                                         Freshness freshness);

// Forgets this process's in-memory indexes (tests: a "fresh process" without forking).
void forget_in_memory_indexes();

}  // namespace cng::store_index

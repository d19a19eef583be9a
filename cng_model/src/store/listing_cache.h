// ListingCache: what a store directory lists, without reading every file each time.
//
// Design notes (issue "Scale: 10,000 keys per scope").
// - Why an index and not a header-only key file layout: most of the cost of listing 10,000
//   key files is per-file system work that a cheaper parse does not remove. Measured on the
//   development VM (ext4, 10,000 P-256 keys, warm page cache): readdir 2.4 ms; one fstatat per
//   file 14-30 ms; open + fstat + read of a 64-byte header + close per file 80-177 ms. A
//   header-only layout would still cost that last figure on every listing (and need a new key
//   file version); one index file read at once does not.
// - Measured cost of a cold start (bench/scale_probe on /dev/shm, a fresh process each:
//   C_Initialize, find the private key by label, sign, C_Finalize; RelWithDebInfo; 2 cores
//   shared with other builds at a load of 8-12, so the figures are the process's CPU time,
//   which the wall time equals when the cores are free and exceeds 1.5-3x under that load).
//   Store of N P-256 pairs made by the module, N = 1,000 / 10,000, before -> after:
//     index file                          1.6 MB / 16.3 MB   ->  0.63 MB / 6.3 MB
//     sign-one, to the label answered     9.5-11.5 / 114-133 ->  5.0-5.3 / 54-58 ms
//     sign-one, whole process             11.6-14.5 / 149-164 -> 7.2-7.8 / 69-78 ms
//     sign-one peak RSS                   12.1 / 39.4 MB     ->  11.6 / 28.1 MB
//     enumerate (every label read)        13.1-13.7 / 167-180 -> 7.6-8.0 / 86-102 ms
//     enumerate peak RSS                  11.9 / 39.5 MB     ->  10.7 / 28.1 MB
//   Empty token: 1 ms, 8.9 MB. Warm label lookup among 10,000 keys 4-6 us, hit or miss (as
//   before). Token P-256 keygen 288 -> 240 us CPU per pair. A store written before (41
//   properties per key) read by the new module: 88-96 ms, 37.8 MB at 10,000.
//   What moved the figures: (1) a generated key persists only the custom properties whose
//   value differs from what their absence reads as (module/objects/key_objects.h): 7 of 41 for
//   a P-256 pair, so key files, the index, and every listing's decode and fingerprint shrink
//   2.5x; (2) fewer allocations per key in the module: label and id indexes keyed by a digest
//   (one node per object), no set of listed names, property names built once, summaries
//   without the attributes their fields answer.
//   Then (same probe, old and new builds alternated, process CPU ms, 1,000 / 10,000 pairs):
//   summaries hold no attribute map (CKA_LABEL and CKA_ID in one block shared by a pair's
//   halves, CKA_PRIVATE in a field) and carry their key's name in one block per key instead
//   of a table of names by handle; the label, id and class indexes are flat open-addressing
//   tables (module/objects/handle_index.h) instead of a node per object; a refresh walks the
//   key table alongside the sorted new keys instead of searching it per key. About 20 fewer
//   heap blocks per pair.
//     sign-one, to the label answered     4.4-5.2 / 50-53  ->  4.0-4.5 / 37-43 ms
//     sign-one, whole process             6.2-7.1 / 64-69  ->  5.5-6.2 / 42-48 ms
//     sign-one peak RSS                   11.6 / 28.0 MB   ->  10.9 / 23.9 MB
//     enumerate                           6.5-7.2 / 71-83  ->  5.6-6.6 / 58-59 ms
//     enumerate peak RSS                  10.7 / 28.0 MB   ->  10.3 / 23.9 MB
//   What remains (perf, 10,000 keys, spread thin): page faults of fresh heap ~13%, malloc and
//   free ~12% (still an Object per half and its table node, the key's summary block and name,
//   the token key entry), sorting new keys by name ~5%, reading the listing's properties
//   (KeyProperties::get: a search and a copy per attribute) ~5%, the listing fingerprint ~4%,
//   decoding each listing ~5%, reading the index ~5%. The next steps: a flat per-key record
//   (no Object per summary; handles mapped to records), a listing visitor over views of the
//   index bytes (no per-key strings), summaries read without copies. A fingerprint from the
//   index entry's file identity alone is not sound: a key deleted and re-made under its name
//   within one clock tick can get the same inode, size and times (the index rescans such racy
//   entries; a caller comparing identities would not).
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
//   A caller that keeps its own view of the store (the PKCS#11 object layer, through
//   CngVisitKeyListings) asks for Retention::kDontKeep: the index then lives only while it
//   is read, so that its bytes and the caller's objects are not both held.
// - Limits: a file changed in place (not by rename), or whose owner or mode changed without
//   any change to the directory, keeps its entry until the directory changes. The stores
//   never write in place; opening a key (KeyStore::load) checks its file again, so nothing
//   private is used from an untrusted file. The certificate and data stores (whose listings
//   carry summaries: every field but the value) and the issue listings ask for kEveryFile: each
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

using store_io::kRacyWindow;  // store_dir.h
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

enum class Retention {
  kKeep,     // the index read or rescanned becomes the process's in-memory index
  kDontKeep  // it lives only as long as the caller holds it (a caller that keeps its own view
             // of the store, and reads again only when the directory changed, would otherwise
             // hold the index's bytes twice: for 10,000 keys 16 MB on top of its own objects)
};

// The current listing of the directory: the in-memory index, the index file or a rescan,
// whichever is valid first. Entries ascending by file name. Throws only what listing the
// directory throws (NTE_PERM when it cannot be read, ...); never for the index itself.
std::shared_ptr<const index_file::Index> current_listing(const store_io::StoreDirectory& dir,
                                                         const IndexSpec& spec, Freshness freshness,
                                                         Retention retention = Retention::kKeep);

// Forgets this process's in-memory indexes (tests: a "fresh process" without forking).
void forget_in_memory_indexes();

}  // namespace cng::store_index

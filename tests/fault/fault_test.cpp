// Fault injection for the store: for each operation that writes it, count the file-system calls
// the operation makes on the store (fault_shim.c, count-only run), then run it once per call N
// and per errno with the Nth call failing, each in a fresh child over a copy of one template
// store, and check: the status the PKCS#11 3.0 specification (CKR_DEVICE_MEMORY, CKR_DEVICE_ERROR,
// CKR_TOKEN_WRITE_PROTECTED) or the store's errno table (NTE_*) gives for that errno, or success
// for EINTR (retried); a state that is the old or the new one, read by a second process (keys
// sign and verify with OpenSSL); no temporary file left; another key still signs afterwards.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"
#include "spawn.h"

namespace fault {
namespace {

namespace fs = std::filesystem;

struct ErrnoCase {
  const char* name;
  SECURITY_STATUS status;  // through NCrypt: cng_model's errno table
  CK_RV rv;                // through PKCS#11
};

constexpr ErrnoCase kErrnos[] = {
    {"ENOSPC", NTE_TOKEN_KEYSET_STORAGE_FULL, CKR_DEVICE_MEMORY},
    {"EIO", NTE_SYS_ERR, CKR_DEVICE_ERROR},
    {"EROFS", NTE_PERM, CKR_TOKEN_WRITE_PROTECTED},
    {"EACCES", NTE_PERM, CKR_TOKEN_WRITE_PROTECTED},
    {"EINTR", ERROR_SUCCESS, CKR_OK},  // must be retried
};

bool is_ncrypt(const std::string& op) { return op.starts_with("nc_"); }

unsigned long expected_code(const std::string& op, const ErrnoCase& e) {
  return is_ncrypt(op) ? static_cast<std::uint32_t>(e.status) : e.rv;
}

// Temporary files of the store and of the slot's writability probe, anywhere under dir.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".tmp-") || name.starts_with(".cng-pkcs11-probe-")) {
      out.push_back(fs::relative(entry.path(), dir).string());
    }
  }
  return out;
}

// Calls whose failure need not fail the operation: the deletion of a temporary file (a
// probe's, or one a failed write leaves: the outcome is already decided), and the slot's
// writability probe, which only asks whether the store is write protected (EACCES, EPERM,
// EROFS): any other failure there is no answer, and the write itself then reports its own.
// A probe left behind is swept by the next process's probe once its pid no longer runs.
bool is_cleanup(const std::string& fired) {
  return fired.starts_with("unlinkat(.tmp-") || fired.starts_with("unlink(.tmp-") ||
         fired.starts_with("unlink(.cng-pkcs11-probe-");
}

// after_commit: the call comes after the rename that made the change (the new file was flushed
// before it): closing the temporary file's descriptor then cannot lose anything, and reporting
// a failure for a change that is on disk would be wrong.
bool may_succeed(const std::string& fired, const ErrnoCase& e, bool after_commit) {
  const bool slot_probe = fired.starts_with("open(.cng-pkcs11-probe-") ||
                          fired.starts_with("mkdir(.cng-pkcs11-probes)");
  return is_cleanup(fired) || (after_commit && fired.starts_with("close(")) ||
         (slot_probe && std::string(e.name) != "EROFS" && std::string(e.name) != "EACCES");
}

bool cleanup_of(const std::string& fired, const std::string& left) {
  const std::string name = fs::path(left).filename().string();
  return is_cleanup(fired) && fired.find("(" + name + ")") != std::string::npos;
}

class FaultTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cng-fault-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    const Outcome setup = run_child({"setup", root_.string()}, {});
    ASSERT_EQ(setup.exit_code, 0) << setup.output;
  }
  void TearDown() override { fs::remove_all(root_); }

  // A copy of the template store at root/<name>.
  fs::path fresh_store(const std::string& name) {
    const fs::path run = root_ / name;
    fs::copy(root_ / "template", run, fs::copy_options::recursive);
    return run;
  }

  // The operation on run's store with the Nth watched call failing (0: count only).
  std::map<std::string, std::string> run_op(const fs::path& run, long n, const char* err) {
    const Outcome out = run_child({"op", root_.string(), GetParam()},
                                  {{"CNG_PKCS11_USER_DIR", (run / "user").string()},
                                   {"CNG_PKCS11_MACHINE_DIR", (run / "machine").string()},
                                   {"FAULT_PATH", (run / "user").string()},
                                   {"FAULT_AT", std::to_string(n)},
                                   {"FAULT_ERRNO", err}},
                                  true);
    auto kv = parse_key_values(out.output);
    if (out.exit_code != 0) {
      kv["after"] = "child exit " + std::to_string(out.exit_code) + ": " + out.output;
    }
    return kv;
  }

  // The state of each run's store, read by one more process.
  std::vector<std::string> states(const std::vector<fs::path>& runs) {
    std::vector<std::string> args = {"verify", root_.string()};
    for (const auto& r : runs) {
      args.push_back(r.string());
    }
    const Outcome out = run_child(args, {});
    EXPECT_EQ(out.exit_code, 0) << out.output;
    auto kv = parse_key_values(out.output);
    std::vector<std::string> result;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      result.push_back(kv["state." + std::to_string(i)]);
    }
    return result;
  }

  fs::path root_;
};

TEST_P(FaultTest, EveryFaultPointGivesTheSpecifiedErrorAndLeavesTheStoreWhole) {
  const std::string op = GetParam();
  // Count-only run: the fault points, and the state after a successful operation.
  const fs::path clean = fresh_store("clean");
  auto counted = run_op(clean, 0, "EIO");
  ASSERT_EQ(counted["rv"], "0") << "the operation fails without a fault";
  ASSERT_EQ(counted["after"], "ok");
  const long points = std::stol(counted["calls"]);
  ASSERT_GT(points, 0) << "no watched call: the shim is not in place";
  const auto reference = states({root_ / "template", clean});
  const std::string& before = reference[0];
  const std::string& after = reference[1];
  ASSERT_NE(before, after) << "the operation changed nothing: " << before;
  ASSERT_EQ(before.find("BROKEN"), std::string::npos) << before;
  ASSERT_EQ(after.find("BROKEN"), std::string::npos) << after;

  struct Run {
    long n;
    const ErrnoCase* e;
    fs::path dir;
    std::map<std::string, std::string> result;
  };
  std::vector<Run> runs;
  for (long n = 1; n <= points; ++n) {
    for (const ErrnoCase& e : kErrnos) {
      Run r{n, &e, fresh_store("run-" + std::to_string(n) + "-" + e.name), {}};
      r.result = run_op(r.dir, n, e.name);
      runs.push_back(std::move(r));
    }
  }
  // A fault on the deletion of a temporary file leaves that file: it must be the only one, and
  // the next listing must sweep it once stale (aged here past kStaleTempSeconds).
  std::vector<fs::path> dirs;
  std::vector<std::string> left_before(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    Run& r = runs[i];
    dirs.push_back(r.dir);
    for (const auto& left : leftovers(r.dir)) {
      if (cleanup_of(r.result["fired"], left)) {
        fs::last_write_time(r.dir / left, fs::file_time_type::clock::now() - std::chrono::hours(1));
      } else {
        left_before[i] += " left " + left + ";";
      }
    }
  }
  const auto seen = states(dirs);
  std::vector<std::string> points_seen(static_cast<std::size_t>(points) + 1);
  for (const Run& r : runs) {
    points_seen[static_cast<std::size_t>(r.n)] = r.result.at("fired");
  }
  // The first rename (or link) of the counted sequence commits the change.
  long commit = points + 1;
  for (long n = points; n >= 1; --n) {
    const std::string& f = points_seen[static_cast<std::size_t>(n)];
    if (f.starts_with("rename") || f.starts_with("link")) {
      commit = n;
    }
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    Run& r = runs[i];
    std::string problems;
    const std::string want = std::to_string(expected_code(op, *r.e));
    const std::string& rv = r.result["rv"];
    if (rv != want && !(rv == "0" && may_succeed(r.result["fired"], *r.e, r.n > commit))) {
      problems += " returned " + rv + " instead of " + want + ";";
    }
    if (r.result["after"] != "ok") {
      problems += " another key no longer signs (" + r.result["after"] + ");";
    }
    if (seen[i] != before && seen[i] != after) {
      problems += " the store is neither the old nor the new state: " + seen[i] + ";";
    } else if (rv == "0" && seen[i] != after) {
      problems += " success reported, the change is missing;";
    }
    problems += left_before[i];
    for (const auto& left : leftovers(r.dir)) {
      problems += " " + left + " not swept by a listing;";
    }
    if (!problems.empty()) {
      ADD_FAILURE() << op << " fault " << r.n << "/" << points << " " << r.e->name << " at "
                    << r.result["fired"] << ":" << problems;
    }
  }
  std::cout << "[fault] " << op << " fault points:";
  for (long n = 1; n <= points; ++n) {
    std::cout << " " << n << "=" << points_seen[static_cast<std::size_t>(n)];
  }
  std::cout << "\n";
  std::cout << "[fault] " << op << ": " << points << " fault points x " << std::size(kErrnos)
            << " errnos = " << runs.size() << " runs\n";
}

INSTANTIATE_TEST_SUITE_P(Store, FaultTest,
                         ::testing::Values("nc_create", "nc_overwrite", "nc_property", "nc_delete",
                                           "p11_generate", "p11_label", "p11_destroy", "p11_cert",
                                           "p11_data", "p11_destroy_cert", "p11_destroy_data"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param);
                         });

// A store on a read-only mount: every modifying call fails with EROFS (the writability probe
// first). The token says CKF_WRITE_PROTECTED, refuses read/write sessions, still reads.
TEST(ReadOnlyStore, TokenIsWriteProtectedAndStillReadable) {
  const fs::path root = fs::temp_directory_path() / ("cng-fault-ro-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  ASSERT_EQ(run_child({"setup", root.string()}, {}).exit_code, 0);
  const fs::path store = root / "template";
  const Outcome out = run_child({"readonly"},
                                {{"CNG_PKCS11_USER_DIR", (store / "user").string()},
                                 {"CNG_PKCS11_MACHINE_DIR", (store / "machine").string()},
                                 {"FAULT_PATH", (store / "user").string()},
                                 {"FAULT_READONLY", "1"},
                                 {"FAULT_ARMED", "1"},
                                 {"FAULT_ERRNO", "EROFS"}},
                                true);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto kv = parse_key_values(out.output);
  EXPECT_EQ(kv["init"], "0");
  EXPECT_EQ(kv["tokeninfo"], "0");
  EXPECT_EQ(kv["write_protected"], "1");
  EXPECT_EQ(kv["open_rw"], std::to_string(CKR_TOKEN_WRITE_PROTECTED));
  EXPECT_EQ(kv["open_ro"], "0");
  EXPECT_EQ(kv["objects"], "6") << "2 key pairs, a certificate and a data object";
  EXPECT_EQ(kv["nc_create"], std::to_string(static_cast<std::uint32_t>(NTE_PERM)));
  EXPECT_EQ(leftovers(store), std::vector<std::string>{});
  fs::remove_all(root);
}

}  // namespace
}  // namespace fault

// Entry point of ncrypt_process_tests: the GoogleTest runner, or one of the child modes the
// tests start (`--child create-loop | race NAME | perm`).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ncrypt.h"
#include "process_support.h"

namespace ncrypt_test {

namespace {

void report(const char* key, SECURITY_STATUS status) {
  std::printf("%s=0x%08X\n", key, static_cast<unsigned>(status));
  std::fflush(stdout);
}

// Creates and overwrites persisted keys forever (until SIGKILLed), also rewriting a persisted
// custom property, so that kills land inside every kind of key file write.
int create_loop() {
  NCRYPT_PROV_HANDLE provider = 0;
  if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
    return 2;
  }
  std::printf("ready=0x0\n");
  std::fflush(stdout);
  for (unsigned i = 0;; ++i) {
    const std::u16string name = u"crash-" + std::u16string(1, static_cast<char16_t>(u'0' + i % 4));
    NCRYPT_KEY_HANDLE key = 0;
    if (NCryptCreatePersistedKey(provider, &key, u"ECDSA_P256", name.c_str(), 0,
                                 NCRYPT_OVERWRITE_KEY_FLAG) != ERROR_SUCCESS) {
      return 3;
    }
    if (NCryptFinalizeKey(key, 0) != ERROR_SUCCESS) {
      return 4;
    }
    DWORD counter = i;
    (void)NCryptSetProperty(key, u"Counter", reinterpret_cast<PBYTE>(&counter), sizeof counter,
                            NCRYPT_PERSIST_FLAG);
    NCryptFreeObject(key);
    std::printf("created=%u\n", i);  // the parent may wait for a first whole key
    std::fflush(stdout);
  }
}

// Waits for the go signal (stdin closed), then creates and finalizes NAME without overwrite.
int race(const char* name_utf8) {
  NCRYPT_PROV_HANDLE provider = 0;
  if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
    return 2;
  }
  const std::u16string name(name_utf8, name_utf8 + std::strlen(name_utf8));
  char go = 0;
  if (::read(STDIN_FILENO, &go, 1) < 0) {
    return 5;
  }
  NCRYPT_KEY_HANDLE key = 0;
  const SECURITY_STATUS create =
      NCryptCreatePersistedKey(provider, &key, u"ECDSA_P256", name.c_str(), 0, 0);
  report("create", create);
  if (create == ERROR_SUCCESS) {
    report("finalize", NCryptFinalizeKey(key, 0));
    NCryptFreeObject(key);
  }
  return 0;
}

// Runs as an unprivileged user against stores owned by root (see PermissionTest).
int perm() {
  NCRYPT_PROV_HANDLE provider = 0;
  report("open_provider", NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0));
  NCRYPT_KEY_HANDLE key = 0;
  report("create_machine", NCryptCreatePersistedKey(provider, &key, u"ECDSA_P256", u"intruder", 0,
                                                    NCRYPT_MACHINE_KEY_FLAG));
  report("create_user", NCryptCreatePersistedKey(provider, &key, u"ECDSA_P256", u"intruder", 0, 0));
  report("open_user", NCryptOpenKey(provider, &key, u"root-user-key", 0, 0));
  report("open_machine_private",
         NCryptOpenKey(provider, &key, u"root-private-key", 0, NCRYPT_MACHINE_KEY_FLAG));
  const SECURITY_STATUS open_readable =
      NCryptOpenKey(provider, &key, u"root-readable-key", 0, NCRYPT_MACHINE_KEY_FLAG);
  report("open_machine_readable", open_readable);
  if (open_readable == ERROR_SUCCESS) {
    report("delete_machine_readable", NCryptDeleteKey(key, 0));
  }
  return 0;
}

}  // namespace

int run_child(int argc, char** argv) {
  const std::string mode = argc > 2 ? argv[2] : "";
  if (mode == "create-loop") {
    return create_loop();
  }
  if (mode == "race" && argc > 3) {
    return race(argv[3]);
  }
  if (mode == "perm") {
    return perm();
  }
  return 64;
}

}  // namespace ncrypt_test

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0) {
    return ncrypt_test::run_child(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

/* Fault-injection shim for the store tests, loaded with LD_PRELOAD into a test child.
 *
 * Why a preloaded shim rather than a file-system interface inside cng_model: the store's
 * production code stays exactly what ships (no indirection on every file call, nothing that a
 * Windows build of module/ and slots/ would have to carry), and the faults also reach the
 * calls made outside cng_model (the slot's writability probe in slots/, libstdc++'s
 * std::filesystem). The price is Linux/glibc specificity, which is fine for a test seam.
 *
 * It interposes the calls that change a directory or a file's content (open/openat and their
 * 64-bit and fortified names, write, pwrite, fsync, fdatasync, fchmod, close of a descriptor
 * written to, rename, renameat,
 * renameat2, link, linkat, unlink, unlinkat, mkdir, mkdirat, rmdir). Only calls on a path
 * under FAULT_PATH, or on a descriptor opened there, are looked at; everything else passes
 * through untouched. Control (environment, read once at load):
 *   FAULT_PATH   the store directory (required; without it the shim is inert)
 *   FAULT_AT     N > 0: the Nth counted call fails; 0: count only
 *   FAULT_ERRNO  ENOSPC, EIO, EROFS, EACCES, EPERM, EINTR, EDQUOT or a number
 *   FAULT_READONLY=1  every modifying call fails with FAULT_ERRNO (a read-only mount)
 *   FAULT_ARMED=1     counting starts at load (otherwise at fault_shim_arm())
 * A failed call is not performed (close() is: Linux releases the descriptor even when close
 * reports an error). The child reads the outcome through fault_shim_calls() and
 * fault_shim_fired(), found with dlsym(RTLD_DEFAULT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_TRACKED_FD 65536

static char g_prefix[PATH_MAX];
static size_t g_prefix_len;
static long g_fault_at;
static int g_errno = EIO;
static int g_readonly;
static atomic_int g_armed;
static atomic_long g_calls;
static char g_fired[512];
/* Descriptors opened under the prefix: kWatched, plus kWritten once written to (only those
 * count at close(), where a deferred write error can surface). */
enum { kWatched = 1, kWritten = 2 };
static atomic_uchar g_tracked[MAX_TRACKED_FD];

static int errno_from_name(const char* name) {
  static const struct {
    const char* name;
    int value;
  } kNames[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},     {"EROFS", EROFS},  {"EACCES", EACCES},
                {"EPERM", EPERM},   {"EINTR", EINTR}, {"EDQUOT", EDQUOT}};
  for (size_t i = 0; i < sizeof kNames / sizeof kNames[0]; ++i) {
    if (strcmp(kNames[i].name, name) == 0) {
      return kNames[i].value;
    }
  }
  const int value = atoi(name);
  return value > 0 ? value : EIO;
}

__attribute__((constructor)) static void fault_shim_init(void) {
  const char* prefix = getenv("FAULT_PATH");
  if (prefix == NULL || prefix[0] != '/' || strlen(prefix) >= sizeof g_prefix) {
    return;
  }
  strcpy(g_prefix, prefix);
  g_prefix_len = strlen(g_prefix);
  while (g_prefix_len > 1 && g_prefix[g_prefix_len - 1] == '/') {
    g_prefix[--g_prefix_len] = '\0';
  }
  const char* at = getenv("FAULT_AT");
  g_fault_at = at != NULL ? atol(at) : 0;
  const char* err = getenv("FAULT_ERRNO");
  if (err != NULL) {
    g_errno = errno_from_name(err);
  }
  const char* readonly = getenv("FAULT_READONLY");
  g_readonly = readonly != NULL && strcmp(readonly, "1") == 0;
  const char* armed = getenv("FAULT_ARMED");
  atomic_store(&g_armed, armed != NULL && strcmp(armed, "1") == 0);
}

EXPORT void fault_shim_arm(int on) { atomic_store(&g_armed, on); }
EXPORT long fault_shim_calls(void) { return atomic_load(&g_calls); }
EXPORT const char* fault_shim_fired(void) { return g_fired; }

static int under_prefix_abs(const char* path) {
  return strncmp(path, g_prefix, g_prefix_len) == 0 &&
         (path[g_prefix_len] == '/' || path[g_prefix_len] == '\0');
}

static int fd_tracked(int fd) { return fd >= 0 && fd < MAX_TRACKED_FD && g_tracked[fd]; }

static int path_watched(int dirfd, const char* path) {
  if (g_prefix_len == 0 || path == NULL) {
    return 0;
  }
  if (path[0] == '/') {
    return under_prefix_abs(path);
  }
  if (dirfd != AT_FDCWD) {
    return fd_tracked(dirfd);
  }
  char cwd[PATH_MAX];
  return getcwd(cwd, sizeof cwd) != NULL && under_prefix_abs(cwd);
}

static void set_tracked(int fd, int bits) {
  if (fd >= 0 && fd < MAX_TRACKED_FD) {
    atomic_store(&g_tracked[fd], (unsigned char)bits);
  }
}

static void mark_written(int fd, ssize_t result) {
  if (result > 0 && fd_tracked(fd)) {
    atomic_fetch_or(&g_tracked[fd], kWritten);
  }
}

/* Decides for one watched call; on failure sets errno and returns 1. */
static int inject(const char* fn, const char* what, int modifying) {
  if (!atomic_load(&g_armed)) {
    return 0;
  }
  if (g_readonly) {
    if (!modifying) {
      return 0;
    }
  } else {
    const long n = atomic_fetch_add(&g_calls, 1) + 1;
    if (g_fault_at <= 0 || n != g_fault_at) {
      return 0;
    }
  }
  const char* base = what != NULL ? strrchr(what, '/') : NULL;
  snprintf(g_fired, sizeof g_fired, "%s(%s)", fn, base != NULL ? base + 1 : (what ? what : ""));
  errno = g_errno;
  return 1;
}

static void fd_name(int fd, char* out, size_t size) { snprintf(out, size, "fd %d", fd); }

#define REAL(name, type)                         \
  static type real_##name;                       \
  if (real_##name == NULL) {                     \
    real_##name = (type)dlsym(RTLD_NEXT, #name); \
  }

static int modifying_open(int flags) {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) != 0 ? (mode_t)va_arg(ap, int) : 0;
}

/* One body for every open name: dirfd AT_FDCWD for the path-only forms. */
#define OPEN_BODY(fn, dirfd, path, flags, call)             \
  const int watched = path_watched(dirfd, path);            \
  if (watched && inject(fn, path, modifying_open(flags))) { \
    return -1;                                              \
  }                                                         \
  const int fd = call;                                      \
  set_tracked(fd, watched ? kWatched : 0);                  \
  return fd;

typedef int (*open_fn)(const char*, int, ...);
typedef int (*openat_fn)(int, const char*, int, ...);
typedef int (*open2_fn)(const char*, int);
typedef int (*openat2_fn)(int, const char*, int);

EXPORT int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  REAL(open, open_fn);
  OPEN_BODY("open", AT_FDCWD, path, flags, real_open(path, flags, mode));
}

EXPORT int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  REAL(open64, open_fn);
  OPEN_BODY("open", AT_FDCWD, path, flags, real_open64(path, flags, mode));
}

EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  REAL(openat, openat_fn);
  OPEN_BODY("openat", dirfd, path, flags, real_openat(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  REAL(openat64, openat_fn);
  OPEN_BODY("openat", dirfd, path, flags, real_openat64(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE builds call these for an open without a mode. */
EXPORT int __open_2(const char* path, int flags) {
  REAL(__open_2, open2_fn);
  OPEN_BODY("open", AT_FDCWD, path, flags, real___open_2(path, flags));
}

EXPORT int __open64_2(const char* path, int flags) {
  REAL(__open64_2, open2_fn);
  OPEN_BODY("open", AT_FDCWD, path, flags, real___open64_2(path, flags));
}

EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  REAL(__openat_2, openat2_fn);
  OPEN_BODY("openat", dirfd, path, flags, real___openat_2(dirfd, path, flags));
}

EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  REAL(__openat64_2, openat2_fn);
  OPEN_BODY("openat", dirfd, path, flags, real___openat64_2(dirfd, path, flags));
}

/* Descriptor calls: fault only descriptors opened under the prefix. */
#define FD_GUARD(fn, fd, modifying)     \
  if (fd_tracked(fd)) {                 \
    char what_[32];                     \
    fd_name(fd, what_, sizeof what_);   \
    if (inject(fn, what_, modifying)) { \
      return -1;                        \
    }                                   \
  }

typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef int (*fd_fn)(int);
typedef int (*fchmod_fn)(int, mode_t);

EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write, write_fn);
  FD_GUARD("write", fd, 1);
  const ssize_t n = real_write(fd, buf, count);
  mark_written(fd, n);
  return n;
}

EXPORT ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite, pwrite_fn);
  FD_GUARD("pwrite", fd, 1);
  const ssize_t n = real_pwrite(fd, buf, count, offset);
  mark_written(fd, n);
  return n;
}

EXPORT ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite64, pwrite_fn);
  FD_GUARD("pwrite", fd, 1);
  const ssize_t n = real_pwrite64(fd, buf, count, offset);
  mark_written(fd, n);
  return n;
}

EXPORT int fsync(int fd) {
  REAL(fsync, fd_fn);
  FD_GUARD("fsync", fd, 0);
  return real_fsync(fd);
}

EXPORT int fdatasync(int fd) {
  REAL(fdatasync, fd_fn);
  FD_GUARD("fdatasync", fd, 0);
  return real_fdatasync(fd);
}

EXPORT int fchmod(int fd, mode_t mode) {
  REAL(fchmod, fchmod_fn);
  FD_GUARD("fchmod", fd, 1);
  return real_fchmod(fd, mode);
}

EXPORT int close(int fd) {
  REAL(close, fd_fn);
  const int written = fd >= 0 && fd < MAX_TRACKED_FD && (g_tracked[fd] & kWritten);
  set_tracked(fd, 0);
  if (written) {
    char what[32];
    fd_name(fd, what, sizeof what);
    if (inject("close", what, 0)) {
      const int err = errno;
      (void)real_close(fd); /* the descriptor is gone whatever close() reports */
      errno = err;
      return -1;
    }
  }
  return real_close(fd);
}

/* Path calls. */
typedef int (*rename_fn)(const char*, const char*);
typedef int (*renameat_fn)(int, const char*, int, const char*);
typedef int (*renameat2_fn)(int, const char*, int, const char*, unsigned);
typedef int (*linkat_fn)(int, const char*, int, const char*, int);
typedef int (*path_fn)(const char*);
typedef int (*unlinkat_fn)(int, const char*, int);
typedef int (*mkdir_fn)(const char*, mode_t);
typedef int (*mkdirat_fn)(int, const char*, mode_t);

#define PATH_GUARD(fn, dirfd, path)                       \
  if (path_watched(dirfd, path) && inject(fn, path, 1)) { \
    return -1;                                            \
  }
#define PATH2_GUARD(fn, olddirfd, oldpath, newdirfd, newpath)                 \
  if ((path_watched(olddirfd, oldpath) || path_watched(newdirfd, newpath)) && \
      inject(fn, newpath, 1)) {                                               \
    return -1;                                                                \
  }

EXPORT int rename(const char* oldpath, const char* newpath) {
  REAL(rename, rename_fn);
  PATH2_GUARD("rename", AT_FDCWD, oldpath, AT_FDCWD, newpath);
  return real_rename(oldpath, newpath);
}

EXPORT int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) {
  REAL(renameat, renameat_fn);
  PATH2_GUARD("renameat", olddirfd, oldpath, newdirfd, newpath);
  return real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

EXPORT int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                     unsigned flags) {
  REAL(renameat2, renameat2_fn);
  PATH2_GUARD("renameat2", olddirfd, oldpath, newdirfd, newpath);
  return real_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

EXPORT int link(const char* oldpath, const char* newpath) {
  REAL(link, rename_fn);
  PATH2_GUARD("link", AT_FDCWD, oldpath, AT_FDCWD, newpath);
  return real_link(oldpath, newpath);
}

EXPORT int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  REAL(linkat, linkat_fn);
  PATH2_GUARD("linkat", olddirfd, oldpath, newdirfd, newpath);
  return real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

EXPORT int unlink(const char* path) {
  REAL(unlink, path_fn);
  PATH_GUARD("unlink", AT_FDCWD, path);
  return real_unlink(path);
}

EXPORT int unlinkat(int dirfd, const char* path, int flags) {
  REAL(unlinkat, unlinkat_fn);
  PATH_GUARD("unlinkat", dirfd, path);
  return real_unlinkat(dirfd, path, flags);
}

EXPORT int rmdir(const char* path) {
  REAL(rmdir, path_fn);
  PATH_GUARD("rmdir", AT_FDCWD, path);
  return real_rmdir(path);
}

EXPORT int mkdir(const char* path, mode_t mode) {
  REAL(mkdir, mkdir_fn);
  PATH_GUARD("mkdir", AT_FDCWD, path);
  return real_mkdir(path, mode);
}

EXPORT int mkdirat(int dirfd, const char* path, mode_t mode) {
  REAL(mkdirat, mkdirat_fn);
  PATH_GUARD("mkdirat", dirfd, path);
  return real_mkdirat(dirfd, path, mode);
}

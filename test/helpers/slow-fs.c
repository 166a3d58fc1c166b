/*
 * A slow disk for tests, as an LD_PRELOAD library (built by slow-fs.ts). For files under
 * $SLOWFS_DIR it delays fsync(2) and fdatasync(2) (and, if asked, write(2)/pwrite(2)) by the
 * number of milliseconds in the control file $SLOWFS_CTL, read at every call, so a test can make
 * the disk slow and fast again while the process runs:
 *
 *   echo 300 > ctl        every fsync/fdatasync under the directory takes 300 ms more
 *   echo "300 20" > ctl   … and every write/pwrite 20 ms more
 *   echo 0 > ctl          fast again (a missing or unreadable file means 0 too)
 *   echo "0 0 -wal" > ctl every fsync/fdatasync of a file under the directory whose path ends
 *                         in "-wal" fails with EIO, without syncing (a failing disk, as the
 *                         kernel reports it after losing a write-back); logged as "<call>-eio"
 *
 * Each delayed call appends "<pid> <call> <ms>\n" to $SLOWFS_LOG when it is set, so a test can
 * prove the slowness reached the process it meant (an LD_PRELOAD that silently did not load would
 * otherwise make every slow-disk test pass for nothing). The call itself then runs unchanged: the
 * data is written and synced as usual, only later.
 *
 * Only libc's entry points are interposed: a program that issues the system call itself is not
 * slowed down (SQLite, Node/libuv and PostgreSQL all go through libc).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

/* Raw system calls for our own I/O: never through the interposed functions. */
static ssize_t raw_read(int fd, void *buf, size_t n) { return syscall(SYS_read, fd, buf, n); }
static ssize_t raw_write(int fd, const void *buf, size_t n) { return syscall(SYS_write, fd, buf, n); }
static int raw_open(const char *path, int flags, int mode) { return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode); }
static int raw_close(int fd) { return (int)syscall(SYS_close, fd); }

/* The path suffix whose syncs fail (third field of the control file), "" for none. Per thread:
 * read_delays clears and refills it at every call, and a write on one thread (the main thread's
 * WAL frames) must not clear it under an fsync on another (libuv's pool) that is testing it. */
static __thread char fail_suffix[64];

/* The delays now: [0] fsync/fdatasync, [1] write/pwrite, in ms; and fail_suffix. */
static void read_delays(long delays[2]) {
  delays[0] = delays[1] = 0;
  fail_suffix[0] = '\0';
  const char *ctl = getenv("SLOWFS_CTL");
  if (!ctl) return;
  int fd = raw_open(ctl, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return;
  char buf[64];
  ssize_t n = raw_read(fd, buf, sizeof buf - 1);
  raw_close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  char *end;
  delays[0] = strtol(buf, &end, 10);
  delays[1] = strtol(end, &end, 10);
  (void)sscanf(end, " %63s", fail_suffix);
  if (delays[0] < 0) delays[0] = 0;
  if (delays[1] < 0) delays[1] = 0;
}

/* True when fd is a file under $SLOWFS_DIR (and its path ends in `suffix`, when not NULL). */
static int under_dir_with(int fd, const char *suffix) {
  const char *dir = getenv("SLOWFS_DIR");
  if (!dir || !*dir) return 0;
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  size_t len = strlen(dir);
  if (strncmp(target, dir, len) != 0 || (target[len] != '/' && target[len] != '\0')) return 0;
  if (!suffix) return 1;
  size_t tl = (size_t)n, sl = strlen(suffix);
  return tl >= sl && strcmp(target + tl - sl, suffix) == 0;
}

static int under_dir(int fd) { return under_dir_with(fd, NULL); }

static void note(const char *call, long ms) {
  const char *log = getenv("SLOWFS_LOG");
  if (!log) return;
  int fd = raw_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return;
  char line[96];
  int n = snprintf(line, sizeof line, "%d %s %ld\n", (int)getpid(), call, ms);
  if (n > 0) (void)raw_write(fd, line, (size_t)n);
  raw_close(fd);
}

/* Sleeps the configured delay (kind 0: sync, 1: write) when fd is under the directory; for a
 * sync, 1 when it must fail instead (the fail suffix matches). */
static int maybe_delay(int fd, int kind, const char *call) {
  int saved = errno;
  long delays[2];
  read_delays(delays);
  if (kind == 0 && fail_suffix[0] && under_dir_with(fd, fail_suffix)) {
    char name[32];
    snprintf(name, sizeof name, "%s-eio", call);
    note(name, 0);
    errno = saved;
    return 1;
  }
  if (delays[kind] > 0 && under_dir(fd)) {
    struct timespec ts = { delays[kind] / 1000, (delays[kind] % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
    note(call, delays[kind]);
  }
  errno = saved;
  return 0;
}

static void *next(const char *name) { return dlsym(RTLD_NEXT, name); }

int fsync(int fd) {
  static sync_fn real;
  if (!real) real = (sync_fn)next("fsync");
  if (maybe_delay(fd, 0, "fsync")) { errno = EIO; return -1; }
  return real(fd);
}

int fdatasync(int fd) {
  static sync_fn real;
  if (!real) real = (sync_fn)next("fdatasync");
  if (maybe_delay(fd, 0, "fdatasync")) { errno = EIO; return -1; }
  return real(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
  static write_fn real;
  if (!real) real = (write_fn)next("write");
  if (fd > 2) maybe_delay(fd, 1, "write");
  return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  static pwrite_fn real;
  if (!real) real = (pwrite_fn)next("pwrite");
  maybe_delay(fd, 1, "pwrite");
  return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  static pwrite_fn real;
  if (!real) real = (pwrite_fn)next("pwrite64");
  maybe_delay(fd, 1, "pwrite64");
  return real(fd, buf, n, off);
}

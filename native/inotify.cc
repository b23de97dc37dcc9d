// Thin Node-API binding to Linux inotify: the syscalls and the batching live here, every policy
// decision (what to watch, how to read a record, what an event means) lives in TypeScript.
#include <napi.h>
#include <uv.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace {

// Builds an Error shaped like Node's own fs errors, so callers can switch on err.code.
// (Errors of a path are built in TypeScript from the errno a batch returns: see syscallError.)
Napi::Error SyscallError(Napi::Env env, int err, const char* syscall) {
  std::string message = std::string(uv_err_name(-err)) + ": " + strerror(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, uv_err_name(-err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}
template <typename E = Napi::Error> Napi::Value Throw(Napi::Env env, const char* message) { E::New(env, message).ThrowAsJavaScriptException(); return env.Undefined(); }

// A read needs room for at least one record with the longest name (NAME_MAX + 1 + header).
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxBatchBytes = 4 * 1024 * 1024;

// The first argument, a Buffer of NUL-terminated paths, split; the next ones numbers. False with a TypeError thrown.
bool PathsArg(const Napi::CallbackInfo& info, size_t args, const char* usage, std::vector<const char*>* paths) {
  bool valid = info.Length() >= args && info[0].IsBuffer();
  for (size_t i = 1; valid && i < args; i++) valid = info[i].IsNumber();
  Napi::Buffer<char> buffer = valid ? info[0].As<Napi::Buffer<char>>() : Napi::Buffer<char>();
  if (!valid || (buffer.Length() > 0 && buffer.Data()[buffer.Length() - 1] != '\0')) {
    Napi::TypeError::New(info.Env(), std::string(usage) + ": paths must be a Buffer of NUL-terminated paths")
        .ThrowAsJavaScriptException();
    return false;
  }
  for (const char* p = buffer.Data(); p < buffer.Data() + buffer.Length(); p += strlen(p) + 1) paths->push_back(p);
  return true;
}

// anyHardLinked(paths): true when one of the NUL-terminated paths is a regular file with more than one name.
// One call for the files a batch changed (a storm's are thousands) instead of an fs.Stats object each.
Napi::Value AnyHardLinked(const Napi::CallbackInfo& info) {
  std::vector<const char*> paths;
  if (!PathsArg(info, 1, "anyHardLinked(paths)", &paths)) return info.Env().Undefined();
  struct stat st;
  bool any = false;
  for (size_t i = 0; i < paths.size() && !any; i++) any = lstat(paths[i], &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1;
  return Napi::Boolean::New(info.Env(), any);
}

// Entry kinds of a listing: bits of a listing's `kinds` argument, and each record's first byte. kStats (an argument
// bit only) adds each entry's lstat after its name's NUL, as bytes 4..47 of a state record entry (src/state/entry.ts)
// are on a little-endian host. kXattrs (an argument bit only) counts the entries, and listed directories, that may
// hold an xattr (ACLs are system.posix_acl_* ones): llistxattr's size, not following a symlink; an error but
// ENOTSUP (none possible there) counts as may.
enum Kind : char { kDirectory = 1, kSymlink = 2, kOther = 4, kStats = 8, kXattrs = 16 };
struct __attribute__((packed)) PackedStat { uint32_t mode, uid, gid; uint64_t size; int64_t mtime_ns, ctime_ns; uint64_t ino; uint32_t nlink; };
int64_t Ns(const struct timespec& t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
size_t MayHoldXattrs(const char* path) { ssize_t n = llistxattr(path, nullptr, 0); return n > 0 || (n < 0 && errno != ENOTSUP); }

// An entry's kind, by d_type or (a filesystem without d_type, or kStats) by its lstat, left in *st. With kStats,
// an entry gone since the listing is of no kind (left out).
Kind KindOf(int dir_fd, const struct dirent64* entry, uint32_t kinds, struct stat* st) {
  unsigned char type = entry->d_type;
  if (type != DT_UNKNOWN && (kinds & kStats) == 0) return type == DT_DIR ? kDirectory : type == DT_LNK ? kSymlink : kOther;
  if (fstatat(dir_fd, entry->d_name, st, AT_SYMLINK_NOFOLLOW) != 0) return Kind((kinds & kStats) != 0 ? 0 : int(kOther));
  return S_ISDIR(st->st_mode) ? kDirectory : S_ISLNK(st->st_mode) ? kSymlink : kOther;
}

// No subdirectory, by the link count (2: its name and "."), as find(1) without -noleaf: a stat instead of an open,
// two getdents64 and a close; only where the filesystem keeps that count (ext2/3/4, xfs, tmpfs; btrfs says 1, many
// FUSE filesystems always 2). The answer is kept for the last block device a thread saw (a statfs per directory
// cost a tenth of a walk); not for anonymous devices (tmpfs, FUSE, NFS), whose numbers are reused after an unmount.
bool IsLeaf(const char* path) {
  thread_local dev_t known_dev = 0;
  thread_local bool keeps_count = false;
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_nlink != 2) return false;
  if (st.st_dev != known_dev || major(st.st_dev) == 0) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return false;
    known_dev = st.st_dev;
    keeps_count = fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC || fs.f_type == TMPFS_MAGIC;
  }
  return keeps_count;
}

// Appends the entries of the wanted kinds at path to records (kind byte, name, NUL[, PackedStat]); 0 or the errno
// of a failed open or getdents64. getdents64 itself, not readdir(3): fdopendir adds an fstat and two fcntl.
int ListInto(const char* path, uint32_t kinds, std::string* records, size_t* xattrs = nullptr) {
  if (kinds == 0 || (kinds == kDirectory && IsLeaf(path))) return 0;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  std::string entry_path = std::string(path) + '/';  // no llistxattrat before Linux 6.13
  const size_t dir_length = entry_path.size();
  if (kinds & kXattrs) *xattrs += MayHoldXattrs(path);
  alignas(struct dirent64) char buffer[32 * 1024];
  ssize_t n;
  while ((n = getdents64(fd, buffer, sizeof buffer)) > 0) {
    for (ssize_t at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + at);
      at += entry->d_reclen;
      const char* name = entry->d_name;
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
      struct stat st;
      Kind kind = KindOf(fd, entry, kinds, &st);
      if ((kind & kinds) == 0) continue;
      records->push_back(kind);
      records->append(name, strlen(name) + 1);
      if (kinds & kXattrs) *xattrs += MayHoldXattrs(entry_path.replace(dir_length, std::string::npos, name).c_str());
      if ((kinds & kStats) == 0) continue;
      PackedStat packed{st.st_mode, st.st_uid, st.st_gid, uint64_t(st.st_size), Ns(st.st_mtim), Ns(st.st_ctim), st.st_ino, uint32_t(st.st_nlink)};
      records->append(reinterpret_cast<const char*>(&packed), sizeof packed);
    }
  }
  int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

Napi::Value Listings(Napi::Env env, Napi::Int32Array results, const std::string& records, size_t xattrs = 0) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("results", results);
  out.Set("records", Napi::Buffer<char>::Copy(env, records.data(), records.size()));
  out.Set("xattrs", Napi::Number::New(env, double(xattrs)));
  return out;
}

// list(paths, kinds): watchAndList's listings without watches (results: each one's errno or 0), on the caller's thread.
Napi::Value List(const Napi::CallbackInfo& info) {
  std::vector<const char*> paths;
  if (!PathsArg(info, 2, "list(paths, kinds)", &paths)) return info.Env().Undefined();
  auto results = Napi::Int32Array::New(info.Env(), paths.size());
  std::string records;
  size_t xattrs = 0;
  uint32_t kinds = info[1].As<Napi::Number>().Uint32Value();
  for (size_t i = 0; i < paths.size(); i++, records.push_back('\0')) results[i] = ListInto(paths[i], kinds, &records, &xattrs);
  return Listings(info.Env(), results, records, xattrs);
}

class Inotify;

// The poll handle lives apart from the Inotify object: uv_close finishes on a later loop turn, maybe
// after the object is gone. Until it has, an async cleanup hook holds back the environment's teardown,
// or a worker thread that exits would unload this addon under a pending close callback.
struct Poll { uv_poll_t handle; Inotify* owner; napi_async_cleanup_hook_handle hook = nullptr; };

class Inotify : public Napi::ObjectWrap<Inotify> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Inotify",
                       {InstanceMethod("removeWatch", &Inotify::RemoveWatch),
                        InstanceMethod("watchAndList", &Inotify::WatchAndList), InstanceMethod("close", &Inotify::Close),
                        InstanceMethod("setRef", &Inotify::SetRef), InstanceAccessor("fd", &Inotify::Fd, nullptr)});
  }

  // new Inotify(onRecords): onRecords(buffer) is called once per drain of the fd with the raw
  // struct inotify_event records read during that drain, back to back.
  explicit Inotify(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Inotify>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Throw<Napi::TypeError>(env, "Inotify(onRecords): onRecords must be a function");
      return;
    }
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
      SyscallError(env, errno, "inotify_init1").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* poll = new Poll{{}, this};
    int rc = uv_poll_init(loop, &poll->handle, fd_);
    if (rc != 0) delete poll;
    else {
      poll->handle.data = poll;
      poll_ = poll;
      napi_add_async_cleanup_hook(env, &Inotify::OnEnvCleanup, poll, &poll->hook);
      rc = uv_poll_start(&poll->handle, UV_READABLE, &Inotify::OnReadable);
    }
    if (rc != 0) {
      Shutdown(false);
      Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "inosync:inotify");
    // While the fd is open the object must outlive any JS reference to it: events keep coming.
    Ref();
  }

  ~Inotify() override { Shutdown(false); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    Inotify* self = static_cast<Poll*>(handle->data)->owner;
    if (self == nullptr || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) return self->Deliver(env, SyscallError(env, -status, "uv_poll").Value());
    // Read straight into the batch (one copy into the JS Buffer later). The cap keeps a writer
    // that outpaces us from holding the loop here: poll is level-triggered, so the rest of the
    // queue comes on the next wake-up.
    std::vector<char> batch;
    for (;;) {
      size_t used = batch.size();
      if (used >= kMaxBatchBytes) break;
      batch.resize(used + kReadChunk);
      ssize_t n = read(self->fd_, batch.data() + used, kReadChunk);
      int err = n < 0 ? errno : 0;
      batch.resize(used + (n > 0 ? static_cast<size_t>(n) : 0));
      if (n > 0 || err == EINTR) continue;
      if (err != 0 && err != EAGAIN && err != EWOULDBLOCK && batch.empty()) return self->Deliver(env, SyscallError(env, err, "read").Value());
      break;
    }
    if (batch.empty()) return;
    napi_value records;
    if (napi_create_buffer_copy(env, batch.size(), batch.data(), nullptr, &records) != napi_ok) {
      self->Shutdown(false);  // JavaScript can no longer run here (the environment is being torn down)
      return;
    }
    self->Deliver(env, env.Null(), Napi::Value(env, records));
  }

  // One call into JavaScript per drain: onRecords(error, buffer).
  void Deliver(Napi::Env env, Napi::Value error, Napi::Value records = Napi::Value()) {
    std::vector<napi_value> args{error};
    if (!records.IsEmpty()) args.push_back(records);
    // The C call, not Napi's wrapper: that one throws on failure, which is fatal while the
    // environment is being torn down (a worker exiting runs the loop once more, and we fire).
    napi_value result;
    napi_status status = napi_make_callback(env, *context_, Value(), callback_.Value(), args.size(), args.data(), &result);
    if (status == napi_ok) return;
    bool pending = false;
    napi_value exception;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exception) == napi_ok &&
        napi_fatal_exception(env, exception) == napi_ok) {
      return;  // No JS frame above us to take the exception: it went to process 'uncaughtException'.
    }
    Shutdown(false);  // JavaScript can no longer run here (a worker being terminated): stop listening.
  }

  // watchAndList(paths, mask, kinds): for each NUL-terminated path, in order, adds a watch and then lists the
  // directory, as a walk must (what is created in between is seen); kinds 0 lists nothing (a plain watch).
  // One call for a batch of directories (the per-call cost was most of a walk's). The listings are made on a
  // thread of their own, each once its watch is set: the two overlap on two cores (20,000 directories armed in
  // 135-150 ms instead of 155-165). Returns { results: Int32Array of pairs (wd or -errno, the listing's errno or
  // 0), records: each directory's entries of the wanted kinds (kind byte, name, NUL), then a 0 byte }.
  Napi::Value WatchAndList(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Throw(env, "inotify instance is closed");
    std::vector<const char*> paths;
    if (!PathsArg(info, 3, "watchAndList(paths, mask, kinds)", &paths)) return env.Undefined();
    uint32_t mask = info[1].As<Napi::Number>().Uint32Value();
    uint32_t kinds = info[2].As<Napi::Number>().Uint32Value() & ~uint32_t(kXattrs);  // list()'s alone
    auto pairs = Napi::Int32Array::New(env, 2 * paths.size());
    int32_t* results = pairs.Data();
    std::string records;
    std::atomic<size_t> watched{0};
    auto list_all = [&] {
      for (size_t i = 0; i < paths.size(); i++) {
        // A watch held up in the kernel (a slow network or FUSE mount) is waited for asleep after 1,000 yields.
        for (unsigned spins = 0; watched.load(std::memory_order_acquire) <= i; spins++) spins < 1000 ? sched_yield() : usleep(100);
        results[2 * i + 1] = results[2 * i] < 0 ? 0 : ListInto(paths[i], kinds, &records);
        records.push_back('\0');
      }
    };
    auto run = [](void* list) -> void* { (*static_cast<decltype(list_all)*>(list))(); return nullptr; };
    pthread_t lister;
    bool threaded = kinds != 0 && paths.size() > 1 && pthread_create(&lister, nullptr, run, &list_all) == 0;
    for (size_t i = 0; i < paths.size(); i++) {
      int wd = inotify_add_watch(fd_, paths[i], mask);
      results[2 * i] = wd < 0 ? -errno : wd;
      watched.store(i + 1, std::memory_order_release);
    }
    if (threaded) pthread_join(lister, nullptr);
    else list_all();  // no thread to be had: the same, after the watches
    return Listings(env, pairs, records);
  }

  // Returns false when the kernel no longer knows the wd (already removed or its directory gone).
  Napi::Value RemoveWatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Throw(env, "inotify instance is closed");
    if (info.Length() < 1 || !info[0].IsNumber()) return Throw<Napi::TypeError>(env, "removeWatch(wd): wd must be a number");
    int wd = info[0].As<Napi::Number>().Int32Value();
    if (inotify_rm_watch(fd_, wd) == 0) return Napi::Boolean::New(env, true);
    if (errno == EINVAL) return Napi::Boolean::New(env, false);
    SyscallError(env, errno, "inotify_rm_watch").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) { Shutdown(true); return info.Env().Undefined(); }

  // setRef(on): whether the fd's poll keeps Node's loop alive.
  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) (info[0].ToBoolean() ? uv_ref : uv_unref)(reinterpret_cast<uv_handle_t*>(&poll_->handle));
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  // Stop polling before closing the fd: libuv must never poll a closed (or reused) descriptor.
  // release: drop the strong self-reference taken while open (not from the destructor, which
  // only runs once that reference is gone or the environment is tearing down).
  void Shutdown(bool release) {
    StopPolling();
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    callback_.Reset();
    context_.reset();
    if (release) Unref();
  }

  void StopPolling() {
    if (poll_ == nullptr) return;
    uv_poll_stop(&poll_->handle);
    poll_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle), [](uv_handle_t* h) {
      auto* poll = static_cast<Poll*>(h->data);
      if (poll->hook != nullptr) napi_remove_async_cleanup_hook(poll->hook);
      delete poll;
    });
    poll_ = nullptr;
  }

  // The environment is going away with the instance still open: stop polling and close the fd now
  // (JS references are released by the finalizer); the close callback then releases the hook.
  static void OnEnvCleanup(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
    Inotify* self = static_cast<Poll*>(arg)->owner;
    if (self == nullptr) return;  // a close is already under way: its callback releases the hook
    self->StopPolling();
    ::close(self->fd_);
    self->fd_ = -1;
  }

  int fd_ = -1;
  Poll* poll_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Inotify", Inotify::Init(env));
  exports.Set("anyHardLinked", Napi::Function::New(env, AnyHardLinked, "anyHardLinked"));
  exports.Set("list", Napi::Function::New(env, List, "list"));
  Napi::Object constants = Napi::Object::New(env);
#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000u  // Linux 4.18; older C library headers lack it
#endif
#define INOSYNC_CONSTANT(name) constants.Set(#name, Napi::Number::New(env, static_cast<uint32_t>(name)));
  INOSYNC_CONSTANT(IN_ACCESS) INOSYNC_CONSTANT(IN_MODIFY) INOSYNC_CONSTANT(IN_ATTRIB) INOSYNC_CONSTANT(IN_CLOSE_WRITE)
  INOSYNC_CONSTANT(IN_CLOSE_NOWRITE) INOSYNC_CONSTANT(IN_CLOSE) INOSYNC_CONSTANT(IN_OPEN) INOSYNC_CONSTANT(IN_MOVED_FROM)
  INOSYNC_CONSTANT(IN_MOVED_TO) INOSYNC_CONSTANT(IN_MOVE) INOSYNC_CONSTANT(IN_CREATE) INOSYNC_CONSTANT(IN_DELETE)
  INOSYNC_CONSTANT(IN_DELETE_SELF) INOSYNC_CONSTANT(IN_MOVE_SELF) INOSYNC_CONSTANT(IN_ALL_EVENTS) INOSYNC_CONSTANT(IN_UNMOUNT)
  INOSYNC_CONSTANT(IN_Q_OVERFLOW) INOSYNC_CONSTANT(IN_IGNORED) INOSYNC_CONSTANT(IN_ONLYDIR) INOSYNC_CONSTANT(IN_DONT_FOLLOW)
  INOSYNC_CONSTANT(IN_EXCL_UNLINK) INOSYNC_CONSTANT(IN_MASK_ADD) INOSYNC_CONSTANT(IN_ISDIR) INOSYNC_CONSTANT(IN_ONESHOT)
  INOSYNC_CONSTANT(IN_NONBLOCK) INOSYNC_CONSTANT(IN_CLOEXEC) INOSYNC_CONSTANT(IN_MASK_CREATE)
#undef INOSYNC_CONSTANT
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(inotify, Init)

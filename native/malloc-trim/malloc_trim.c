// postlane-malloc-trim: glibc's malloc_trim(0) for Node, as a promise, run on libuv's thread pool
// (issue 14; docs/performance.md "glibc's freed memory"). glibc keeps memory that the relay freed
// (socket reads, bodies, V8's off-heap buffers) resident in its arenas; malloc_trim gives every
// whole free page of every arena back to the system. Node has no binding for it.
//
//   trim() -> Promise<{ released: boolean, micros: number }>   (absent where `supported` is false)
//   supported: true on glibc; false elsewhere (musl, macOS), where the module exports nothing else
//
// Built by node-gyp (binding.gyp) when npm installs the optional dependency; plain N-API, so one
// build serves every Node version.
#include <stdlib.h>
#include <time.h>
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#define HAVE_MALLOC_TRIM 1
#endif

#ifdef HAVE_MALLOC_TRIM
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int released;
  double micros;
} trim_job;

// On a thread-pool thread: the main thread goes on while the arenas are walked.
static void execute(napi_env env, void *data) {
  (void)env;
  trim_job *job = data;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  job->released = malloc_trim(0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  job->micros = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
}

static void complete(napi_env env, napi_status status, void *data) {
  trim_job *job = data;
  napi_value result, released, micros;
  if (status == napi_ok
      && napi_create_object(env, &result) == napi_ok
      && napi_get_boolean(env, job->released != 0, &released) == napi_ok
      && napi_create_double(env, job->micros, &micros) == napi_ok
      && napi_set_named_property(env, result, "released", released) == napi_ok
      && napi_set_named_property(env, result, "micros", micros) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "malloc_trim did not run", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value promise, name;
  trim_job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok
      || napi_create_string_utf8(env, "postlane-malloc-trim", NAPI_AUTO_LENGTH, &name) != napi_ok
      || napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok
      || napi_queue_async_work(env, job->work) != napi_ok) {
    free(job); // a promise already made is left pending: the throw is the answer
    napi_throw_error(env, NULL, "could not queue malloc_trim");
    return NULL;
  }
  return promise;
}
#endif

NAPI_MODULE_INIT() {
  napi_value supported;
#ifdef HAVE_MALLOC_TRIM
  napi_value fn;
  napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
  napi_set_named_property(env, exports, "trim", fn);
  napi_get_boolean(env, 1, &supported);
#else
  napi_get_boolean(env, 0, &supported);
#endif
  napi_set_named_property(env, exports, "supported", supported);
  return exports;
}

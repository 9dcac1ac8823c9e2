/*
 * BIP-340 Schnorr verification for bigbrotr over the system libsecp256k1 (schnorrsig module).
 *
 *   verify(sig64, msg32, pubkey32) -> boolean
 *   verifyBatch(sigs, msgs, pubkeys, count) -> Uint8Array of count results (1 valid, 0 invalid)
 *
 * The batch form takes concatenated buffers so that thousands of events cross from JavaScript to C
 * once. A verification-only context is created once per process (it is read-only after creation and
 * safe to share between threads).
 */
#include <node_api.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <pthread.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>
#include <stdlib.h>

static secp256k1_context *ctx = NULL;

static int verify_one(const unsigned char *sig, const unsigned char *msg, const unsigned char *pub) {
  secp256k1_xonly_pubkey pubkey;
  if (!secp256k1_xonly_pubkey_parse(ctx, &pubkey, pub)) return 0;
  return secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &pubkey) == 1;
}

/*
 * Parsing an x-only key costs a square root (about a tenth of a verification); authors repeat, within
 * a relay's batch and across batches (a pass over a relay sees the same authors again and again). A
 * direct-mapped cache of parsed keys, one per thread (each verification worker has its own: nothing
 * is shared between threads), kept across calls; freed when its thread ends. A slot holds the whole
 * key and is compared in full, so a collision only costs a parse.
 */
#define PUBKEY_CACHE_SLOTS 16384 /* a power of two; about 1.6 MB per thread */
typedef struct {
  unsigned char key[32];
  secp256k1_xonly_pubkey parsed;
  unsigned char state; /* 0 empty, 1 valid key, 2 invalid key */
} pubkey_slot;

static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static int cache_key_ok = 0;

static void create_cache_key(void) {
  cache_key_ok = pthread_key_create(&cache_key, free) == 0;
}

/* This thread's cache (created on first use), or NULL when memory is short: then keys are parsed every time. */
static pubkey_slot *thread_cache(void) {
  pthread_once(&cache_key_once, create_cache_key);
  if (!cache_key_ok) return NULL;
  pubkey_slot *cache = pthread_getspecific(cache_key);
  if (cache == NULL) {
    cache = calloc(PUBKEY_CACHE_SLOTS, sizeof(pubkey_slot));
    if (cache != NULL && pthread_setspecific(cache_key, cache) != 0) {
      free(cache);
      cache = NULL;
    }
  }
  return cache;
}

static int verify_cached(pubkey_slot *cache, const unsigned char *sig, const unsigned char *msg, const unsigned char *pub) {
  unsigned int index = (((unsigned int)pub[0] << 8) | pub[1]) & (PUBKEY_CACHE_SLOTS - 1);
  pubkey_slot *slot = &cache[index];
  if (slot->state == 0 || memcmp(slot->key, pub, 32) != 0) {
    memcpy(slot->key, pub, 32);
    slot->state = secp256k1_xonly_pubkey_parse(ctx, &slot->parsed, pub) ? 1 : 2;
  }
  if (slot->state != 1) return 0;
  return secp256k1_schnorrsig_verify(ctx, sig, msg, 32, &slot->parsed) == 1;
}

static int get_bytes(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)raw;
  return 1;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *sig, *msg, *pub;
  size_t sig_len, msg_len, pub_len;
  if (argc < 3 || !get_bytes(env, argv[0], &sig, &sig_len) || !get_bytes(env, argv[1], &msg, &msg_len) ||
      !get_bytes(env, argv[2], &pub, &pub_len)) {
    napi_throw_type_error(env, NULL, "verify(sig64, msg32, pubkey32) expects three Uint8Arrays");
    return NULL;
  }
  napi_value result;
  int ok = sig_len == 64 && msg_len == 32 && pub_len == 32 && verify_one(sig, msg, pub);
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value verify_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *sigs, *msgs, *pubs;
  size_t sigs_len, msgs_len, pubs_len;
  uint32_t count;
  if (argc < 4 || !get_bytes(env, argv[0], &sigs, &sigs_len) || !get_bytes(env, argv[1], &msgs, &msgs_len) ||
      !get_bytes(env, argv[2], &pubs, &pubs_len) || napi_get_value_uint32(env, argv[3], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "verifyBatch(sigs, msgs, pubkeys, count) expects three Uint8Arrays and a count");
    return NULL;
  }
  if (sigs_len < (size_t)count * 64 || msgs_len < (size_t)count * 32 || pubs_len < (size_t)count * 32) {
    napi_throw_range_error(env, NULL, "verifyBatch: buffers shorter than count entries");
    return NULL;
  }
  napi_value array_buffer, result;
  void *out;
  napi_create_arraybuffer(env, count, &out, &array_buffer);
  unsigned char *results = (unsigned char *)out;
  pubkey_slot *cache = thread_cache();
  for (uint32_t i = 0; i < count; i++) {
    const unsigned char *sig = sigs + (size_t)i * 64, *msg = msgs + (size_t)i * 32, *pub = pubs + (size_t)i * 32;
    results[i] = (unsigned char)(cache ? verify_cached(cache, sig, msg, pub) : verify_one(sig, msg, pub));
  }
  napi_create_typedarray(env, napi_uint8_array, count, array_buffer, 0, &result);
  return result;
}

/*
 * Gives memory the C allocator holds free back to the system (glibc's malloc_trim over every arena).
 * V8 mallocs and frees large amounts while compiling (100 MB and more while the embedded database's
 * WebAssembly is compiled); glibc keeps much of it, so the process's RSS stays high after the work.
 * Returns true when the call is supported (glibc), false elsewhere (it does nothing there).
 */
static napi_value release_freed_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#if defined(__GLIBC__)
  malloc_trim(0);
  napi_get_boolean(env, 1, &result);
#else
  napi_get_boolean(env, 0, &result);
#endif
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  if (ctx == NULL) {
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  }
  if (ctx == NULL) {
    napi_throw_error(env, NULL, "secp256k1_context_create failed");
    return NULL;
  }
  napi_property_descriptor properties[] = {
    {"verify", NULL, verify, NULL, NULL, NULL, napi_default, NULL},
    {"verifyBatch", NULL, verify_batch, NULL, NULL, NULL, napi_default, NULL},
    {"releaseFreedMemory", NULL, release_freed_memory, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/* XXH3 for the shim, with SSE2: five times faster on long inputs than the
 * general-register code the rest of the shim is limited to. The program's
 * vector registers are live, so the caller saves them around it (fxsave);
 * legacy SSE leaves the upper halves of the AVX registers as they were. */
#include "shim_abi.h"

#define XXH_INLINE_ALL
#define XXH_VECTOR 1 /* XXH_SSE2 */
#define XXH_NO_STREAM
#define XXH_FORCE_MEMORY_ACCESS 1 /* plain loads, not calls of memcpy (shim.c) */
#include <xxhash.h>

uint64_t ttdb_xxh3_sse2(const void* data, uint64_t size) { return XXH3_64bits(data, (size_t)size); }

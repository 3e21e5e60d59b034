#pragma once

// The vector type packed_gemm's kernels are written against, one definition
// per instruction set: AVX-512, AVX2 with FMA, or (test builds only) GCC's
// generic 16-lane vectors. Included by src/backend/packed_gemm.cpp alone,
// through gemm_tiles.hpp: the anonymous namespace keeps each variant's
// definitions inside the object built with its flags, so the kernel variant
// tests (tests/CMakeLists.txt), which build that file again with other flags
// and link the library too, never see two definitions under one name.

#include <immintrin.h>

#include <cstring>

#include "aisle/core/tensor.hpp"

namespace aisle::detail {
namespace {

#if defined(AISLE_GEMM_WIDE_EMULATION)
// Test builds only (aisle-kernel-wide-tests): 16-lane vectors from GCC's
// generic vector extension, so that the AVX-512 tiling (8 x 32 tiles, 32-wide
// panels) runs and is checked on machines without AVX-512.
struct Simd {
  using Vec = float __attribute__((vector_size(64)));
  static constexpr Index kLanes = 16;
  static Vec zero() { return Vec{}; }
  static Vec broadcast(const float* p) { return Vec{} + *p; }
  static Vec load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static Vec load_aligned(const float* p) { return load(p); }
  static void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
  static void store_aligned(float* p, Vec v) { store(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return a * b + c; }
  static Vec add(Vec a, Vec b) { return a + b; }
  static Vec max(Vec a, Vec b) { return a > b ? a : b; }
  static Vec where_positive(Vec mask, Vec v) { return mask > Vec{} ? v : Vec{}; }
  static Vec load_first(const float* p, Index count) {
    Vec v{};
    std::memcpy(&v, p, static_cast<std::size_t>(count) * sizeof(float));
    return v;
  }
  static void store_first(float* p, Vec v, Index count) {
    std::memcpy(p, &v, static_cast<std::size_t>(count) * sizeof(float));
  }
};
#elif defined(__AVX512F__)
struct Simd {
  using Vec = __m512;
  static constexpr Index kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load_aligned(const float* p) { return _mm512_load_ps(p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store_aligned(float* p, Vec v) { _mm512_store_ps(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  // The masked form: GCC 12's _mm512_max_ps reads an undefined register and
  // warns about it (-Wmaybe-uninitialized).
  static Vec max(Vec a, Vec b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static Vec where_positive(Vec mask, Vec v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mask, zero(), _CMP_GT_OQ), v);
  }
  // The first count lanes (the others zero, their memory not touched).
  static __mmask16 first_lanes(Index count) { return static_cast<__mmask16>((1u << count) - 1); }
  static Vec load_first(const float* p, Index count) { return _mm512_maskz_loadu_ps(first_lanes(count), p); }
  static void store_first(float* p, Vec v, Index count) { _mm512_mask_storeu_ps(p, first_lanes(count), v); }
};
#else
struct Simd {
  using Vec = __m256;
  static constexpr Index kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static void store_aligned(float* p, Vec v) { _mm256_store_ps(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec where_positive(Vec mask, Vec v) { return _mm256_and_ps(_mm256_cmp_ps(mask, zero(), _CMP_GT_OQ), v); }
  static __m256i first_lanes(Index count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec load_first(const float* p, Index count) { return _mm256_maskload_ps(p, first_lanes(count)); }
  static void store_first(float* p, Vec v, Index count) { _mm256_maskstore_ps(p, first_lanes(count), v); }
};
#endif

using Vec = Simd::Vec;

}  // namespace
}  // namespace aisle::detail

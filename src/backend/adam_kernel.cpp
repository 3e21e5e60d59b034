#include "backend/adam_kernel.hpp"

#include <cmath>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#define AISLE_ADAM_VECTORISED 1
#endif

namespace aisle::detail {
namespace {

#if defined(__AVX512F__)
struct Lanes {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr Index kWidth = 16;

  static Mask first(Index count) { return static_cast<Mask>((1u << count) - 1); }  // count < kWidth
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec load(const float* p, Mask k) { return _mm512_maskz_loadu_ps(k, p); }
  static void store(float* p, Vec v, Mask k) { _mm512_mask_storeu_ps(p, k, v); }
  static Vec set(float x) { return _mm512_set1_ps(x); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec fnmadd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
  // Lanes where 0 < x < infinity.
  static Mask positive_finite(Vec x) {
    return _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ) &
           _mm512_cmp_ps_mask(x, set(INFINITY), _CMP_LT_OQ);
  }
  // fallback where mask is clear, refined where it is set.
  static Vec select(Mask mask, Vec refined, Vec fallback) { return _mm512_mask_mov_ps(fallback, mask, refined); }
  static Vec rsqrt_estimate(Vec x) { return _mm512_rsqrt14_ps(x); }
  static Vec rcp_estimate(Vec x) { return _mm512_rcp14_ps(x); }
};
#elif defined(AISLE_ADAM_VECTORISED)
struct Lanes {
  using Vec = __m256;
  using Mask = __m256;  // all ones or all zeros per lane
  static constexpr Index kWidth = 8;

  static Mask first(Index count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes));
  }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec load(const float* p, Mask k) { return _mm256_maskload_ps(p, _mm256_castps_si256(k)); }
  static void store(float* p, Vec v, Mask k) { _mm256_maskstore_ps(p, _mm256_castps_si256(k), v); }
  static Vec set(float x) { return _mm256_set1_ps(x); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec fnmadd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a b
  static Mask positive_finite(Vec x) {
    return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), _mm256_cmp_ps(x, set(INFINITY), _CMP_LT_OQ));
  }
  static Vec select(Mask mask, Vec refined, Vec fallback) { return _mm256_blendv_ps(fallback, refined, mask); }
  static Vec rsqrt_estimate(Vec x) { return _mm256_rsqrt_ps(x); }
  static Vec rcp_estimate(Vec x) { return _mm256_rcp_ps(x); }
};
#endif

#if defined(AISLE_ADAM_VECTORISED)
using Vec = Lanes::Vec;

// sqrt(x) as x / sqrt(x), from the estimate of 1 / sqrt(x) and one Newton
// step; 0, infinity and NaN pass through as sqrt leaves them.
Vec square_root(Vec x) {
  const Vec estimate = Lanes::rsqrt_estimate(x);
  const Vec refined = Lanes::mul(Lanes::mul(Lanes::set(0.5f), estimate),
                                 Lanes::fnmadd(Lanes::mul(x, estimate), estimate, Lanes::set(3.0f)));
  return Lanes::select(Lanes::positive_finite(x), Lanes::mul(x, refined), x);
}

// 1 / x from the estimate and one Newton step; for 0 and infinity the
// estimate is already exact (infinity and 0).
Vec reciprocal(Vec x) {
  const Vec estimate = Lanes::rcp_estimate(x);
  const Vec refined = Lanes::mul(estimate, Lanes::fnmadd(x, estimate, Lanes::set(2.0f)));
  return Lanes::select(Lanes::positive_finite(x), refined, estimate);
}

struct Constants {
  Vec beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, inv_sqrt_correction2, epsilon, decay;

  explicit Constants(const AdamStep& s)
      : beta1(Lanes::set(s.beta1)),
        beta2(Lanes::set(s.beta2)),
        one_minus_beta1(Lanes::set(1.0f - s.beta1)),
        one_minus_beta2(Lanes::set(1.0f - s.beta2)),
        step_size(Lanes::set(s.step_size)),
        inv_sqrt_correction2(Lanes::set(s.inv_sqrt_correction2)),
        epsilon(Lanes::set(s.epsilon)),
        decay(Lanes::set(s.decay)) {}
};

// Loads and stores of a whole vector: masked ones (vmaskmov with AVX2) are
// slower, microcoded on some CPUs, and only the last vector needs them.
struct WholeVector {
  Vec load(const float* p) const { return Lanes::load(p); }
  void store(float* p, Vec v) const { Lanes::store(p, v); }
};
// Of the first lanes only: the others read as zeros, are computed on, and are
// not stored.
struct FirstLanes {
  Lanes::Mask mask;
  Vec load(const float* p) const { return Lanes::load(p, mask); }
  void store(float* p, Vec v) const { Lanes::store(p, v, mask); }
};

// The elements of one vector at offset i, each lane the same arithmetic
// whichever way they are read.
template <class Access>
[[gnu::always_inline]] inline void update_vector(float* p, float* m, float* v, const float* g, Index i,
                                                 const Access& access, const Constants& c) {
  const Vec grad = access.load(g + i);
  const Vec first = Lanes::fmadd(c.beta1, access.load(m + i), Lanes::mul(c.one_minus_beta1, grad));
  const Vec second =
      Lanes::fmadd(c.beta2, access.load(v + i), Lanes::mul(Lanes::mul(c.one_minus_beta2, grad), grad));
  const Vec denominator = Lanes::fmadd(square_root(second), c.inv_sqrt_correction2, c.epsilon);
  const Vec param = access.load(p + i);
  const Vec change =
      Lanes::fmadd(Lanes::mul(c.step_size, first), reciprocal(denominator), Lanes::mul(c.decay, param));
  access.store(m + i, first);
  access.store(v + i, second);
  access.store(p + i, Lanes::sub(param, change));
}
#endif

}  // namespace

#if defined(AISLE_ADAM_VECTORISED)

void adam_update(float* p, float* m, float* v, const float* g, Index begin, Index end, const AdamStep& step) {
  const Constants c(step);
  Index i = begin;
  for (; i + Lanes::kWidth <= end; i += Lanes::kWidth) update_vector(p, m, v, g, i, WholeVector{}, c);
  if (i < end) update_vector(p, m, v, g, i, FirstLanes{Lanes::first(end - i)}, c);
}

#else  // no vector instructions in this build: the exact formula

void adam_update(float* p, float* m, float* v, const float* g, Index begin, Index end, const AdamStep& step) {
  const float b1 = step.beta1, b2 = step.beta2;
  for (Index i = begin; i < end; ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    p[i] -= step.step_size * m[i] / (std::sqrt(v[i]) * step.inv_sqrt_correction2 + step.epsilon) + step.decay * p[i];
  }
}

#endif

}  // namespace aisle::detail

#include "aisle/backend/backend.hpp"

#include <atomic>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <cstdlib>
#include <mutex>

#include "aisle/core/error.hpp"
#include "backend/eigen_backend.hpp"
#include "backend/native_backend.hpp"
#include "backend/onednn_backend.hpp"
#include "backend/packed_gemm.hpp"

namespace aisle {
namespace {

BackendKind fastest_backend() { return detail::packed_gemm_vectorised() ? BackendKind::native : BackendKind::onednn; }

BackendKind initial_backend() {
  const char* env = std::getenv("AISLE_BACKEND");
  return env != nullptr && *env != '\0' ? backend_kind_from_string(env) : fastest_backend();
}

std::atomic<BackendKind>& default_backend_slot() {
  static std::atomic<BackendKind> slot{initial_backend()};
  return slot;
}

}  // namespace

// CPUID leaf 7, sub-leaf 1, EAX bit 5: AVX512_BF16.
bool native_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (eax & (1u << 5)) != 0;
#else
  return false;
#endif
}

std::string_view to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::onednn: return "onednn";
    case BackendKind::native: return "native";
    case BackendKind::eigen: break;
  }
  return "eigen";
}

BackendKind backend_kind_from_string(std::string_view name) {
  if (name == "onednn") return BackendKind::onednn;
  if (name == "eigen") return BackendKind::eigen;
  if (name == "native") return BackendKind::native;
  throw Error("unknown backend '" + std::string(name) + "' (expected native, onednn or eigen)");
}

std::string_view to_string(Activation activation) {
  switch (activation) {
    case Activation::relu: return "relu";
    case Activation::softmax: return "softmax";
    case Activation::none: break;
  }
  return "none";
}

Activation activation_from_string(std::string_view name) {
  if (name == "none" || name == "linear") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "softmax") return Activation::softmax;
  throw Error("unknown activation '" + std::string(name) + "' (expected none, relu or softmax)");
}

const Backend& backend(BackendKind kind) {
  static const detail::EigenBackend eigen;
  static const detail::OneDnnBackend onednn;
  static const detail::NativeBackend native;
  switch (kind) {
    case BackendKind::eigen: return eigen;
    case BackendKind::native: return native;
    case BackendKind::onednn: break;
  }
  return onednn;
}

BackendKind default_backend() { return default_backend_slot().load(); }

void set_default_backend(BackendKind kind) { default_backend_slot().store(kind); }

}  // namespace aisle

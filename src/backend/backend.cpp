#include "aisle/backend/backend.hpp"

#include <atomic>
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

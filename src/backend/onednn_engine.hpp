#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace aisle::detail {

// The CPU engine every oneDNN primitive of the process runs on.
inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace aisle::detail

#pragma once

// Every backend, for tests that run on each of them.

#include <gtest/gtest.h>

#include "aisle/backend/backend.hpp"

namespace aisle::test_support {

inline auto all_backends() { return ::testing::Values(BackendKind::eigen, BackendKind::onednn, BackendKind::native); }

}  // namespace aisle::test_support

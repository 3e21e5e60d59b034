# Precompiled headers: the standard library, Eigen and nlohmann/json headers
# that almost every aisle file includes, parsed once per target instead of once
# per file. CI builds the tree four times (Release, sanitizers, clang, fuzz),
# and these headers were about half of each file's compile time.
#
# Only third-party headers go in, so that editing an aisle header rebuilds only
# the files that include it. Targets built with other flags (the kernel variant
# tests) get no precompiled header: theirs would have to be built separately.
option(AISLE_PRECOMPILED_HEADERS "Precompile the common third-party headers" ON)

set(AISLE_COMMON_HEADERS
  <algorithm> <array> <atomic> <chrono> <cmath> <cstdint> <cstring> <filesystem>
  <fstream> <functional> <limits> <map> <memory> <mutex> <numeric> <optional>
  <span> <sstream> <string> <string_view> <thread> <utility> <vector>
  <Eigen/Core> <nlohmann/json.hpp>)

# aisle_precompile_common_headers(TARGET [EXTRA_HEADER...])
function(aisle_precompile_common_headers target)
  if(AISLE_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} PRIVATE ${AISLE_COMMON_HEADERS} ${ARGN})
  endif()
endfunction()

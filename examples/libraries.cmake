# The libraries behind the example programs, apart from their main()s, so that
# the tests and the fuzz targets can drive them too:
#   aisle_cli_common        the command-line parser (examples/common/)
#   aisle_classifier_model  loading the product-image classifier and ranking its classes
#   aisle_serve_core        aisle-serve's request handling, without sockets
set(AISLE_EXAMPLES_DIR ${CMAKE_CURRENT_LIST_DIR})

add_library(aisle_cli_common STATIC ${AISLE_EXAMPLES_DIR}/common/cli_arguments.cpp)
target_include_directories(aisle_cli_common PUBLIC ${AISLE_EXAMPLES_DIR}/common)
target_link_libraries(aisle_cli_common PRIVATE aisle_compile_flags)

add_library(aisle_classifier_model STATIC ${AISLE_EXAMPLES_DIR}/classify/classifier.cpp)
target_include_directories(aisle_classifier_model PUBLIC ${AISLE_EXAMPLES_DIR}/classify)
target_link_libraries(aisle_classifier_model PUBLIC aisle::aisle PRIVATE aisle_compile_flags)

add_library(aisle_serve_core STATIC
  ${AISLE_EXAMPLES_DIR}/serve/http_types.cpp
  ${AISLE_EXAMPLES_DIR}/serve/request_fields.cpp
  ${AISLE_EXAMPLES_DIR}/serve/model_slots.cpp
  ${AISLE_EXAMPLES_DIR}/serve/metrics.cpp
  ${AISLE_EXAMPLES_DIR}/serve/compute_queue.cpp
  ${AISLE_EXAMPLES_DIR}/serve/service.cpp
  ${AISLE_EXAMPLES_DIR}/serve/recommend_handlers.cpp
  ${AISLE_EXAMPLES_DIR}/serve/shopper_history.cpp
  ${AISLE_EXAMPLES_DIR}/serve/event_handlers.cpp
  ${AISLE_EXAMPLES_DIR}/serve/classify_handler.cpp
  ${AISLE_EXAMPLES_DIR}/serve/admin_handlers.cpp)
target_include_directories(aisle_serve_core PUBLIC ${AISLE_EXAMPLES_DIR}/serve)
aisle_precompile_common_headers(aisle_serve_core)
target_link_libraries(aisle_serve_core PUBLIC aisle::aisle aisle_classifier_model PRIVATE aisle_compile_flags)

# cpp-httplib from Debian (libcpp-httplib-dev, which scripts/install-deps
# installs): aisle-serve's sockets and the tests' HTTP client. Its compiled
# library was built with TLS, zlib and brotli support, and those switches
# change the layout of its classes: every file that includes httplib.h must
# see the same CPPHTTPLIB_* definitions, so they come from its pkg-config
# file rather than being guessed (without them the client's objects are
# smaller than the library's and a request writes past them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(AISLE_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Threads REQUIRED)
add_library(aisle_httplib INTERFACE)
target_link_libraries(aisle_httplib INTERFACE PkgConfig::AISLE_HTTPLIB Threads::Threads)

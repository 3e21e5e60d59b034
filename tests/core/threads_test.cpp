#include <gtest/gtest.h>
#include <omp.h>

#include <string>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"
#include "core/thread_binding.hpp"

namespace aisle {
namespace {

TEST(Threads, ParsesPositiveWholeNumbers) {
  EXPECT_EQ(detail::parse_thread_count("1", "AISLE_NUM_THREADS"), 1);
  EXPECT_EQ(detail::parse_thread_count("16", "AISLE_NUM_THREADS"), 16);
  EXPECT_EQ(detail::parse_thread_count("4096", "AISLE_NUM_THREADS"), 4096);
}

TEST(Threads, RejectsAnythingElseNamingTheSourceAndTheText) {
  for (const std::string text : {"", "abc", "0", "-1", "2x", " 2", "+2", "1.5", "99999999999"}) {
    try {
      detail::parse_thread_count(text, "AISLE_NUM_THREADS");
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("AISLE_NUM_THREADS='" + text + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("positive whole number"), std::string::npos) << message;
    }
  }
}

TEST(Threads, CountsAreCappedAtTheProcessors) {
  const int processors = omp_get_num_procs();
  EXPECT_EQ(detail::cap_to_processors(1), 1);
  EXPECT_EQ(detail::cap_to_processors(processors), processors);
  EXPECT_EQ(detail::cap_to_processors(processors + 1), processors);
  EXPECT_EQ(detail::cap_to_processors(1000), std::min(1000, processors));
}

TEST(Threads, SetNumThreadsIsRespectedCappedAndRestored) {
  const int before = num_threads();
  const int processors = omp_get_num_procs();
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(processors + 7);
  EXPECT_EQ(num_threads(), processors);
  set_num_threads(0);  // the default: the environment's count, else every processor
  EXPECT_GE(num_threads(), 1);
  EXPECT_LE(num_threads(), processors);
  set_num_threads(before);
  EXPECT_EQ(num_threads(), before);
}

}  // namespace
}  // namespace aisle

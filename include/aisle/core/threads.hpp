#pragma once

namespace aisle {

// The number of threads aisle's kernels use. It starts from the environment
// variable AISLE_NUM_THREADS when set, else OpenMP's default (the core count).
int num_threads();

// Sets the thread count for the whole process (OpenMP, Eigen and oneDNN).
// n <= 0 restores the default.
void set_num_threads(int n);

}  // namespace aisle

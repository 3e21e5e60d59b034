#pragma once

namespace aisle {

// The number of threads aisle's kernels use. It starts from the environment
// variable AISLE_NUM_THREADS when set (a positive whole number, else the
// first compute call throws aisle::Error), else the processors available to
// the process. Never more than those processors: more threads than cores
// only wait on each other.
int num_threads();

// Sets the thread count for the whole process (OpenMP, Eigen and oneDNN),
// capped at the processors available. n <= 0 restores the default.
void set_num_threads(int n);

}  // namespace aisle

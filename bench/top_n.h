// TopN: the N rows with the largest keys, kept sorted by insertion into a
// fixed array. For per-parent top-5 this beats sorting or a heap: the
// common case is one comparison against the current N-th key.

#ifndef KIN_BENCH_TOP_N_H_
#define KIN_BENCH_TOP_N_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace kin::bench {

template <size_t N, typename RowT = uint32_t>
class TopN {
 public:
  // Keeps `row` if its key is among the N largest offered so far. Equal keys
  // keep offer order (the first offered ranks higher).
  void Offer(int64_t key, RowT row) {
    if (size_ == N && key <= keys_[N - 1]) return;
    size_t i = size_ < N ? size_++ : N - 1;
    for (; i > 0 && keys_[i - 1] < key; --i) {
      keys_[i] = keys_[i - 1];
      rows_[i] = rows_[i - 1];
    }
    keys_[i] = key;
    rows_[i] = row;
  }
  size_t size() const { return size_; }
  // Key descending.
  std::span<const RowT> rows() const { return {rows_.data(), size_}; }

 private:
  std::array<int64_t, N> keys_{};
  std::array<RowT, N> rows_{};
  size_t size_ = 0;
};

}  // namespace kin::bench

#endif  // KIN_BENCH_TOP_N_H_

// Conversions between std::string_view (what kin's public headers take, so
// that plain C++20 code compiles whatever abseil's string_view is) and
// absl::string_view (what abseil's functions and kin's internals take).
// Debian's abseil keeps its own string_view class, with no conversion
// between the two.

#ifndef KIN_ENGINE_STRING_VIEW_H_
#define KIN_ENGINE_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace kin::internal {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace kin::internal

#endif  // KIN_ENGINE_STRING_VIEW_H_

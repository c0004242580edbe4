// kin's version: the one place it is written. The CMake build reads the
// three numbers below (CMakeLists.txt, for kinConfigVersion.cmake and kin.pc)
// and Bazel builds this header into //:kin, so both builds agree.
//
// Semantic versioning; before 1.0 a minor version may change the API.

#ifndef KIN_VERSION_H_
#define KIN_VERSION_H_

#define KIN_VERSION_MAJOR 0
#define KIN_VERSION_MINOR 1
#define KIN_VERSION_PATCH 0

// "0.1.0"
#define KIN_VERSION_STRINGIFY_INNER_(x) #x
#define KIN_VERSION_STRINGIFY_(x) KIN_VERSION_STRINGIFY_INNER_(x)
#define KIN_VERSION_STRING                  \
  KIN_VERSION_STRINGIFY_(KIN_VERSION_MAJOR) \
  "." KIN_VERSION_STRINGIFY_(KIN_VERSION_MINOR) "." KIN_VERSION_STRINGIFY_(KIN_VERSION_PATCH)

#endif  // KIN_VERSION_H_

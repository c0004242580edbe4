# FindxxHash: the xxHash library (XXH3, used for snapshot checksums).
#
# Defines the imported target xxHash::xxhash, the name upstream xxHash's own
# CMake package (xxHashConfig.cmake) uses, and xxHash_FOUND, xxHash_VERSION.
# Tries, in order: that CMake package; pkg-config's libxxhash (what Debian's
# libxxhash-dev ships); xxhash.h and libxxhash on the default search paths.
# Installed with kin's CMake package, which needs it for a static libkin.a.

if(TARGET xxHash::xxhash)
  set(xxHash_FOUND TRUE)
  return()
endif()

find_package(xxHash CONFIG QUIET)
if(TARGET xxHash::xxhash)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(xxHash CONFIG_MODE)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_xxHash QUIET libxxhash)
endif()

find_path(xxHash_INCLUDE_DIR xxhash.h HINTS ${PC_xxHash_INCLUDE_DIRS})
find_library(xxHash_LIBRARY NAMES xxhash HINTS ${PC_xxHash_LIBRARY_DIRS})
if(PC_xxHash_VERSION)
  set(xxHash_VERSION "${PC_xxHash_VERSION}")
elseif(xxHash_INCLUDE_DIR AND EXISTS "${xxHash_INCLUDE_DIR}/xxhash.h")
  file(STRINGS "${xxHash_INCLUDE_DIR}/xxhash.h" _xxhash_version_lines
       REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE) +[0-9]+")
  string(REGEX REPLACE ".*MAJOR +([0-9]+).*MINOR +([0-9]+).*RELEASE +([0-9]+).*"
         "\\1.\\2.\\3" xxHash_VERSION "${_xxhash_version_lines}")
  unset(_xxhash_version_lines)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(xxHash
  REQUIRED_VARS xxHash_LIBRARY xxHash_INCLUDE_DIR
  VERSION_VAR xxHash_VERSION)
mark_as_advanced(xxHash_INCLUDE_DIR xxHash_LIBRARY)

if(xxHash_FOUND AND NOT TARGET xxHash::xxhash)
  add_library(xxHash::xxhash UNKNOWN IMPORTED)
  set_target_properties(xxHash::xxhash PROPERTIES
    IMPORTED_LOCATION "${xxHash_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${xxHash_INCLUDE_DIR}")
endif()

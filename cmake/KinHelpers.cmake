# Helper functions for kin's CMake build (included by CMakeLists.txt).

# kin_add_warnings(target): the warning flags Bazel's .bazelrc gives kin's
# own code (-Wall -Wextra -Werror -Wno-missing-field-initializers), PRIVATE so
# they never reach a consumer's code. System and imported headers (abseil,
# GoogleTest...) are included as system headers and stay quiet.
# -Wno-missing-field-initializers: designated initializers that leave fields
# to their defaults are how options structs are meant to be written.
function(kin_add_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wno-missing-field-initializers>
    $<$<AND:$<BOOL:${KIN_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-Werror>)
endfunction()

# kin_no_maybe_uninitialized(target): GCC 12 reports a false
# -Wmaybe-uninitialized inside std::variant where kin::Value temporaries
# (PrimaryKey(), Default(...)) are inlined into schema-building code; the
# Bazel targets that build schemas inline turn it off the same way.
function(kin_no_maybe_uninitialized target)
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
endfunction()

# kin_configure_pkg_config(FILE REQUIRES mod... PRIVATE_REQUIRES mod...):
# writes <build>/FILE from cmake/kin.pc.in. Paths are relative to the .pc
# file's directory (${pcfiledir}), so the file stays right when the install
# prefix is chosen at install time (cmake --install --prefix). A static kin
# moves PRIVATE_REQUIRES into Requires: `pkg-config --libs kin` must then
# name them for the application's link.
function(kin_configure_pkg_config file)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "REQUIRES;PRIVATE_REQUIRES")
  set(KIN_PC_REQUIRES ${arg_REQUIRES})
  set(KIN_PC_REQUIRES_PRIVATE ${arg_PRIVATE_REQUIRES})
  get_target_property(type kin TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    list(APPEND KIN_PC_REQUIRES ${KIN_PC_REQUIRES_PRIVATE})
    set(KIN_PC_REQUIRES_PRIVATE "")
  endif()
  list(JOIN KIN_PC_REQUIRES " " KIN_PC_REQUIRES)
  list(JOIN KIN_PC_REQUIRES_PRIVATE " " KIN_PC_REQUIRES_PRIVATE)
  if(KIN_PC_REQUIRES_PRIVATE)
    set(KIN_PC_REQUIRES_PRIVATE "\nRequires.private: ${KIN_PC_REQUIRES_PRIVATE}")
  endif()

  set(pcdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  if(IS_ABSOLUTE "${pcdir}")
    set(KIN_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  else()
    # "lib/pkgconfig" -> "${pcfiledir}/../.."
    file(RELATIVE_PATH up "/root/${pcdir}" "/root")
    string(REGEX REPLACE "/$" "" up "${up}")
    set(KIN_PC_PREFIX "\${pcfiledir}/${up}")
  endif()
  foreach(var IN ITEMS LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${var}}")
      set(KIN_PC_${var} "${CMAKE_INSTALL_${var}}")
    else()
      set(KIN_PC_${var} "\${prefix}/${CMAKE_INSTALL_${var}}")
    endif()
  endforeach()
  configure_file("${PROJECT_SOURCE_DIR}/cmake/kin.pc.in" "${PROJECT_BINARY_DIR}/${file}" @ONLY)
endfunction()

# kin_add_gtests(AREA area SOURCES test.cc... LIBS target...): one executable
# per *_test.cc, as Bazel has one cc_test per file, each registered with
# ctest case by case (gtest_discover_tests), named "<area>/<file>/<Suite.Case>".
#
# Tests open files by paths relative to their working directory, as under
# Bazel's runfiles root ("tests/persist/testdata/world_v1.kin", "tools/kin"),
# so they run in <build>, which mirrors those paths (tests/CMakeLists.txt).
# Each binary gets its own TEST_TMPDIR (::testing::TempDir(), as Bazel gives
# each test target its own), and its cases share a RESOURCE_LOCK: cases of
# one binary reuse temporary names, so they must not overlap under ctest -j.
function(kin_add_gtests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "AREA" "SOURCES;LIBS")
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(name "${src}" NAME_WE)
    set(target "${arg_AREA}_${name}")
    add_executable(${target} "${src}")
    # <build>/tests/<area>/<name>, as Bazel's bazel-bin/tests/<area>/<name>
    # (two areas have an errors_test).
    set_target_properties(${target} PROPERTIES
      OUTPUT_NAME "${name}"
      RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests/${arg_AREA}")
    target_link_libraries(${target} PRIVATE ${arg_LIBS} kin_test_support
                          GTest::gmock GTest::gtest_main)
    kin_add_warnings(${target})
    set(tmp "${PROJECT_BINARY_DIR}/test_tmp/${arg_AREA}/${name}")
    file(MAKE_DIRECTORY "${tmp}")
    # One variable only: gtest_discover_tests splits a list-valued property
    # into separate arguments. (The asan test preset sets ASAN_OPTIONS and
    # UBSAN_OPTIONS for the whole ctest run instead.)
    gtest_discover_tests(${target}
      TEST_PREFIX "${arg_AREA}/${name}/"
      WORKING_DIRECTORY "${PROJECT_BINARY_DIR}"
      DISCOVERY_TIMEOUT 60
      PROPERTIES
        ENVIRONMENT "TEST_TMPDIR=${tmp}"
        RESOURCE_LOCK "${target}"
        LABELS "${arg_AREA}"
        TIMEOUT 300)
  endforeach()
endfunction()

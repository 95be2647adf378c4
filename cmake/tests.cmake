# Test registration. Three layers under CTest, found by glob:
#   tests/unit/test_*.c   cmocka unit tests, one executable per module (label unit)
#   tests/api/test_*.sh   real HTTP against the built binary (label api)
#   tests/fuzz/fuzz_*.c   libFuzzer targets, only with HH_FUZZ (label fuzz)
# Each test gets HH_BIN (the binary), HH_SRC (the source tree) and HH_BUILD.

set(HH_TEST_ENV
  HH_BIN=$<TARGET_FILE:happyhorse>
  HH_SRC=${CMAKE_SOURCE_DIR}
  HH_BUILD=${CMAKE_BINARY_DIR}
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

if(NOT HH_FUZZ)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  file(GLOB HH_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
  foreach(src ${HH_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE hhcore PkgConfig::CMOCKA)
    add_test(NAME unit/${name} COMMAND ${name})
    set_tests_properties(unit/${name} PROPERTIES LABELS unit ENVIRONMENT "${HH_TEST_ENV}"
                         TIMEOUT 600)
  endforeach()

  file(GLOB HH_API_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/api/test_*.sh)
  foreach(src ${HH_API_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME api/${name} COMMAND bash ${src})
    set_tests_properties(api/${name} PROPERTIES LABELS api ENVIRONMENT "${HH_TEST_ENV}"
                         TIMEOUT 900)
  endforeach()
else()
  file(GLOB HH_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  set(HH_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz target runs under make check")
  foreach(src ${HH_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE hhcore)
    set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    # Replays the committed corpus, then explores for a bounded time in a
    # scratch copy so the tree is never written by a test run.
    add_test(NAME fuzz/${name}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh $<TARGET_FILE:${name}>
                     ${corpus} ${HH_FUZZ_SECONDS})
    set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz ENVIRONMENT "${HH_TEST_ENV}"
                         TIMEOUT 600)
  endforeach()
endif()

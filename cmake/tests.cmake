# Test registration. Three layers under CTest, found by glob:
#   tests/unit/test_*.c   cmocka unit tests, one executable per module (label unit)
#   tests/api/test_*.sh   real HTTP against the built binary (label api)
#   tests/fuzz/fuzz_*.c   libFuzzer targets, only with HH_FUZZ (label fuzz)
# Each test gets HH_BIN (the binary), HH_SRC (the source tree) and HH_BUILD.
# The store's contract tests (HH_STORE_CONTRACT_TESTS) run twice: unit/<name>
# on SQLite and unit/<name>_pg on PostgreSQL (HH_TEST_STORE=pg, through
# tests/unit/support/store_fixture.c); so do the API tests of
# HH_STORE_API_TESTS (api/<name>_pg, plain build only). Every test named *_pg needs the CTest
# fixture `pg`: one throw-away cluster (tests/pg/cluster.sh) in build/pg,
# started by pg/start before the first of them and stopped by pg/stop after
# the last, so a selection without them (ctest -R sqlite, -E _pg) starts none.

set(HH_TEST_ENV
  HH_BIN=$<TARGET_FILE:happyhorse>
  HH_SRC=${CMAKE_SOURCE_DIR}
  HH_BUILD=${CMAKE_BINARY_DIR}
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

if(NOT HH_FUZZ)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  set(HH_STORE_CONTRACT_TESTS test_store test_queue test_store_remote test_store_sessions
      test_store_shared test_store_copy test_webhooks test_worker)
  # API tests that run a second time as api/<name>_pg with every node on PostgreSQL
  # (tests/api/store.sh gives each its own database).
  set(HH_STORE_API_TESTS test_videos test_auth test_videos_cancel test_videos_delete
      test_videos_list test_gallery test_publish test_account_limits test_keys_limits
      test_queue_place test_webhooks test_dashboard test_uploads test_upstream)
  # Run by the plain build only: minutes of rendering through several processes whose code the
  # ASan build's unit and API tests already cover (the store's contract suite on PostgreSQL).
  set(HH_PLAIN_ONLY_TESTS test_multinode_pg)
  set(HH_PG_DIR ${CMAKE_BINARY_DIR}/pg)

  # What the unit tests share: the store fixture and a few store steps.
  file(GLOB HH_TEST_SUPPORT CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/support/*.c)
  add_library(hhtestsupport STATIC ${HH_TEST_SUPPORT})
  target_include_directories(hhtestsupport PUBLIC ${CMAKE_SOURCE_DIR}/tests/unit)
  target_link_libraries(hhtestsupport PUBLIC hhcore PkgConfig::CMOCKA)

  file(GLOB HH_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
  foreach(src ${HH_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE hhtestsupport hhcore PkgConfig::CMOCKA)
    add_test(NAME unit/${name} COMMAND ${name})
    set_tests_properties(unit/${name} PROPERTIES LABELS unit ENVIRONMENT "${HH_TEST_ENV}"
                         TIMEOUT 600)
    if(name IN_LIST HH_STORE_CONTRACT_TESTS)
      add_test(NAME unit/${name}_pg COMMAND ${name})
      set_tests_properties(unit/${name}_pg PROPERTIES LABELS unit
                           ENVIRONMENT "${HH_TEST_ENV};HH_TEST_STORE=pg" TIMEOUT 600)
    endif()
  endforeach()

  file(GLOB HH_API_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/api/test_*.sh)
  foreach(src ${HH_API_TESTS})
    get_filename_component(name ${src} NAME_WE)
    if(HH_SANITIZE AND name IN_LIST HH_PLAIN_ONLY_TESTS)
      continue()
    endif()
    add_test(NAME api/${name} COMMAND bash ${src})
    set_tests_properties(api/${name} PROPERTIES LABELS api ENVIRONMENT "${HH_TEST_ENV}"
                         TIMEOUT 900)
    # The API on PostgreSQL: the plain build only (the ASan build runs the store's contract
    # suite on PostgreSQL, which covers the backend's memory; these cover the routes on it).
    if(name IN_LIST HH_STORE_API_TESTS AND NOT HH_SANITIZE)
      add_test(NAME api/${name}_pg COMMAND bash ${src})
      set_tests_properties(api/${name}_pg PROPERTIES LABELS api
                           ENVIRONMENT "${HH_TEST_ENV};HH_TEST_STORE=pg" TIMEOUT 900)
    endif()
  endforeach()

  # The cluster of the *_pg tests. pg/start stops a cluster a killed run left first.
  set(HH_PG_CLUSTER ${CMAKE_SOURCE_DIR}/tests/pg/cluster.sh)
  add_test(NAME pg/start COMMAND bash -c "bash \"$0\" stop && bash \"$0\" start" ${HH_PG_CLUSTER})
  add_test(NAME pg/stop COMMAND bash ${HH_PG_CLUSTER} stop)
  set_tests_properties(pg/start PROPERTIES FIXTURES_SETUP pg LABELS pg
                       ENVIRONMENT "HH_PG_DIR=${HH_PG_DIR}" TIMEOUT 120)
  set_tests_properties(pg/stop PROPERTIES FIXTURES_CLEANUP pg LABELS pg
                       ENVIRONMENT "HH_PG_DIR=${HH_PG_DIR}" TIMEOUT 120)
  get_property(HH_ALL_TESTS DIRECTORY PROPERTY TESTS)
  foreach(test ${HH_ALL_TESTS})
    if(test MATCHES "_pg")
      set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED pg)
      set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT HH_PG_DIR=${HH_PG_DIR})
    endif()
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

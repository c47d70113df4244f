# Flags every target gets. Linked PRIVATE, so they never leak to consumers.
add_library(sai_options INTERFACE)
target_compile_features(sai_options INTERFACE cxx_std_20)
target_compile_options(sai_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wno-sign-conversion -Wno-missing-field-initializers>
    $<$<BOOL:${SAI_WERROR}>:-Werror>)
target_compile_definitions(sai_options INTERFACE
    BOOST_ASIO_NO_DEPRECATED
    SAI_VERSION="${PROJECT_VERSION}")

if(SAI_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()

# The allocator of every executable (server, tests, benchmarks): mimalloc. Under ingest
# glibc's malloc and free took about a fifth of the server's CPU; with mimalloc the same
# load commits more events per second (docs/PERFORMANCE.md). The sanitizers and libFuzzer
# bring their own allocator, so they keep it.
add_library(sai_allocator INTERFACE)
if(SAI_MIMALLOC AND NOT SAI_SANITIZE AND NOT SAI_FUZZ)
    find_package(mimalloc 2.0 REQUIRED CONFIG)
    target_link_libraries(sai_allocator INTERFACE mimalloc)
endif()

# sai_library(NAME <sub> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#   Creates sai_<sub> and the alias sai::<sub>. Headers under
#   <dir>/include are the public surface; everything else is private.
function(sai_library)
    cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
    set(target sai_${ARG_NAME})
    add_library(${target} STATIC ${ARG_SOURCES})
    add_library(sai::${ARG_NAME} ALIAS ${target})
    target_include_directories(${target}
        PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
        PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${target}
        PUBLIC ${ARG_PUBLIC_DEPS}
        PRIVATE sai_options ${ARG_PRIVATE_DEPS})
endfunction()

# sai_test(NAME <name> SOURCES ... DEPS ... [LABELS unit|integration])
function(sai_test)
    cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
    if(NOT SAI_BUILD_TESTS)
        return()
    endif()
    add_executable(${ARG_NAME} ${ARG_SOURCES})
    target_link_libraries(${ARG_NAME} PRIVATE sai_options sai_allocator ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# nub_add_vector_tests(ENGINE): one ctest test per PVM conformance vector
# (the official set, vendored in tests/vectors/data: see its README.md),
# named pvm_vector_<ENGINE>_<vector name>, each running
#   vector_check <nubrun> <ENGINE> <vector.json>
# which runs `nubrun --engine ENGINE --vector FILE` and compares its JSON with
# the vector's expected-* values. Any folder may include this file and call
# it for its engine (one line per engine).
include_guard(GLOBAL)

set(NUB_PVM_VECTOR_DIR ${CMAKE_CURRENT_LIST_DIR}/data
    CACHE PATH "Folder of PVM conformance vectors (*.json) the tests run")

function(nub_add_vector_tests ENGINE)
  set(_dir ${NUB_PVM_VECTOR_DIR})
  file(GLOB _vectors ${_dir}/*.json)
  if(NOT _vectors)
    # No vectors: a test that fails with the reason, rather than nothing.
    add_test(NAME pvm_vectors_${ENGINE}_missing
             COMMAND ${CMAKE_COMMAND} -E echo "no vectors in ${_dir}")
    set_tests_properties(pvm_vectors_${ENGINE}_missing PROPERTIES WILL_FAIL TRUE)
    return()
  endif()
  foreach(_vector ${_vectors})
    get_filename_component(_name ${_vector} NAME_WE)
    add_test(NAME pvm_vector_${ENGINE}_${_name}
             COMMAND vector_check $<TARGET_FILE:nubrun> ${ENGINE} ${_vector})
    set_tests_properties(pvm_vector_${ENGINE}_${_name} PROPERTIES LABELS "pvm_vectors;${ENGINE}"
                         TIMEOUT 30 SKIP_RETURN_CODE 77)
  endforeach()
endfunction()

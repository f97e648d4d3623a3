# nub_add_vector_tests(ENGINE): one ctest test per shared PVM conformance
# vector, named pvm_vector_<ENGINE>_<vector name>, each running
#   vector_check <nubrun> <ENGINE> <vector.json>
# which runs `nubrun --engine ENGINE --vector FILE` and compares its JSON with
# the vector's expected-* values. Any folder may include this file and call
# it for its engine (one line per engine).

# Set on every include: variables are per directory, the function is global.
set(NUB_PVM_VECTOR_DIR ${CMAKE_SOURCE_DIR}/../shared/pvm/vectors)
include_guard(GLOBAL)

function(nub_add_vector_tests ENGINE)
  set(_dir ${CMAKE_SOURCE_DIR}/../shared/pvm/vectors)
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

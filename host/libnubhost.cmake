# libnubhost: the KVM sandbox and the public API (include/nub/host.h).
# The guest kernel ELF built in this same run is embedded with .incbin, so
# linking `nubhost` is all a user does.
set(NUB_GUEST_IMAGE_FILE $<TARGET_FILE:nub_guest_kernel>)
file(READ ${CMAKE_CURRENT_LIST_DIR}/guest_image.S.in _nub_image_s)
string(REPLACE "@NUB_GUEST_IMAGE_FILE@" "${NUB_GUEST_IMAGE_FILE}" _nub_image_s "${_nub_image_s}")
file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/guest_image.S CONTENT "${_nub_image_s}")

add_library(nubhost STATIC
  ${CMAKE_CURRENT_LIST_DIR}/api.c
  ${CMAKE_CURRENT_LIST_DIR}/boot.c
  ${CMAKE_CURRENT_LIST_DIR}/guest_elf.c
  ${CMAKE_CURRENT_LIST_DIR}/guest_image.c
  ${CMAKE_CURRENT_LIST_DIR}/hash_set.c
  ${CMAKE_CURRENT_LIST_DIR}/hostcall.c
  ${CMAKE_CURRENT_LIST_DIR}/invoke.c
  ${CMAKE_CURRENT_LIST_DIR}/kvm_vm.c
  ${CMAKE_CURRENT_LIST_DIR}/pvm_guest_mem.c
  ${CMAKE_CURRENT_LIST_DIR}/rpc_client.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_hostcall.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox.c
  ${CMAKE_CURRENT_LIST_DIR}/timeout.c
  ${CMAKE_CURRENT_BINARY_DIR}/guest_image.S
)
# OBJECT_DEPENDS takes no generator expressions: name the file directly
# (guest/kernel/CMakeLists.txt sets OUTPUT_NAME nub_guest_kernel.elf).
set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/guest_image.S PROPERTIES
  OBJECT_DEPENDS ${PROJECT_BINARY_DIR}/guest/kernel/nub_guest_kernel.elf)
add_dependencies(nubhost nub_guest_kernel)
target_include_directories(nubhost PUBLIC ${PROJECT_SOURCE_DIR}/include
                                   PRIVATE ${PROJECT_SOURCE_DIR}/guest/pvm
                                   PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(nubhost PUBLIC nub_abi PRIVATE nub_hosted_flags)
set_target_properties(nubhost PROPERTIES POSITION_INDEPENDENT_CODE ON)

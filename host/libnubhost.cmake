# libnubhost: the KVM sandbox and the public API (include/nub/host.h).
# The guest kernel ELF built in this same run is embedded with .incbin, and
# the hosted abi/ objects are compiled in, so linking `nubhost` is all a user
# does. One set of objects (nubhost_objects) makes both flavours:
#   nubhost         static archive libnubhost.a  (exported as nubhost::nubhost_static)
#   nubhost_shared  shared library libnubhost.so (exported as nubhost::nubhost)
set(NUB_GUEST_IMAGE_FILE $<TARGET_FILE:nub_guest_kernel>)
file(READ ${CMAKE_CURRENT_LIST_DIR}/guest_image.S.in _nub_image_s)
string(REPLACE "@NUB_GUEST_IMAGE_FILE@" "${NUB_GUEST_IMAGE_FILE}" _nub_image_s "${_nub_image_s}")
file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/guest_image.S CONTENT "${_nub_image_s}")

add_library(nubhost_objects OBJECT
  ${CMAKE_CURRENT_LIST_DIR}/api.c
  ${CMAKE_CURRENT_LIST_DIR}/boot.c
  ${CMAKE_CURRENT_LIST_DIR}/guest_elf.c
  ${CMAKE_CURRENT_LIST_DIR}/guest_image.c
  ${CMAKE_CURRENT_LIST_DIR}/guest_memory.c
  ${CMAKE_CURRENT_LIST_DIR}/grow_heap.c
  ${CMAKE_CURRENT_LIST_DIR}/hash_set.c
  ${CMAKE_CURRENT_LIST_DIR}/hostcall.c
  ${CMAKE_CURRENT_LIST_DIR}/invoke.c
  ${CMAKE_CURRENT_LIST_DIR}/kvm_vm.c
  ${CMAKE_CURRENT_LIST_DIR}/pvm_guest_mem.c
  ${CMAKE_CURRENT_LIST_DIR}/rpc_client.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox_hostcall.c
  ${CMAKE_CURRENT_LIST_DIR}/sandbox.c
  ${CMAKE_CURRENT_LIST_DIR}/snapshot.c
  ${CMAKE_CURRENT_LIST_DIR}/template.c
  ${CMAKE_CURRENT_LIST_DIR}/timeout.c
  ${CMAKE_CURRENT_BINARY_DIR}/guest_image.S
)
# OBJECT_DEPENDS takes no generator expressions: name the file directly
# (guest/kernel/CMakeLists.txt sets OUTPUT_NAME nub_guest_kernel.elf).
set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/guest_image.S PROPERTIES
  OBJECT_DEPENDS ${PROJECT_BINARY_DIR}/guest/kernel/nub_guest_kernel.elf)
add_dependencies(nubhost_objects nub_guest_kernel)
target_include_directories(nubhost_objects PRIVATE ${PROJECT_SOURCE_DIR}/include
                           ${PROJECT_SOURCE_DIR}/abi ${PROJECT_SOURCE_DIR}/guest/pvm
                           ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(nubhost_objects PRIVATE nub_hosted_flags)
set_target_properties(nubhost_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)

# libnubhost's own public headers (installed under include/nub/ with the
# abi/ ones, NUB_ABI_PUBLIC_HEADERS). A header of include/nub/ that belongs
# to another library is not listed here.
set(NUB_HOST_PUBLIC_HEADERS ${PROJECT_SOURCE_DIR}/include/nub/host.h
    CACHE INTERNAL "include/nub headers of libnubhost")

find_package(Threads REQUIRED)
set(_nubhost_objects $<TARGET_OBJECTS:nubhost_objects> $<TARGET_OBJECTS:nub_abi_objects>)
add_library(nubhost STATIC ${_nubhost_objects})
add_library(nubhost_shared SHARED ${_nubhost_objects})
foreach(t nubhost nubhost_shared)
  # In the build tree the headers come from include/ and abi/ (and abi/'s
  # public headers also as <nub/...>, copied by abi/CMakeLists.txt);
  # installed, abi/'s public headers sit next to nub/host.h.
  target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                             $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
                             $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/abi>
                             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${t} PUBLIC Threads::Threads)
  set_target_properties(${t} PROPERTIES OUTPUT_NAME nubhost)
endforeach()
# The shared library exports the nub_* API only (libnubhost.map); its soname
# changes with the major version.
set_target_properties(nubhost_shared PROPERTIES
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  EXPORT_NAME nubhost LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/libnubhost.map)
target_link_options(nubhost_shared PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_LIST_DIR}/libnubhost.map)
# Every symbol resolved at link time, except in sanitizer builds, where the
# ASan/UBSan runtime comes with the executable that loads the library.
if(NOT NUB_SANITIZE)
  target_link_options(nubhost_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(nubhost PROPERTIES EXPORT_NAME nubhost_static)
# The names a consumer uses, for add_subdirectory / FetchContent as installed.
add_library(nubhost::nubhost ALIAS nubhost_shared)
add_library(nubhost::nubhost_static ALIAS nubhost)

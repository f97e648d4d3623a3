# What `cmake --install` puts under the prefix (GNUInstallDirs paths):
#   lib/libnubhost.so.X.Y.Z (+ soname link, + libnubhost.so), lib/libnubhost.a
#   include/nub/host.h and the abi/ headers it includes (nub_abi.h, ...):
#   NUB_HOST_PUBLIC_HEADERS and NUB_ABI_PUBLIC_HEADERS
#   lib/pkgconfig/nubhost.pc
#   lib/cmake/nubhost/{nubhostConfig,nubhostConfigVersion,nubhostTargets*}.cmake
#   bin/{nubrun,pvmasm,pvmdis,rv2pvm,nub-cc}
#   share/nub-cc/{include/nub_pvm.h,include/string.h,libc/nub_libc.c,nub_pvm.ld}
# Everything refers to everything else by relative paths, so the installed
# tree can be moved.
include(CMakePackageConfigHelpers)

set(NUB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/nubhost)

install(TARGETS nubhost_shared nubhost EXPORT nubhostTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(FILES ${NUB_HOST_PUBLIC_HEADERS} ${NUB_ABI_PUBLIC_HEADERS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nub COMPONENT development)

install(EXPORT nubhostTargets NAMESPACE nubhost:: DESTINATION ${NUB_INSTALL_CMAKEDIR}
        COMPONENT development)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/nubhostConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nubhostConfig.cmake INSTALL_DESTINATION ${NUB_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nubhostConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nubhostConfig.cmake
              ${PROJECT_BINARY_DIR}/nubhostConfigVersion.cmake
        DESTINATION ${NUB_INSTALL_CMAKEDIR} COMPONENT development)

# nubhost.pc finds the prefix from its own folder (${pcfiledir}), so it
# stays right when the tree moves; an absolute libdir pins it instead.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NUB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(NUB_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _up /nub-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /nub-prefix)
  set(NUB_PC_PREFIX "\${pcfiledir}/${_up}")
  set(NUB_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(NUB_PC_BINDIR "${CMAKE_INSTALL_BINDIR}")
else()
  set(NUB_PC_BINDIR "\${prefix}/${CMAKE_INSTALL_BINDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(NUB_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(NUB_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/nubhost.pc.in ${PROJECT_BINARY_DIR}/nubhost.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nubhost.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT development)

# The tools, when built.
foreach(tool nubrun pvmasm pvmdis rv2pvm)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  endif()
endforeach()
if(TARGET nub-cc)
  install(PROGRAMS ${NUB_CC_INSTALL_SCRIPT} DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME nub-cc
          COMPONENT tools)
  foreach(f ${NUB_CC_SHARED_FILES})
    get_filename_component(_dir ${f} DIRECTORY)
    install(FILES ${PROJECT_SOURCE_DIR}/tools/nub-cc/${f}
            DESTINATION ${CMAKE_INSTALL_DATADIR}/nub-cc/${_dir} COMPONENT tools)
  endforeach()
endif()

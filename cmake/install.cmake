include(CMakePackageConfigHelpers)

install(TARGETS aw_events EXPORT aw-events-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/aw DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT aw-events-targets NAMESPACE aw-events::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aw-events)

configure_package_config_file(cmake/aw-events-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/aw-events-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aw-events)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/aw-events-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/aw-events-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/aw-events-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aw-events)

# Relocatable: the prefix is found from the .pc file's own place, so `cmake --install --prefix X` works.
file(RELATIVE_PATH AW_PC_PREFIX_FROM_PCFILEDIR "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(cmake/aw-events.pc.in ${CMAKE_CURRENT_BINARY_DIR}/aw-events.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/aw-events.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Turns project files into C arrays so the binary carries them (no install-time data files).
# Each file F listed in DOCKERBUMP_EMBED becomes `embed_<name>` / `embed_<name>_len` in
# ${CMAKE_CURRENT_BINARY_DIR}/embed/embed_<name>.c, declared in updater/embedded.h.
set(DOCKERBUMP_EMBED docker/loop.py)
set(DOCKERBUMP_EMBEDDED_SOURCES "")
foreach(rel IN LISTS DOCKERBUMP_EMBED)
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${rel})
    continue()
  endif()
  get_filename_component(stem ${rel} NAME_WE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embed/embed_${stem}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/${rel} -DOUT=${out} -DNAME=${stem}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed-file.cmake
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${rel} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed-file.cmake
    COMMENT "Embedding ${rel}")
  list(APPEND DOCKERBUMP_EMBEDDED_SOURCES ${out})
endforeach()

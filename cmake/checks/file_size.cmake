# Fails when a source file exceeds the project's budget of 600 lines (blank lines count: with
# CMP0007 NEW the empty elements of the line list are kept).
cmake_policy(SET CMP0007 NEW)
file(GLOB_RECURSE _files ${ROOT}/cng_model/*.cpp ${ROOT}/cng_model/*.h ${ROOT}/module/*.cpp
     ${ROOT}/module/*.h ${ROOT}/slots/*.cpp ${ROOT}/slots/*.h ${ROOT}/cli/*.cpp ${ROOT}/cli/*.h ${ROOT}/tests/*.cpp ${ROOT}/tests/*.h
     ${ROOT}/fuzz/*.cpp ${ROOT}/bench/*.cpp)
set(_bad "")
foreach(_f IN LISTS _files)
  file(STRINGS ${_f} _lines)
  list(LENGTH _lines _n)
  if(_n GREATER 600)
    list(APPEND _bad "${_f} (${_n} lines)")
  endif()
endforeach()
if(_bad)
  message(FATAL_ERROR "Files over 600 lines: ${_bad}")
endif()

# Fails when a source file exceeds the hard limit of 1000 lines (the soft aim is 600).
file(GLOB_RECURSE _files ${ROOT}/cng_model/*.cpp ${ROOT}/cng_model/*.h ${ROOT}/module/*.cpp
     ${ROOT}/module/*.h ${ROOT}/slots/*.cpp ${ROOT}/slots/*.h ${ROOT}/cli/*.cpp ${ROOT}/tests/*.cpp)
set(_bad "")
foreach(_f IN LISTS _files)
  file(STRINGS ${_f} _lines)
  list(LENGTH _lines _n)
  if(_n GREATER 1000)
    list(APPEND _bad "${_f} (${_n} lines)")
  endif()
endforeach()
if(_bad)
  message(FATAL_ERROR "Files over 1000 lines: ${_bad}")
endif()
